// The Access rules tab: who may use which doors, when (days and hours) and on holidays, read from the hub's access
// rules (rules/list), with the holiday calendar; a resident chosen here shows the doors and hours they have. A
// rule can be removed (rules/remove, the action remove_access_rule); rules are added with the add_access_rule
// action (docs/panel.md).

import { esc, h } from "../shared/html.js";

const DAY_NAMES = { mon: "Mon", tue: "Tue", wed: "Wed", thu: "Thu", fri: "Fri", sat: "Sat", sun: "Sun" };

function daysText(days) {
  if (days.length === 7) return "Every day";
  if (days.join() === "mon,tue,wed,thu,fri") return "Mon–Fri";
  if (days.join() === "sat,sun") return "Weekends";
  return days.length ? days.map((d) => DAY_NAMES[d] || d).join(", ") : "No weekday";
}

function hoursText(rule) {
  if (rule.all_day) return "All day";
  return `${rule.start}–${rule.end}${rule.start > rule.end ? " (overnight)" : ""}`;
}

function doorsText(rule) {
  return rule.doors.map((d) => (d.area ? `${d.name} (${d.area})` : d.name)).join(", ");
}

// Whether a rule applies to a resident: everyone, the resident by id, or their building.
export function ruleApplies(rule, resident) {
  if (!resident) return false;
  return rule.everyone || rule.residents.some((r) => r.resident_id === resident.resident_id)
    || (!!resident.building && rule.buildings.includes(resident.building));
}

export const AccessRulesTab = (Base) => class extends Base {
  _renderRulesTab() {
    this._view.innerHTML = esc(h`
      <section class="card"><header><h2>Access rules</h2></header>
        <p class="muted">Who may use which doors, and when. On a holiday a rule applies only if it says so.</p>
        <div id="rules-table">${this._loadingHtml("Loading the access rules…")}</div></section>
      <section class="card"><header><h2>A resident's doors and hours</h2></header>
        <label class="field"><span>Resident</span>
          <select data-change="rules-resident" data-testid="rules-resident" id="rules-resident"></select></label>
        <div id="rules-resident-doors" data-testid="rules-resident-doors"></div></section>
      <section class="card"><header><h2>Holidays</h2></header><div id="rules-holidays"></div></section>`);
    this._renderRules();
  }

  async _loadRules() {
    const req = (this._rulesReq = (this._rulesReq || 0) + 1);
    try {
      const result = await this._ws("rules/list");
      if (req !== this._rulesReq) return;
      this._rules = result;
    } catch (err) {
      if (req === this._rulesReq) this._setError(err);
      return;
    }
    if (!this._allResidents) await this._loadAllResidents("");
    if (this._tab === "access-rules") this._renderRules();
  }

  _renderRules() {
    const data = this._rules;
    if (!data) return;
    const who = (rule) => [rule.everyone ? "Everyone" : "",
      ...rule.residents.map((r) => (r.full_name ? `${r.full_name} (${r.resident_id})` : r.resident_id)),
      ...rule.buildings.map((b) => `Building ${b}`)].filter(Boolean).join(", ") || "Nobody";
    this._set("#rules-table", data.rules.length ? h`<div class="table-wrap"><table class="stack">
      <thead><tr><th>Rule</th><th>Doors</th><th>Days</th><th>Hours</th><th>Holidays</th><th>Who</th><th></th></tr></thead>
      <tbody>${data.rules.map((rule) => h`<tr data-testid="rule-row" data-rule-id="${rule.rule_id}">
        <td data-label="Rule">${rule.name} <span class="muted mono">${rule.rule_id}</span></td>
        <td data-label="Doors" data-testid="rule-doors">${doorsText(rule)}</td>
        <td data-label="Days">${daysText(rule.weekdays)}</td>
        <td data-label="Hours">${hoursText(rule)}</td>
        <td data-label="Holidays">${rule.on_holidays ? "Also on holidays" : "Not on holidays"}</td>
        <td data-label="Who" class="wrap">${who(rule)}</td>
        <td><button type="button" class="btn text danger" data-action="rule-remove" data-rule-id="${rule.rule_id}"
          data-testid="rule-remove">Remove</button></td></tr>`)}</tbody></table></div>`
      : h`<div class="empty" data-testid="empty-state"><div class="big">No access rules</div>
          Nobody can open a door with a card, PIN or face until a rule lets them (the add_access_rule action).</div>`);
    this._set("#rules-holidays", data.holidays.length ? h`<ul>${data.holidays.map((d) => h`<li>${d.day}: ${d.name}</li>`)}</ul>`
      : h`<div class="muted">No holidays in the calendar.</div>`);
    const sel = this._$("#rules-resident");
    if (sel && this._allResidents) {
      const current = this._rulesResident || "";
      sel.innerHTML = esc(h`<option value="">Choose a resident</option>${this._allResidents.residents.map((r) => h`<option
        value="${r.resident_id}" ${r.resident_id === current ? "selected" : ""}>${r.full_name} (${r.resident_id})</option>`)}`);
    }
    this._renderResidentRules();
  }

  _selectRulesResident(residentId) {
    this._rulesResident = residentId;
    this._renderResidentRules();
  }

  _renderResidentRules() {
    const residents = (this._allResidents && this._allResidents.residents) || [];
    const resident = residents.find((r) => r.resident_id === this._rulesResident);
    if (!resident || !this._rules) {
      this._set("#rules-resident-doors", "");
      return;
    }
    const rules = this._rules.rules.filter((rule) => ruleApplies(rule, resident));
    this._set("#rules-resident-doors", rules.length ? h`<ul>${rules.map((rule) => h`<li data-testid="resident-rule">
        <strong>${doorsText(rule)}</strong>: ${daysText(rule.weekdays)}, ${hoursText(rule)}${rule.on_holidays ? "" : ", not on holidays"}
        <span class="muted">(${rule.name})</span></li>`)}</ul>`
      : h`<div class="muted">${resident.full_name} may use no door: no rule names them, their building or everyone.</div>`);
  }

  async _removeRule(el, ruleId) {
    const ok = await this._confirm({ title: "Remove this access rule?", body: `Rule ${ruleId}: the people it names lose access to its doors at once.`,
      confirmLabel: "Remove", testid: "rule-remove-confirm" });
    if (!ok) return;
    const done = await this._task("rule-remove", () => this._ws("rules/remove", { rule_id: ruleId }));
    if (done !== undefined) this._loadRules();
  }
};
