// The Access log tab: filters (a person by name, quick ranges), newest-first pages with places by name and reasons
// in words, a live refresh, the CSV export (a signed download URL from the hub) and a card look-up by number.

import { inputToIso, toInput } from "../shared/format.js";
import { esc, h, safeUrl } from "../shared/html.js";
import { disablePager, newerPage, olderPage, pagerHtml } from "../shared/pages.js";
import { PAGE } from "../shared/panel-base.js";

const RANGES = [["hour", "Last hour"], ["today", "Today"], ["week", "Last 7 days"]];
const LIVE_SECONDS = 5;

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
            <label class="field"><span>Person (name or resident id)</span>
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
          <div class="row" role="group" aria-label="Quick ranges">
            <span class="muted">Show:</span>
            ${RANGES.map(([id, label]) => h`<button type="button" class="btn secondary" data-action="log-range"
              data-range="${id}" data-testid="log-range-${id}">${label}</button>`)}
            <label class="row"><input type="checkbox" data-change="log-live" data-testid="log-live"
              ${this._l.live ? "checked" : ""}> Live (refresh every ${LIVE_SECONDS} s)</label>
          </div>
          <div id="log-person-note" data-testid="log-person-note"></div>
        </form>
      </section>
      <section class="card">
        <form data-form="card-lookup" novalidate class="row">
          <label class="field"><span>Look up a card by its number</span>
            <input name="card_number" data-testid="card-lookup-number" autocomplete="off" inputmode="text"
              placeholder="Card number"></label>
          <button type="submit" class="btn secondary" data-testid="card-lookup" data-busy="card-lookup"
            ${this._dis("card-lookup")}>Look up</button>
        </form>
        <div id="card-lookup-result" data-testid="card-lookup-result">${this._cardLookupHtml()}</div>
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
      ${d.door_id === current ? "selected" : ""}>${d.name || d.door_id}${d.area ? ` (${d.area})` : ""}</option>`)}`);
  }

  _renderLogPeople() {
    const list = this._$("#log-people");
    if (!list || !this._allResidents) return;
    list.innerHTML = esc(this._allResidents.residents.map((r) => h`<option value="${r.full_name}">${[r.building, r.unit].filter(Boolean).join(" ")} ${r.resident_id}</option>`));
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
    if (f.residentId) out.resident_id = f.residentId;
    if (f.result) out.result = f.result;
    return out;
  }

  // The person typed: an exact resident id, else residents whose name (or unit) holds every word. None: the
  // message says so and nothing is loaded; several: the manager picks one.
  async _resolvePerson(text) {
    if (!text) return { residentId: "" };
    const known = (this._allResidents && this._allResidents.residents) || [];
    const byId = known.find((r) => r.resident_id === text);
    if (byId) return { residentId: byId.resident_id, label: `${byId.full_name} (${byId.resident_id})` };
    const result = await this._ws("residents/list", { query: text, offset: 0, limit: 20 });
    const found = result.residents || [];
    this._remember(found);
    const exact = found.filter((r) => r.full_name.toLowerCase() === text.toLowerCase());
    const match = exact.length === 1 ? exact : found;
    if (match.length === 1) return { residentId: match[0].resident_id, label: `${match[0].full_name} (${match[0].resident_id})` };
    return { residentId: null, matches: match, total: result.total || 0 };
  }

  _personNote(note) {
    this._set("#log-person-note", note || "");
  }

  async _applyLog() {
    const l = this._l;
    l.form = this._readLogForm();
    if (l.form.since && l.form.until && l.form.since >= l.form.until) {
      this._setError("“Since” must be before “Until”.");
      return false;
    }
    this._setError(null);
    let person;
    try {
      person = await this._resolvePerson(l.form.person);
    } catch (err) {
      this._setError(err);
      return false;
    }
    if (person.residentId === null) {
      if (!person.matches.length) {
        this._personNote(h`<div class="banner" role="alert" data-testid="log-no-person"><div class="msg">No resident called
          “${l.form.person}”. Check the spelling, or leave the person empty to see everyone.</div></div>`);
      } else {
        this._personNote(h`<div class="banner" role="status" data-testid="log-pick-person"><div class="msg">
          ${person.total} residents match “${l.form.person}”: pick one.
          ${person.matches.map((r) => h`<button type="button" class="btn text" data-action="log-pick" data-resident-id="${r.resident_id}"
            data-testid="log-pick">${r.full_name} <span class="muted mono">${[r.building, r.unit].filter(Boolean).join(" ")} ${r.resident_id}</span></button>`)}
        </div></div>`);
      }
      return false;
    }
    this._personNote(person.label ? h`<div class="muted" data-testid="log-person-resolved">Showing ${person.label}.</div>` : "");
    l.applied = { ...l.form, residentId: person.residentId };
    l.stack = [];
    l.before = null;
    this._loadLog();
    return true;
  }

  _logPick(residentId) {
    const input = this._$('[data-testid="log-person"]');
    if (input) input.value = residentId;
    this._applyLog();
  }

  // Quick ranges in the user's time zone: the last hour, today since midnight, the last 7 days (no "until").
  _logRange(range) {
    const tz = this._tz();
    const now = new Date();
    let since;
    if (range === "hour") since = toInput(new Date(now.getTime() - 3600e3), tz);
    else if (range === "today") since = `${toInput(now, tz).slice(0, 10)}T00:00`;
    else since = toInput(new Date(now.getTime() - 7 * 86400e3), tz);
    const form = this._$('form[data-form="log"]');
    if (!form) return;
    form.elements.namedItem("since").value = since;
    form.elements.namedItem("until").value = "";
    this._applyLog();
  }

  // Live: the newest page is read again every LIVE_SECONDS while the tab shows it (older pages stay as they are).
  _logLive(on) {
    const l = this._l;
    l.live = !!on;
    clearInterval(this._timers.logLive);
    this._timers.logLive = null;
    if (!l.live) return;
    this._timers.logLive = setInterval(() => {
      if (!this.isConnected || this._tab !== "access-log" || l.stack.length || l.before !== null) return;
      if (this._busy.has("log") || !l.applied) return;
      this._loadLog();
    }, LIVE_SECONDS * 1000);
  }

  // A card by its number: who holds it (administrators only). The number is sent once and not kept here.
  async _lookupCard(form) {
    const input = form.elements.namedItem("card_number");
    const number = (input.value || "").trim();
    if (!number) {
      this._setError("Type the card's number.");
      return;
    }
    const result = await this._task("card-lookup", () => this._ws("cards/lookup", { card_number: number }));
    input.value = "";
    if (!result) return;
    this._l.card = result;
    this._set("#card-lookup-result", this._cardLookupHtml());
  }

  _cardLookupHtml() {
    const c = this._l.card;
    if (!c) return "";
    if (!c.found) return h`<div class="muted" data-testid="card-lookup-none">No card with this number is registered.</div>`;
    return h`<div data-testid="card-lookup-found">Card ending ${c.hint}${c.revoked ? " (revoked)" : ""} belongs to
      <strong>${c.resident_name || "an erased resident"}</strong> <span class="muted mono">${c.resident_id}</span>.
      ${c.resident_name ? h`<button type="button" class="btn text" data-action="log-pick" data-resident-id="${c.resident_id}"
        data-testid="card-lookup-entries">Show their entries</button>` : ""}</div>`;
  }

  async _loadLog() {
    const l = this._l;
    const req = ++l.req;
    this._setBusy("log", true);
    disablePager(this.shadowRoot, "log");
    const table = this._$("#log-table");
    if (table && l.events) table.setAttribute("aria-busy", "true");
    try {
      const result = await this._ws("access_log/list", {
        ...this._logFilters(l.applied || {}), before: l.before ?? undefined, limit: PAGE, language: this._lang(),
      });
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
          <td data-label="Door">${e.door_name || e.door || "—"}${e.door_area ? h` <span class="muted">${e.door_area}</span>` : ""}</td>
          <td data-label="Person">${e.resident_name ? h`${e.resident_name} <span class="muted mono">${e.resident_id}</span>` : e.resident_id || h`<span class="muted">unknown</span>`}</td>
          <td data-label="Result"><span class="badge ${e.result === "granted" ? "ok" : e.result === "denied" ? "bad" : ""}">${e.result || "—"}</span></td>
          <td data-label="Reason" title="${e.reason || ""}">${e.reason_text || e.reason || "—"}</td>
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
    const { residentId, ...applied } = l.applied || {};
    if (JSON.stringify(form) !== JSON.stringify(applied) && !(await this._applyLog())) return;
    const filters = this._logFilters(l.applied || {});
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
