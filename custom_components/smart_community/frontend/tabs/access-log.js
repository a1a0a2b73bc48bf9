// The Access log tab: filters, newest-first pages, and the CSV export (a signed download URL from the hub).

import { inputToIso } from "../shared/format.js";
import { esc, h, safeUrl } from "../shared/html.js";
import { disablePager, newerPage, olderPage, pagerHtml } from "../shared/pages.js";
import { PAGE } from "../shared/panel-base.js";

export const AccessLogTab = (Base) => class extends Base {
  _renderLogTab() {
    const f = this._l.form;
    this._view.innerHTML = esc(h`
      <section class="card">
        <form data-form="log" novalidate>
          <div class="form-grid three">
            <label class="field"><span>Since</span><input type="datetime-local" name="since" data-testid="log-since" value="${f.since}"></label>
            <label class="field"><span>Until</span><input type="datetime-local" name="until" data-testid="log-until" value="${f.until}"></label>
            <label class="field"><span>Door</span><select name="door" data-testid="log-door" id="log-door"></select></label>
            <label class="field"><span>Person (resident id)</span>
              <input name="person" data-testid="log-person" list="log-people" value="${f.person}" autocomplete="off" placeholder="Any person">
              <datalist id="log-people"></datalist></label>
            <label class="field"><span>Result</span>
              <select name="result" data-testid="log-result">
                <option value="" ${!f.result ? "selected" : ""}>All</option>
                <option value="granted" ${f.result === "granted" ? "selected" : ""}>Granted</option>
                <option value="denied" ${f.result === "denied" ? "selected" : ""}>Denied</option>
              </select></label>
            <div class="row" style="align-self:end">
              <button type="submit" class="btn" data-testid="log-apply" data-busy="log" ${this._dis("log")}>Apply</button>
              <button type="button" class="btn secondary" data-testid="log-export" data-action="log-export"
                data-busy="log-export" ${this._dis("log-export")}>Export CSV</button>
            </div>
          </div>
        </form>
      </section>
      <section class="card"><div id="log-table">${this._loadingHtml("Loading the access log…")}</div></section>`);
    this._renderLogDoors();
    this._renderLogPeople();
  }

  _renderLogDoors() {
    const sel = this._$("#log-door");
    if (!sel) return;
    const current = sel.value || this._l.form.door;
    const doors = (this._overview && this._overview.doors) || [];
    sel.innerHTML = esc(h`<option value="">All doors</option>${doors.map((d) => h`<option value="${d.door_id}"
      ${d.door_id === current ? "selected" : ""}>${d.name || d.door_id}</option>`)}`);
  }

  _renderLogPeople() {
    const list = this._$("#log-people");
    if (!list || !this._allResidents) return;
    list.innerHTML = esc(this._allResidents.residents.map((r) => h`<option value="${r.resident_id}">${r.full_name}</option>`));
  }

  _readLogForm() {
    const form = this._$('form[data-form="log"]');
    if (!form) return { ...this._l.form };
    const val = (n) => (form.elements.namedItem(n) ? form.elements.namedItem(n).value.trim() : "");
    return { since: val("since"), until: val("until"), door: val("door"), person: val("person"), result: val("result") };
  }

  _logFilters(f) {
    const tz = this._tz();
    const out = {};
    if (f.since) out.since = inputToIso(f.since, tz);
    if (f.until) out.until = inputToIso(f.until, tz);
    if (f.door) out.door = f.door;
    if (f.person) out.resident_id = f.person;
    if (f.result) out.result = f.result;
    return out;
  }

  _applyLog() {
    const l = this._l;
    l.form = this._readLogForm();
    if (l.form.since && l.form.until && l.form.since >= l.form.until) {
      this._setError("“Since” must be before “Until”.");
      return;
    }
    this._setError(null);
    l.applied = { ...l.form };
    l.stack = [];
    l.before = null;
    this._loadLog();
  }

  async _loadLog() {
    const l = this._l;
    const req = ++l.req;
    this._setBusy("log", true);
    disablePager(this.shadowRoot, "log");
    const table = this._$("#log-table");
    if (table && l.events) table.setAttribute("aria-busy", "true");
    try {
      const result = await this._ws("access_log/list", { ...this._logFilters(l.applied || {}), before: l.before ?? undefined, limit: PAGE });
      if (req !== l.req) return;
      l.events = result.events || [];
      l.next = result.next_before ?? null;
    } catch (err) {
      if (req !== l.req) return;
      this._setError(err);
      if (!l.events) this._set("#log-table", h`<div class="empty">The access log could not be loaded.</div>`);
      else if (this._tab === "access-log") this._renderLog();
      return;
    } finally {
      if (req === l.req) this._setBusy("log", false);
    }
    if (this._tab === "access-log") this._renderLog();
  }

  _renderLog() {
    const l = this._l;
    const el = this._$("#log-table");
    if (!el || !l.events) return;
    el.removeAttribute("aria-busy");
    el.innerHTML = esc(h`
      ${l.events.length ? h`<div class="table-wrap"><table class="stack">
        <thead><tr><th>Time</th><th>Door</th><th>Person</th><th>Result</th><th>Reason</th><th>Credential</th></tr></thead>
        <tbody>${l.events.map((e) => h`<tr data-testid="log-row" data-seq="${e.seq}" data-result="${e.result}">
          <td data-label="Time">${this._fmt(e.occurred_at)}</td>
          <td data-label="Door">${e.door_name || e.door || "—"}</td>
          <td data-label="Person">${e.resident_name ? h`${e.resident_name} <span class="muted mono">${e.resident_id}</span>` : e.resident_id || h`<span class="muted">unknown</span>`}</td>
          <td data-label="Result"><span class="badge ${e.result === "granted" ? "ok" : e.result === "denied" ? "bad" : ""}">${e.result || "—"}</span></td>
          <td data-label="Reason">${e.reason || "—"}</td>
          <td data-label="Credential">${e.credential || "—"}</td>
        </tr>`)}</tbody></table></div>`
      : h`<div class="empty" data-testid="empty-state"><div class="big">No access events${l.stack.length ? " on this page" : ""}</div>
          ${Object.values(l.applied || {}).some(Boolean) ? "No events match these filters." : "Events appear here as people use the doors."}</div>`}
      ${pagerHtml("log", l)}`);
  }

  _logOlder() {
    if (olderPage(this._l)) this._loadLog();
  }

  _logNewer() {
    if (newerPage(this._l)) this._loadLog();
  }

  async _exportLog() {
    const l = this._l;
    const form = this._readLogForm();
    if (form.since && form.until && form.since >= form.until) {
      this._setError("“Since” must be before “Until”.");
      return;
    }
    if (JSON.stringify(form) !== JSON.stringify(l.applied || {})) this._applyLog();
    const filters = this._logFilters(form);
    const result = await this._task("log-export", () => this._ws("access_log/export", filters), { keepError: true });
    if (!result) return;
    const url = safeUrl(result.url);
    if (!url) {
      this._setError("The hub returned an unusable download address.");
      return;
    }
    const a = document.createElement("a");
    a.href = url;
    a.download = result.filename || "access-log.csv";
    a.rel = "noopener";
    a.style.display = "none";
    this.shadowRoot.querySelector(".root").appendChild(a);
    a.click();
    a.remove();
  }
};
