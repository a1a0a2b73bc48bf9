// Smart Community: the property managers' panel (Home Assistant sidebar, loaded by panel_custom as an ES module).
//
// One plain web component, no build step and no dependencies. It talks to the integration only through
// hass.callWS({type: "smart_community/<name>", ...}); the commands are documented in docs/panel.md.
// Every interpolated value goes through the `h` tagged template, which escapes it unless it is itself `h` output.

import { CSV_COLUMNS, csvDelimiter, parseCsv } from "./shared/csv.js";
import { MAX_PHOTO_BYTES, PHOTO_TYPES, readBase64, readText } from "./shared/files.js";
import { errMsg, fmtDuration, inputToIso, pct, plural, toInput } from "./shared/format.js";
import { esc, h, pngData, Raw, safeUrl } from "./shared/html.js";
import { PAGE, PanelBase } from "./shared/panel-base.js";
import { STYLE } from "./shared/styles.js";

const TABS = [
  ["residents", "Residents"],
  ["credentials", "Credentials & visitors"],
  ["access-log", "Access log"],
  ["devices", "Devices"],
  ["uplink", "Uplink"],
  ["audit", "Audit"],
  ["import", "Import"],
];
const DEVICE_REFRESH_MS = 5000;
const SEARCH_DEBOUNCE_MS = 300;
const RESIDENT_FIELDS = ["resident_id", "full_name", "household", "building", "unit", "valid_from", "valid_until",
  "guardian", "status"];

class SmartCommunityPanel extends PanelBase {
  constructor() {
    super();
    this._hass = null;
    this._narrow = false;
    this._route = null;
    this._panel = null;
    this._inited = false;
    this._tab = "residents";
    this._busy = new Set();
    this._timers = {};
    this._names = new Map();
    this._overview = null;
    this._error = null;
    this._allResidents = null;
    this._r = {
      query: "", offset: 0, total: 0, list: null, req: 0, mode: "list", notice: null,
      editing: null, formError: null, detail: null, detailReq: 0, receipt: null,
      faces: { items: [], running: false, done: 0, run: 0, note: null },
    };
    this._c = { selected: "", resident: null, req: 0, passes: null, includeInactive: false, qr: null, filter: "" };
    this._l = {
      form: { since: "", until: "", door: "", person: "", result: "" }, applied: null,
      stack: [], before: null, events: null, next: null, req: 0,
    };
    this._d = { data: null, reports: null, inflight: false };
    this._u = { data: null };
    this._a = { entries: null, before: null, stack: [], next: null, verify: null, req: 0 };
    this._i = {
      csvFile: null, csvText: "", csv: null, photos: [], folder: [], running: false,
      progress: null, photoResults: [], report: null,
    };
    this.attachShadow({ mode: "open" });
    this._build();
  }

  // -- properties set by Home Assistant ------------------------------------------------------------------------

  set hass(hass) {
    const first = !this._hass;
    this._hass = hass;
    if (this._menuButton) this._menuButton.hass = hass;
    if (first && hass) {
      this._init();
      this._updateNarrow();
    }
  }

  get hass() {
    return this._hass;
  }

  set narrow(narrow) {
    this._narrow = !!narrow;
    this._updateNarrow();
  }

  get narrow() {
    return this._narrow;
  }

  set route(route) {
    this._route = route;
  }

  get route() {
    return this._route;
  }

  set panel(panel) {
    this._panel = panel;
  }

  get panel() {
    return this._panel;
  }

  connectedCallback() {
    this._updateNarrow();
    if (this._inited && this._tab === "devices") this._startDeviceTimer();
  }

  disconnectedCallback() {
    this._stopDeviceTimer();
    clearTimeout(this._timers.search);
    clearTimeout(this._timers.credSearch);
  }

  // -- skeleton, events -----------------------------------------------------------------------------------------

  _build() {
    const root = this.shadowRoot;
    root.innerHTML = `${h`<style>${new Raw(STYLE)}</style>`}${h`
      <div class="root">
        <div class="top">
          <div class="header">
            <span class="menu-slot"></span>
            <div class="title">Community</div>
            <div class="sub" id="subtitle"></div>
          </div>
          <nav class="tabs" role="tablist" aria-label="Community sections">
            ${TABS.map(([id, label]) => h`<button type="button" class="tab" role="tab" id="tabbtn-${id}"
              data-testid="tab-${id}" data-action="tab" data-tab="${id}" aria-controls="view"
              aria-selected="${id === this._tab ? "true" : "false"}">${label}</button>`)}
          </nav>
          <div id="banner-slot"></div>
        </div>
        <main class="content" id="view" role="tabpanel"></main>
      </div>`}`;
    this._view = root.getElementById("view");
    root.addEventListener("click", (ev) => this._onClick(ev));
    root.addEventListener("keydown", (ev) => this._onKey(ev));
    root.addEventListener("input", (ev) => this._onInput(ev));
    root.addEventListener("change", (ev) => this._onChange(ev));
    root.addEventListener("submit", (ev) => this._onSubmit(ev));
    this._renderTabContent();
  }

  _updateNarrow() {
    // Like Home Assistant's own panels: one ha-menu-button, created once and never moved (it shows itself only
    // when the sidebar is hidden, and manages its own notification subscription).
    const slot = this._$(".menu-slot");
    if (!slot || !this._hass) return;
    if (!this._menuButton) {
      this._menuButton = document.createElement("ha-menu-button");
      this._menuButton.hass = this._hass;
      this._menuButton.narrow = this._narrow;
      slot.appendChild(this._menuButton);
    } else {
      this._menuButton.narrow = this._narrow;
    }
  }

  _onClick(ev) {
    const el = ev.target.closest("[data-action]");
    if (!el || el.disabled) return;
    // A click on a control inside a clickable row belongs to that control.
    if (el.tagName === "TR" && ev.target.closest("button, a, input, select, label")) return;
    this._action(el.dataset.action, el, ev);
  }

  _onKey(ev) {
    const el = ev.target;
    if ((ev.key === "ArrowRight" || ev.key === "ArrowLeft") && el && el.getAttribute && el.getAttribute("role") === "tab") {
      const ids = TABS.map(([id]) => id);
      const next = ids[(ids.indexOf(el.dataset.tab) + (ev.key === "ArrowRight" ? 1 : ids.length - 1)) % ids.length];
      ev.preventDefault();
      this._showTab(next);
      const btn = this._$(`#tabbtn-${next}`);
      if (btn) btn.focus();
      return;
    }
    if (ev.key !== "Enter" && ev.key !== " ") return;
    if (el && el.tagName === "TR" && el.dataset.action) {
      ev.preventDefault();
      this._action(el.dataset.action, el, ev);
    }
    if (el && el.getAttribute && el.getAttribute("role") === "tab" && ev.key === " ") {
      ev.preventDefault();
      this._action("tab", el, ev);
    }
  }

  _onInput(ev) {
    const el = ev.target;
    if (el.dataset.input === "res-search") {
      clearTimeout(this._timers.search);
      const value = el.value;
      this._timers.search = setTimeout(() => {
        this._r.notice = null;
        const note = this._$(".notice");
        if (note) note.remove();
        this._r.query = value.trim();
        this._r.offset = 0;
        this._loadResidents();
      }, SEARCH_DEBOUNCE_MS);
    } else if (el.dataset.input === "cred-filter") {
      clearTimeout(this._timers.credSearch);
      const value = el.value;
      this._timers.credSearch = setTimeout(() => {
        this._c.filter = value.trim();
        this._loadAllResidents(this._c.filter);
      }, SEARCH_DEBOUNCE_MS);
    }
    if (el.getAttribute("aria-invalid") === "true") el.removeAttribute("aria-invalid");
  }

  _onChange(ev) {
    const el = ev.target;
    switch (el.dataset.change) {
      case "face-photos":
        this._checkFaces(Array.from(el.files || []));
        el.value = "";
        break;
      case "cred-resident":
        this._selectCredResident(el.value);
        break;
      case "pass-inactive":
        this._c.includeInactive = el.checked;
        this._loadPasses();
        break;
      case "import-csv":
        this._importCsvChosen(el.files && el.files[0]);
        break;
      case "import-photos":
        this._i.photos = Array.from(el.files || []);
        this._renderImportPlan();
        break;
      case "import-folder":
        this._i.folder = Array.from(el.files || []);
        this._renderImportPlan();
        break;
      case "resident-minor": {
        const g = this._$('[data-testid="resident-form-guardian"]');
        if (g) g.required = el.checked;
        break;
      }
      default:
        break;
    }
  }

  _onSubmit(ev) {
    const form = ev.target;
    if (!form.dataset || !form.dataset.form) return;
    ev.preventDefault();
    this._action(`submit-${form.dataset.form}`, form.querySelector('[type="submit"]') || form, ev);
  }

  _action(name, el, ev) {
    const d = el.dataset || {};
    switch (name) {
      case "tab": return this._showTab(d.tab);
      case "dismiss-error": return this._setError(null);
      case "res-add": return this._openResidentForm(null);
      case "res-show-all": return this._showAllResidents();
      case "res-prev": this._r.offset = Math.max(0, this._r.offset - PAGE); return this._loadResidents();
      case "res-next": this._r.offset += PAGE; return this._loadResidents();
      case "open-resident": return this._openResident(d.residentId);
      case "res-back": return this._backToList();
      case "res-edit": return this._openResidentForm(this._r.detail);
      case "res-cancel-form": return this._r.editing ? this._openResident(this._r.editing.resident_id) : this._backToList();
      case "submit-resident": return this._saveResident(el.form || el);
      case "submit-consent": return this._recordConsent(el.form || el);
      case "consent-withdraw": return this._withdrawConsent(el);
      case "face-enrol": return this._enrolFaces(el);
      case "face-clear": return this._clearFaces(true);
      case "resident-erase": return this._eraseResident(el);
      case "go-import": return this._showTab("import");
      case "submit-card": return this._addCard(el.form || el);
      case "card-revoke": return this._revokeCard(el, d.cardId);
      case "submit-pin": return this._setPin(el.form || el);
      case "pin-revoke": return this._revokePin(el);
      case "submit-pass": return this._issuePass(el.form || el);
      case "pass-qr": return this._showPassQr(el, d.passId);
      case "pass-revoke": return this._revokePass(el, d.passId);
      case "qr-close": this._c.qr = null; return this._renderQr();
      case "submit-log": return this._applyLog(el);
      case "log-older": return this._logOlder();
      case "log-newer": return this._logNewer();
      case "log-export": return this._exportLog(el);
      case "devices-refresh": return this._loadDevices(true);
      case "uplink-refresh": return this._loadUplink(el);
      case "audit-older": return this._auditOlder();
      case "audit-newer": return this._auditNewer();
      case "audit-verify": return this._verifyAudit(el);
      case "audit-refresh": this._a.stack = []; this._a.before = null; return this._loadAudit();
      case "import-run": return this._runImport(el);
      case "import-reset": return this._resetImport();
      default:
        return undefined;
    }
  }

  // -- start-up and tabs ----------------------------------------------------------------------------------------

  _init() {
    if (this._inited) return;
    this._inited = true;
    const path = (this._route && this._route.path) || "";
    const fromRoute = path.replace(/^\//, "").split("/")[0];
    if (TABS.some(([id]) => id === fromRoute)) this._tab = fromRoute;
    this._loadOverview();
    this._showTab(this._tab, true);
  }

  async _loadOverview() {
    try {
      this._overview = await this._ws("overview");
    } catch (err) {
      this._setError(err);
      return;
    }
    const o = this._overview || {};
    this._set("#subtitle", o.title ? h`${o.title} · ${plural(o.residents || 0, "resident")} · ${plural(o.enrolled_faces || 0, "enrolled face")}` : "");
    // Parts of tabs that need the doors.
    if (this._tab === "credentials") this._renderPassDoors();
    if (this._tab === "access-log") this._renderLogDoors();
  }

  _showTab(tab, force = false) {
    if (!TABS.some(([id]) => id === tab)) return;
    if (tab === this._tab && !force) {
      if (tab === "residents" && this._r.mode !== "list") this._backToList();
      return;
    }
    this._stopDeviceTimer();
    if (tab === "residents" && this._tab !== "residents" && this._r.mode !== "list") {
      this._clearFaces(false);
      Object.assign(this._r, { mode: "list", detail: null, editing: null, receipt: null });
    }
    this._tab = tab;
    this._setError(null);
    this.shadowRoot.querySelectorAll(".tab").forEach((btn) => {
      btn.setAttribute("aria-selected", btn.dataset.tab === tab ? "true" : "false");
      btn.tabIndex = btn.dataset.tab === tab ? 0 : -1;
    });
    const active = this._$(`#tabbtn-${tab}`);
    if (active && active.scrollIntoView && this._narrow) active.scrollIntoView({ block: "nearest", inline: "nearest" });
    this._view.setAttribute("aria-labelledby", `tabbtn-${tab}`);
    this._renderTabContent();
    if (!this._inited) return;
    switch (tab) {
      case "residents":
        if (this._r.mode === "list") this._loadResidents();
        break;
      case "credentials":
        this._loadAllResidents(this._c.filter);
        this._loadPasses();
        if (this._c.selected) this._loadCredResident();
        break;
      case "access-log":
        if (!this._allResidents) this._loadAllResidents("");
        if (!this._l.events) this._applyLog(null);
        else this._renderLog();
        break;
      case "devices":
        this._loadDevices(true);
        this._loadReports();
        this._startDeviceTimer();
        break;
      case "uplink":
        this._loadUplink(null);
        break;
      case "audit":
        this._loadAudit();
        break;
      default:
        break;
    }
  }

  _renderTabContent() {
    const view = this._view;
    if (!view) return;
    switch (this._tab) {
      case "residents": this._renderResidents(); break;
      case "credentials": this._renderCredentials(); break;
      case "access-log": this._renderLogTab(); break;
      case "devices": this._renderDevicesTab(); break;
      case "uplink": this._renderUplink(); break;
      case "audit": this._renderAuditTab(); break;
      case "import": this._renderImport(); break;
      default: break;
    }
  }

  // ===========================================================================================================
  // Residents

  _renderResidents() {
    const r = this._r;
    if (r.mode === "form") return this._renderResidentForm();
    if (r.mode === "detail") return this._renderResidentDetail();
    if (r.mode === "receipt") return this._renderReceipt();
    this._view.innerHTML = esc(h`
      <section class="card">
        <div class="toolbar">
          <label class="field grow"><span>Search residents</span>
            <input type="search" data-testid="resident-search" data-input="res-search" value="${r.query}"
              placeholder="Name, id, building, unit or household" autocomplete="off" aria-label="Search residents"></label>
          <button type="button" class="btn" data-testid="resident-add" data-action="res-add">Add resident</button>
        </div>
        ${r.notice ? h`<p class="notice" role="status">✓ Added ${r.notice.full_name} (${r.notice.resident_id}). Open the row
          to record consent and enrol a face. <button type="button" class="btn text" data-action="res-show-all">Show all residents</button></p>` : ""}
        <div id="res-list">${this._loadingHtml("Loading residents…")}</div>
      </section>`);
    if (r.list) this._renderResidentList();
    return undefined;
  }

  async _loadResidents() {
    const r = this._r;
    const req = ++r.req;
    if (!r.list) this._set("#res-list", this._loadingHtml("Loading residents…"));
    else this._$("#res-list") && this._$("#res-list").setAttribute("aria-busy", "true");
    try {
      const result = await this._ws("residents/list", { query: r.query, offset: r.offset, limit: PAGE });
      if (req !== r.req) return;
      r.list = result.residents || [];
      r.total = result.total || 0;
      this._remember(r.list);
      if (r.offset > 0 && r.offset >= r.total) {
        r.offset = Math.max(0, Math.floor((r.total - 1) / PAGE) * PAGE);
        this._loadResidents();
        return;
      }
    } catch (err) {
      if (req !== r.req) return;
      this._setError(err);
      if (!r.list) this._set("#res-list", h`<div class="empty">The residents could not be loaded.</div>`);
      return;
    }
    if (this._tab === "residents" && r.mode === "list") this._renderResidentList();
  }

  _renderResidentList() {
    const r = this._r;
    const el = this._$("#res-list");
    if (!el) return;
    el.removeAttribute("aria-busy");
    if (!r.list.length) {
      el.innerHTML = esc(r.query
        ? h`<div class="empty" data-testid="empty-state"><div class="big">No residents match “${r.query}”</div>
            Try another name, id, building, unit or household.</div>`
        : h`<div class="empty" data-testid="empty-state"><div class="big">No residents yet — add one or import a CSV</div>
            <div class="row" style="justify-content:center;margin-top:12px">
              <button type="button" class="btn" data-action="res-add">Add resident</button>
              <button type="button" class="btn secondary" data-action="go-import">Import a CSV</button></div></div>`);
      return;
    }
    const first = r.offset + 1;
    const last = r.offset + r.list.length;
    el.innerHTML = esc(h`
      <div class="table-wrap"><table class="stack">
        <thead><tr><th>Name</th><th>Resident id</th><th>Household</th><th>Building / unit</th><th>Status</th>
          <th>Consent</th><th class="num">Faces</th><th class="num">Cards</th></tr></thead>
        <tbody>${r.list.map((res) => h`
          <tr class="click" tabindex="0" data-testid="resident-row" data-resident-id="${res.resident_id}"
              data-action="open-resident" aria-label="Open ${res.full_name}">
            <td data-label="Name" class="title"><strong>${res.full_name}</strong>${res.is_minor ? h` <span class="badge">minor</span>` : ""}</td>
            <td data-label="Resident id" class="mono">${res.resident_id}</td>
            <td data-label="Household" class="hide-narrow">${res.household || "—"}</td>
            <td data-label="Building / unit">${[res.building, res.unit].filter(Boolean).join(" / ") || "—"}</td>
            <td data-label="Status">${this._statusBadge(res.status)}</td>
            <td data-label="Consent">${res.consent ? h`<span class="good">✓ given</span>` : h`<span class="muted">none</span>`}</td>
            <td data-label="Faces" class="num hide-narrow">${String(res.faces || 0)}</td>
            <td data-label="Cards" class="num hide-narrow">${String((res.cards || []).length)}</td>
          </tr>`)}</tbody>
      </table></div>
      <div class="pager">
        <span class="muted">${first}–${last} of ${r.total}</span>
        <div class="row">
          <button type="button" class="btn secondary" data-action="res-prev" ${r.offset <= 0 ? "disabled" : ""}>Previous</button>
          <button type="button" class="btn secondary" data-action="res-next" ${last >= r.total ? "disabled" : ""}>Next</button>
        </div>
      </div>`);
  }

  _statusBadge(status) {
    if (status === "active") return h`<span class="badge ok">active</span>`;
    if (status === "suspended") return h`<span class="badge bad">suspended</span>`;
    return h`<span class="badge">${status || "—"}</span>`;
  }

  _showAllResidents() {
    Object.assign(this._r, { query: "", offset: 0, notice: null });
    const input = this._$('[data-testid="resident-search"]');
    if (input) input.value = "";
    const note = this._$(".notice");
    if (note) note.remove();
    this._loadResidents();
  }

  _backToList() {
    this._clearFaces(false);
    this._r.mode = "list";
    this._r.detail = null;
    this._r.editing = null;
    this._r.receipt = null;
    this._renderResidents();
    this._loadResidents();
  }

  // -- add / edit -----------------------------------------------------------------------------------------------

  _openResidentForm(resident) {
    this._clearFaces(false);
    this._r.notice = null;
    this._r.mode = "form";
    this._r.editing = resident || null;
    this._r.formError = null;
    this._setError(null);
    this._renderResidentForm();
    const first = this._$(resident ? '[data-testid="resident-form-name"]' : '[data-testid="resident-form-id"]');
    if (first) first.focus();
    return !!first;
  }

  _renderResidentForm() {
    const res = this._r.editing;
    const tz = this._tz();
    const v = (k) => (res && res[k]) || "";
    this._view.innerHTML = esc(h`
      <section class="card">
        <header><h2>${res ? h`Edit ${res.full_name}` : "Add a resident"}</h2>
          <button type="button" class="btn text" data-action="res-cancel-form">← Back</button></header>
        <form data-form="resident" novalidate>
          <div class="form-grid">
            <label class="field"><span>Resident id *</span>
              <input name="resident_id" data-testid="resident-form-id" value="${v("resident_id")}" autocomplete="off"
                ${res ? "readonly" : ""} required maxlength="64" placeholder="e.g. A-1203-01">
              <span class="muted small">Letters, digits and . _ : @ -${res ? " (cannot be changed)" : ""}</span></label>
            <label class="field"><span>Full name *</span>
              <input name="full_name" data-testid="resident-form-name" value="${v("full_name")}" autocomplete="off" required maxlength="200"></label>
            <label class="field"><span>Household</span>
              <input name="household" data-testid="resident-form-household" value="${v("household")}" autocomplete="off" maxlength="200"></label>
            <div class="form-grid" style="gap:12px">
              <label class="field"><span>Building</span>
                <input name="building" data-testid="resident-form-building" value="${v("building")}" autocomplete="off" maxlength="200"></label>
              <label class="field"><span>Unit</span>
                <input name="unit" data-testid="resident-form-unit" value="${v("unit")}" autocomplete="off" maxlength="200"></label>
            </div>
            <label class="field"><span>Valid from</span>
              <input type="datetime-local" name="valid_from" value="${toInput(res && res.valid_from, tz)}"></label>
            <label class="field"><span>Valid until</span>
              <input type="datetime-local" name="valid_until" value="${toInput(res && res.valid_until, tz)}"></label>
            <label class="check"><input type="checkbox" name="is_minor" data-testid="resident-form-minor"
              data-change="resident-minor" ${res && res.is_minor ? "checked" : ""}> Minor (a guardian consents for them)</label>
            <label class="field"><span>Guardian (required for a minor)</span>
              <input name="guardian" data-testid="resident-form-guardian" value="${v("guardian")}" autocomplete="off" maxlength="200"
                ${res && res.is_minor ? "required" : ""}></label>
            ${res ? h`<label class="field"><span>Status</span>
              <select name="status" data-testid="resident-form-status">
                <option value="active" ${res.status === "active" ? "selected" : ""}>Active</option>
                <option value="suspended" ${res.status === "suspended" ? "selected" : ""}>Suspended (no access)</option>
              </select></label>` : ""}
          </div>
          <div id="res-form-error">${this._r.formError ? h`<p class="form-error" role="status">${this._r.formError}</p>` : ""}</div>
          <div class="row end" style="margin-top:16px">
            <button type="button" class="btn secondary" data-action="res-cancel-form">Cancel</button>
            <button type="submit" class="btn" data-testid="resident-form-save" data-busy="res-save"
              ${this._dis("res-save")}>${res ? "Save changes" : "Add resident"}</button>
          </div>
        </form>
      </section>`);
  }

  _clearFieldErrors(form) {
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    form.querySelectorAll(".field .err").forEach((el) => el.remove());
  }

  _markFieldErrors(form, message, only = null) {
    const lower = String(message || "").toLowerCase();
    let first = null;
    for (const name of only ? [only] : RESIDENT_FIELDS) {
      const el = form.elements.namedItem(name);
      if (!el) continue;
      const spaced = name.replace(/_/g, " ");
      const hit = lower.includes(name) || lower.includes(spaced)
        || (name === "valid_until" && lower.includes("validity period"));
      if (hit) {
        el.setAttribute("aria-invalid", "true");
        const span = document.createElement("span");
        span.className = "err";
        span.textContent = message;
        el.insertAdjacentElement("afterend", span);
        if (!first) first = el;
      }
    }
    if (first) first.focus();
    return !!first;
  }

  async _saveResident(form) {
    if (!form || !form.elements) return;
    const r = this._r;
    const editing = r.editing;
    const tz = this._tz();
    const val = (name) => {
      const el = form.elements.namedItem(name);
      return el ? el.value.trim() : "";
    };
    const isMinor = form.elements.namedItem("is_minor").checked;
    const msg = { resident_id: editing ? editing.resident_id : val("resident_id") };
    const errors = [];
    if (!msg.resident_id) errors.push(["resident_id", "resident_id is required"]);
    if (!val("full_name")) errors.push(["full_name", "full_name is required"]);
    if (isMinor && !val("guardian")) errors.push(["guardian", "guardian is required for a minor"]);
    if (errors.length) {
      r.formError = errors.map((e) => e[1]).join("; ");
      this._set("#res-form-error", "");
      this._clearFieldErrors(form);
      for (const [name, text] of errors.slice().reverse()) this._markFieldErrors(form, text, name);
      this._setError(r.formError);
      return;
    }
    const textFields = ["full_name", "household", "building", "unit", "guardian"];
    if (!editing) {
      for (const k of textFields) if (val(k)) msg[k] = val(k);
      for (const k of ["valid_from", "valid_until"]) if (val(k)) msg[k] = inputToIso(val(k), tz);
      msg.is_minor = isMinor;
    } else {
      for (const k of textFields) {
        const now = val(k);
        if (now !== (editing[k] || "")) msg[k] = now || (k === "full_name" ? now : null);
      }
      for (const k of ["valid_from", "valid_until"]) {
        if (val(k) !== toInput(editing[k], tz)) msg[k] = val(k) ? inputToIso(val(k), tz) : null;
      }
      if (isMinor !== !!editing.is_minor) msg.is_minor = isMinor;
      const status = val("status");
      if (status && status !== editing.status) msg.status = status;
    }
    r.formError = null;
    this._set("#res-form-error", "");
    this._clearFieldErrors(form);
    const saved = await this._task("res-save", async () => {
      try {
        return await this._ws(editing ? "residents/update" : "residents/add", msg);
      } catch (err) {
        r.formError = errMsg(err);
        const onField = this._markFieldErrors(form, r.formError);
        this._set("#res-form-error", onField ? "" : h`<p class="form-error">${r.formError}</p>`);
        throw err;
      }
    });
    if (!saved) return;
    this._remember([saved]);
    this._allResidents = null;
    if (editing) {
      this._showResidentDetail(saved);
      return;
    }
    this._loadOverview();
    // Back to the list, showing the new resident's row (open it to record consent and enrol a face).
    Object.assign(r, { mode: "list", editing: null, detail: null, query: saved.resident_id, offset: 0, list: null,
      notice: saved });
    this._renderResidents();
    this._loadResidents();
  }

  // -- detail ---------------------------------------------------------------------------------------------------

  async _openResident(residentId) {
    if (!residentId) return;
    const r = this._r;
    r.notice = null;
    const req = ++r.detailReq;
    if (!r.detail || r.detail.resident_id !== residentId) {
      this._clearFaces(false);
      r.mode = "detail";
      r.detail = { resident_id: residentId, _loading: true };
      this._renderResidentDetail();
    }
    try {
      const res = await this._ws("residents/get", { resident_id: residentId });
      if (req !== r.detailReq) return;
      this._showResidentDetail(res);
    } catch (err) {
      if (req !== r.detailReq) return;
      this._setError(err);
      if (r.detail && r.detail._loading) this._backToListKeepError();
    }
  }

  _backToListKeepError() {
    const error = this._error;
    this._backToList();
    if (error) this._setError(error);
  }

  _showResidentDetail(res) {
    const r = this._r;
    const same = r.detail && r.detail.resident_id === res.resident_id && r.mode === "detail" && !r.detail._loading;
    r.detail = res;
    r.mode = "detail";
    r.editing = null;
    this._remember([res]);
    if (this._tab !== "residents") return;
    if (same) {
      this._renderResidentInfo();
      this._renderConsent();
      this._renderFaceCount();
    } else this._renderResidentDetail();
  }

  _renderResidentDetail() {
    const res = this._r.detail;
    if (!res) return;
    if (res._loading) {
      this._view.innerHTML = esc(h`<section class="card" data-testid="resident-detail">
        <header><h2>${res.resident_id}</h2><button type="button" class="btn text" data-action="res-back">← All residents</button></header>
        ${this._loadingHtml("Loading the resident…")}</section>`);
      return;
    }
    this._view.innerHTML = esc(h`
      <div data-testid="resident-detail" data-resident-id="${res.resident_id}">
        <section class="card" id="res-info"></section>
        <div class="grid2 stack-gap">
          <section class="card" id="res-consent" aria-labelledby="consent-h"></section>
          <section class="card" aria-labelledby="faces-h">
            <h2 id="faces-h">Face enrolment</h2>
            <p data-testid="face-count" id="face-count"></p>
            <div id="face-consent-hint"></div>
            <label class="field"><span>Add photos (JPEG or PNG, one face, up to 3 MB each)</span>
              <input type="file" accept="image/jpeg,image/png" multiple data-testid="face-photos" data-change="face-photos"></label>
            <div id="face-status"></div>
          </section>
        </div>
        <section class="card" aria-labelledby="erase-h">
          <h2 id="erase-h">Erase this resident</h2>
          <p class="muted">Deletes everything the hub holds about ${res.full_name}: face templates, kept photos, cards and
            PIN, the visitor passes they issued, consent records, access rules and access history. You get an erasure
            receipt as proof. This cannot be undone.</p>
          <button type="button" class="btn danger" data-testid="resident-erase" data-action="resident-erase"
            data-busy="res-erase" ${this._dis("res-erase")}>Erase resident…</button>
        </section>
      </div>`);
    this._renderResidentInfo();
    this._renderConsent();
    this._renderFaceCount();
    this._renderFaceStatus();
  }

  _renderResidentInfo() {
    const res = this._r.detail;
    const valid = res.valid_from || res.valid_until
      ? h`${res.valid_from ? this._fmt(res.valid_from, false) : "always"} → ${res.valid_until ? this._fmt(res.valid_until, false) : "open-ended"}`
      : "No limit";
    this._set("#res-info", h`
      <header>
        <h2>${res.full_name} ${this._statusBadge(res.status)}</h2>
        <div class="row">
          <button type="button" class="btn text" data-action="res-back">← All residents</button>
          <button type="button" class="btn secondary" data-action="res-edit" data-testid="resident-edit">Edit</button>
        </div>
      </header>
      <dl class="props">
        <dt>Resident id</dt><dd class="mono">${res.resident_id}</dd>
        <dt>Household</dt><dd>${res.household || "—"}</dd>
        <dt>Building / unit</dt><dd>${[res.building, res.unit].filter(Boolean).join(" / ") || "—"}</dd>
        <dt>Valid</dt><dd>${valid}</dd>
        <dt>Minor</dt><dd>${res.is_minor ? h`Yes — guardian: ${res.guardian || "not set"}` : "No"}</dd>
        <dt>Credentials</dt><dd>${plural((res.cards || []).length, "card")}, ${res.has_pin ? "PIN set" : "no PIN"}</dd>
      </dl>`);
  }

  _renderConsent() {
    const res = this._r.detail;
    const c = res.consent;
    const el = this._$("#res-consent");
    if (!el) return;
    el.innerHTML = esc(h`
      <h2 id="consent-h">Consent to face recognition</h2>
      <p><span data-testid="consent-state" class="badge ${c ? "ok" : ""}">${c ? "Consent given" : "No consent"}</span></p>
      ${c ? h`
        <dl class="props">
          <dt>Scope</dt><dd>${c.scope}</dd>
          <dt>Given</dt><dd>${this._fmt(c.given_at)}</dd>
          ${c.guardian ? h`<dt>Given by guardian</dt><dd>${c.guardian}</dd>` : ""}
        </dl>
        <p class="muted small">Withdrawing deletes the resident's face templates at once; the gates keep accepting their
          card or PIN.</p>
        <button type="button" class="btn danger secondary" data-testid="consent-withdraw" data-action="consent-withdraw"
          data-busy="consent" ${this._dis("consent")}>Withdraw consent…</button>`
      : h`
        <form data-form="consent" novalidate>
          <label class="field"><span>What the resident agrees to (scope) *</span>
            <textarea name="scope" data-testid="consent-scope" maxlength="2000" required
              placeholder="e.g. Face recognition at the community gates; templates kept while resident, deleted on withdrawal"></textarea></label>
          ${res.is_minor ? h`<label class="field" style="margin-top:12px"><span>Guardian giving consent (required for a minor) *</span>
            <input name="guardian" data-testid="consent-guardian" value="${res.guardian || ""}" autocomplete="off" required></label>` : ""}
          <div class="row end" style="margin-top:12px">
            <button type="submit" class="btn" data-testid="consent-record" data-busy="consent" ${this._dis("consent")}>Record consent</button>
          </div>
        </form>`}`);
  }

  async _recordConsent(form) {
    const res = this._r.detail;
    if (!res || !form.elements) return;
    const scope = form.elements.namedItem("scope").value.trim();
    const guardianEl = form.elements.namedItem("guardian");
    const guardian = guardianEl ? guardianEl.value.trim() : "";
    if (!scope) {
      this._setError("Describe the scope the resident consents to.");
      form.elements.namedItem("scope").setAttribute("aria-invalid", "true");
      return;
    }
    if (res.is_minor && !guardian) {
      this._setError("A minor's consent is given by their guardian: enter the guardian.");
      guardianEl && guardianEl.setAttribute("aria-invalid", "true");
      return;
    }
    const msg = { resident_id: res.resident_id, scope };
    if (guardian) msg.guardian = guardian;
    const updated = await this._task("consent", () => this._ws("consent/record", msg));
    if (updated) this._showResidentDetail(updated);
  }

  async _withdrawConsent() {
    const res = this._r.detail;
    if (!res) return;
    const ok = await this._confirm({
      title: "Withdraw consent?",
      body: h`<p>${res.full_name}'s consent will be marked withdrawn and their
        ${plural(res.faces || 0, "face template")} deleted now. Face recognition stops for them; cards and PIN keep working.</p>`,
      confirmLabel: "Withdraw consent",
      testid: "consent-withdraw-confirm",
    });
    if (!ok) return;
    const updated = await this._task("consent", () => this._ws("consent/withdraw", { resident_id: res.resident_id }));
    if (updated) {
      this._showResidentDetail(updated);
      this._loadOverview();
    }
  }

  // -- faces ----------------------------------------------------------------------------------------------------

  _renderFaceCount() {
    const res = this._r.detail;
    this._set("#face-count", h`<strong>${plural(res.faces || 0, "face template")}</strong> enrolled`);
    this._set("#face-consent-hint", res.consent ? ""
      : h`<p class="muted small">Record the resident's consent before enrolling: the hub refuses templates without it.</p>`);
  }

  _clearFaces(render) {
    const f = this._r.faces;
    f.run += 1;
    for (const item of f.items) if (item.url) URL.revokeObjectURL(item.url);
    f.items = [];
    f.running = false;
    f.done = 0;
    f.note = null;
    if (render) this._renderFaceStatus();
  }

  async _checkFaces(files) {
    if (!files.length || !this._r.detail) return;
    this._setError(null);
    this._clearFaces(false);
    const f = this._r.faces;
    const run = f.run;
    f.items = files.map((file) => ({
      file, name: file.name, url: URL.createObjectURL(file), accepted: null, reason: "", upload_id: null,
    }));
    f.running = true;
    this._renderFaceStatus();
    for (let i = 0; i < f.items.length; i += 1) {
      const item = f.items[i];
      f.done = i;
      this._renderFaceStatus();
      if (!PHOTO_TYPES.includes(item.file.type)) {
        item.accepted = false;
        item.reason = "not a JPEG or PNG photo";
      } else if (item.file.size > MAX_PHOTO_BYTES) {
        item.accepted = false;
        item.reason = "larger than 3 MB";
      } else {
        try {
          const photo = await readBase64(item.file);
          if (run !== f.run) return;
          const result = await this._ws("faces/check", { filename: item.name, photo });
          if (run !== f.run) return;
          item.accepted = !!result.accepted;
          item.reason = result.reason || "";
          item.upload_id = result.upload_id || null;
        } catch (err) {
          if (run !== f.run) return;
          item.accepted = false;
          item.reason = errMsg(err);
        }
      }
    }
    f.done = f.items.length;
    f.running = false;
    this._renderFaceStatus();
  }

  _renderFaceStatus() {
    const el = this._$("#face-status");
    if (!el) return;
    const f = this._r.faces;
    const accepted = f.items.filter((i) => i.accepted && i.upload_id);
    const total = f.items.length;
    const checked = f.items.filter((i) => i.accepted !== null).length;
    el.innerHTML = esc(h`
      ${f.running ? h`<div class="progress" data-testid="face-progress" role="status" aria-live="polite">
        <span>Checking photo ${Math.min(f.done + 1, total)} of ${total}</span>
        <progress max="${total}" value="${f.done}" aria-label="Checking photos"></progress></div>` : ""}
      ${f.note ? h`<p class="good" role="status">${f.note}</p>` : ""}
      ${total ? h`
        ${!f.running ? h`<p class="muted">${checked} of ${plural(total, "photo")} checked: ${accepted.length} accepted,
          ${checked - accepted.length} refused.</p>` : ""}
        <div class="photos">${f.items.map((item) => h`
          <figure class="photo" style="margin:0" data-testid="${item.accepted === null ? "face-pending" : "face-result"}"
            data-accepted="${item.accepted === null ? "" : String(item.accepted)}">
            <img src="${item.url}" alt="${item.name}" loading="lazy">
            <figcaption class="verdict">
              <div class="name" title="${item.name}">${item.name}</div>
              <div class="state">${item.accepted === null ? h`<span class="muted">waiting…</span>`
                : item.accepted ? h`✓ Accepted${item.reason ? h` <span class="muted">(${item.reason})</span>` : ""}`
                : h`✗ ${item.reason || "refused"}`}</div>
            </figcaption>
          </figure>`)}</div>
        <div class="row end">
          <button type="button" class="btn secondary" data-action="face-clear" ${f.running ? "disabled" : ""}>Clear</button>
          <button type="button" class="btn" data-testid="face-enrol" data-action="face-enrol" data-busy="face-enrol"
            ${this._dis("face-enrol", f.running || !accepted.length)} data-disabled-reason="${f.running || !accepted.length ? "1" : ""}">
            Enrol ${plural(accepted.length, "accepted photo")}</button>
        </div>
        <p class="muted small">Only the face templates are kept, never the photos. Checked photos wait 15 minutes for
          enrolment.</p>` : ""}`);
  }

  async _enrolFaces() {
    const res = this._r.detail;
    const f = this._r.faces;
    const ids = f.items.filter((i) => i.accepted && i.upload_id).map((i) => i.upload_id);
    if (!res || !ids.length || f.running) return;
    const result = await this._task("face-enrol", () => this._ws("faces/enrol", { resident_id: res.resident_id, upload_ids: ids }));
    if (!result) return;
    this._clearFaces(false);
    f.note = `Enrolled ${plural(result.enrolled ?? ids.length, "face template")}.`;
    if (result.resident) this._showResidentDetail(result.resident);
    this._renderFaceStatus();
    this._loadOverview();
  }

  // -- erase ----------------------------------------------------------------------------------------------------

  async _eraseResident() {
    const res = this._r.detail;
    if (!res) return;
    const ok = await this._confirm({
      title: `Erase ${res.full_name}?`,
      body: h`<p>This permanently deletes everything the hub holds about <strong>${res.full_name}</strong>
        (<span class="mono">${res.resident_id}</span>):</p>
        <ul>
          <li>${plural(res.faces || 0, "face template")} and any kept photos</li>
          <li>${plural((res.cards || []).length, "card")}${res.has_pin ? " and the PIN" : ""}</li>
          <li>the visitor passes they issued</li>
          <li>consent records${res.consent ? " (consent is currently given)" : ""}</li>
          <li>their access rules, access history and anti-passback state</li>
        </ul>
        <p>An erasure receipt is kept as proof. The id cannot be reused. This cannot be undone.</p>`,
      confirmLabel: "Erase permanently",
      testid: "resident-erase-confirm",
    });
    if (!ok) return;
    const receipt = await this._task("res-erase", () => this._ws("residents/erase", { resident_id: res.resident_id }));
    if (!receipt) return;
    this._clearFaces(false);
    this._names.delete(res.resident_id);
    this._allResidents = null;
    this._r.receipt = { ...receipt, full_name: res.full_name };
    this._r.detail = null;
    this._r.mode = "receipt";
    this._r.list = null;
    this._renderResidents();
    this._loadOverview();
  }

  _renderReceipt() {
    const rc = this._r.receipt || {};
    const counts = Object.entries(rc.erased || {});
    this._view.innerHTML = esc(h`
      <section class="card receipt" data-testid="erase-receipt">
        <header><h2>Erasure receipt</h2>
          <button type="button" class="btn secondary" data-action="res-back">Back to residents</button></header>
        <p>${rc.full_name || rc.resident_id} has been erased. Keep this receipt: its id is the handle for erasing the
          person from Home Assistant's recorder, backups and anything already sent upstream.</p>
        <dl class="props">
          <dt>Receipt id</dt><dd class="mono" data-field="receipt_id">${rc.receipt_id}</dd>
          <dt>Resident id</dt><dd class="mono">${rc.resident_id}</dd>
          <dt>Erased at</dt><dd>${this._fmt(rc.erased_at)} <span class="muted small mono">${rc.erased_at}</span></dd>
          <dt>Receipt hash (SHA-256)</dt><dd class="mono hash" data-field="receipt_hash">${rc.receipt_hash}</dd>
        </dl>
        <h3>What was deleted</h3>
        ${counts.length ? h`<table><thead><tr><th>Data</th><th class="num">Count</th></tr></thead><tbody>
          ${counts.map(([what, n]) => h`<tr><td data-label="Data">${what.replace(/_/g, " ")}</td><td data-label="Count" class="num">${String(n)}</td></tr>`)}
          </tbody></table>` : h`<p class="muted">No counts were returned.</p>`}
      </section>`);
  }

  // ===========================================================================================================
  // Credentials & visitors

  _renderCredentials() {
    const c = this._c;
    const tz = this._tz();
    this._view.innerHTML = esc(h`
      <div class="grid2 stack-gap">
        <section class="card" aria-labelledby="cred-h">
          <h2 id="cred-h">Cards and PIN</h2>
          <div class="form-grid">
            <label class="field"><span>Find a resident</span>
              <input type="search" data-input="cred-filter" value="${c.filter}" placeholder="Name, id, unit…" autocomplete="off"></label>
            <label class="field"><span>Resident</span>
              <select data-testid="cred-resident" data-change="cred-resident" id="cred-resident"></select></label>
          </div>
          <div id="cred-detail"></div>
        </section>
        <section class="card" aria-labelledby="pass-h">
          <h2 id="pass-h">Issue a visitor pass</h2>
          <form data-form="pass" novalidate>
            <div class="form-grid">
              <label class="field"><span>Visitor name *</span>
                <input name="visitor_name" data-testid="pass-visitor" autocomplete="off" required maxlength="200"></label>
              <label class="field"><span>Issued by (resident) *</span>
                <select name="issued_by" data-testid="pass-issued-by" id="pass-issued-by" required></select></label>
              <fieldset class="field wide"><legend>Doors *</legend><div class="doors" id="pass-doors"></div></fieldset>
              <label class="field"><span>Valid from (empty: now)</span>
                <input type="datetime-local" name="valid_from" data-testid="pass-valid-from"></label>
              <label class="field"><span>Valid until *</span>
                <input type="datetime-local" name="valid_until" data-testid="pass-valid-until" required
                  value="${toInput(new Date(Date.now() + 86400000), tz)}"></label>
              <label class="field"><span>Maximum uses</span>
                <input type="number" name="max_uses" data-testid="pass-max-uses" min="1" max="1000" step="1" value="1"></label>
            </div>
            <div class="row end" style="margin-top:12px">
              <button type="submit" class="btn" data-testid="pass-issue" data-busy="pass-issue" ${this._dis("pass-issue")}>Issue pass</button>
            </div>
          </form>
          <div id="pass-qr-area"></div>
        </section>
      </div>
      <section class="card" aria-labelledby="passes-h">
        <header><h2 id="passes-h">Visitor passes</h2>
          <label class="check"><input type="checkbox" data-change="pass-inactive" ${c.includeInactive ? "checked" : ""}>
            Show expired, used and revoked</label></header>
        <div id="pass-list">${this._loadingHtml("Loading passes…")}</div>
      </section>`);
    this._renderCredSelects();
    this._renderCredDetail();
    this._renderPassDoors();
    this._renderQr();
    if (c.passes) this._renderPasses();
  }

  _residentOptions(selected, placeholder) {
    const all = this._allResidents ? this._allResidents.residents : [];
    const list = all.slice();
    if (selected && !list.some((r) => r.resident_id === selected)) {
      list.unshift({ resident_id: selected, full_name: this._names.get(selected) || selected });
    }
    return h`<option value="">${this._allResidents ? placeholder : "Loading residents…"}</option>
      ${list.map((r) => h`<option value="${r.resident_id}" ${r.resident_id === selected ? "selected" : ""}>${r.full_name} (${r.resident_id})${r.unit ? ` · ${r.unit}` : ""}</option>`)}`;
  }

  _renderCredSelects() {
    const c = this._c;
    const sel = this._$("#cred-resident");
    if (sel) sel.innerHTML = esc(this._residentOptions(c.selected, "Choose a resident…"));
    const by = this._$("#pass-issued-by");
    if (by) {
      const current = by.value || c.selected;
      by.innerHTML = esc(this._residentOptions(current, "Choose the resident…"));
    }
    if (this._allResidents && !this._allResidents.residents.length && !this._allResidents.query) {
      this._set("#cred-detail", h`<div class="empty" data-testid="empty-state">
        <div class="big">No residents yet — add one or import a CSV</div>Cards, PINs and visitor passes belong to residents.</div>`);
    } else if (!c.selected) this._renderCredDetail();
    if (this._allResidents && this._allResidents.total > this._allResidents.residents.length) {
      const hint = document.createElement("p");
      hint.className = "muted small";
      hint.textContent = `Showing the first ${this._allResidents.residents.length} of ${this._allResidents.total}: type in “Find a resident” to narrow the list.`;
      const detail = this._$("#cred-detail");
      if (detail && !detail.querySelector(".more-hint")) {
        hint.classList.add("more-hint");
        detail.prepend(hint);
      }
    }
  }

  _selectCredResident(residentId) {
    this._c.selected = residentId;
    this._c.resident = null;
    const by = this._$("#pass-issued-by");
    if (by && !by.value && residentId) by.value = residentId;
    this._renderCredDetail();
    if (residentId) this._loadCredResident();
  }

  async _loadCredResident() {
    const c = this._c;
    const req = ++c.req;
    const id = c.selected;
    try {
      const res = await this._ws("residents/get", { resident_id: id });
      if (req !== c.req) return;
      c.resident = res;
      this._remember([res]);
    } catch (err) {
      if (req !== c.req) return;
      this._setError(err);
      return;
    }
    if (this._tab !== "credentials") return;
    if (!this._$("#cred-cards")) this._renderCredDetail();
    else {
      this._renderCards();
      this._renderPinState();
    }
  }

  _renderCredDetail() {
    const c = this._c;
    const el = this._$("#cred-detail");
    if (!el) return;
    if (!c.selected) {
      el.innerHTML = esc(h`<p class="muted" style="margin-top:16px">Choose a resident to manage their cards and PIN.</p>`);
      return;
    }
    if (!c.resident || c.resident.resident_id !== c.selected) {
      el.innerHTML = esc(this._loadingHtml("Loading credentials…"));
      return;
    }
    el.innerHTML = esc(h`
      <h3>Cards</h3>
      <div id="cred-cards"></div>
      <form data-form="card" class="row" style="margin-top:8px" novalidate>
        <label class="field" style="flex:1 1 160px"><span>Card number</span>
          <input name="card_number" data-testid="card-number" autocomplete="off" required maxlength="64" spellcheck="false"></label>
        <button type="submit" class="btn" data-testid="card-add" data-busy="card-add" style="align-self:flex-end"
          ${this._dis("card-add")}>Add card</button>
      </form>
      <h3>PIN</h3>
      <div id="cred-pin"></div>
      <form data-form="pin" class="row" style="margin-top:8px" novalidate>
        <label class="field" style="flex:1 1 160px"><span>New PIN (4-12 digits)</span>
          <input type="password" name="pin" data-testid="pin-input" autocomplete="new-password" inputmode="numeric"
            pattern="[0-9]{4,12}" minlength="4" maxlength="12" required></label>
        <button type="submit" class="btn" data-testid="pin-set" data-busy="pin" style="align-self:flex-end" ${this._dis("pin")}>Set PIN</button>
      </form>`);
    this._renderCards();
    this._renderPinState();
  }

  _renderCards() {
    const res = this._c.resident;
    if (!res) return;
    const cards = res.cards || [];
    this._set("#cred-cards", cards.length ? h`<ul class="plain">${cards.map((card) => h`
      <li data-testid="card-row" data-card-id="${card.card_id}">
        <span class="mono" style="font-size:14px">${card.hint || card.card_id}</span>
        <span class="muted small">added ${this._fmt(card.added_at, false)}</span>
        <span class="spacer"></span>
        <button type="button" class="btn danger secondary" data-testid="card-revoke" data-action="card-revoke"
          data-card-id="${card.card_id}" data-busy="card-revoke" ${this._dis("card-revoke")}>Revoke</button>
      </li>`)}</ul>` : h`<p class="muted">No cards.</p>`);
  }

  _renderPinState() {
    const res = this._c.resident;
    if (!res) return;
    this._set("#cred-pin", h`<div class="row">
      <span data-testid="pin-state" class="badge ${res.has_pin ? "ok" : ""}">${res.has_pin ? "PIN set" : "No PIN"}</span>
      <span class="muted small">A PIN is stored hashed and never shown.</span>
      <span class="spacer"></span>
      ${res.has_pin ? h`<button type="button" class="btn danger secondary" data-testid="pin-revoke" data-action="pin-revoke"
        data-busy="pin" ${this._dis("pin")}>Revoke PIN</button>` : ""}</div>`);
  }

  async _addCard(form) {
    const res = this._c.resident;
    const input = form.elements && form.elements.namedItem("card_number");
    if (!res || !input) return;
    const number = input.value.trim();
    if (!number) {
      input.setAttribute("aria-invalid", "true");
      this._setError("Enter the card number.");
      return;
    }
    const added = await this._task("card-add", () => this._ws("cards/add", { resident_id: res.resident_id, card_number: number }));
    if (!added) return;
    input.value = "";
    await this._loadCredResident();
  }

  async _revokeCard(el, cardId) {
    if (!cardId) return;
    const done = await this._task("card-revoke", async () => {
      await this._ws("cards/revoke", { card_id: cardId });
      return true;
    });
    if (done) await this._loadCredResident();
  }

  async _setPin(form) {
    const res = this._c.resident;
    const input = form.elements && form.elements.namedItem("pin");
    if (!res || !input) return;
    const pin = input.value;
    if (!/^[0-9]{4,12}$/.test(pin)) {
      input.setAttribute("aria-invalid", "true");
      this._setError("A PIN is 4 to 12 digits.");
      return;
    }
    const done = await this._task("pin", async () => {
      await this._ws("pin/set", { resident_id: res.resident_id, pin });
      return true;
    });
    input.value = "";
    if (done) await this._loadCredResident();
  }

  async _revokePin() {
    const res = this._c.resident;
    if (!res) return;
    const done = await this._task("pin", async () => {
      await this._ws("pin/revoke", { resident_id: res.resident_id });
      return true;
    });
    if (done) await this._loadCredResident();
  }

  _renderPassDoors() {
    const el = this._$("#pass-doors");
    if (!el) return;
    const checked = new Set(Array.from(el.querySelectorAll("input:checked")).map((i) => i.value));
    if (!this._overview) {
      el.innerHTML = esc(this._loadingHtml("Loading doors…"));
      return;
    }
    const doors = this._overview.doors || [];
    const gates = new Set(this._overview.gates || []);
    el.innerHTML = esc(doors.length ? doors.map((d) => h`<label class="check">
        <input type="checkbox" name="doors" value="${d.door_id}" data-testid="pass-door" data-door-id="${d.door_id}"
          ${checked.has(d.door_id) ? "checked" : ""}> ${d.name || d.door_id}${gates.has(d.door_id) || d.face ? h` <span class="muted small">(face gate)</span>` : ""}</label>`)
      : h`<span class="muted">No doors are configured.</span>`);
  }

  async _issuePass(form) {
    if (!form.elements) return;
    const tz = this._tz();
    const get = (n) => form.elements.namedItem(n);
    const visitor = get("visitor_name").value.trim();
    const issuedBy = get("issued_by").value;
    const doors = Array.from(form.querySelectorAll('input[name="doors"]:checked')).map((i) => i.value);
    const until = get("valid_until").value;
    const from = get("valid_from").value;
    const maxUses = Number(get("max_uses").value || 1);
    const problems = [];
    if (!visitor) problems.push([get("visitor_name"), "Enter the visitor's name."]);
    if (!issuedBy) problems.push([get("issued_by"), "Choose the resident issuing the pass."]);
    if (!doors.length) problems.push([null, "Choose at least one door."]);
    if (!until) problems.push([get("valid_until"), "Choose until when the pass is valid."]);
    if (!Number.isInteger(maxUses) || maxUses < 1 || maxUses > 1000) problems.push([get("max_uses"), "Maximum uses is a whole number from 1 to 1000."]);
    if (problems.length) {
      problems.forEach(([el]) => el && el.setAttribute("aria-invalid", "true"));
      this._setError(problems.map((p) => p[1]).join(" "));
      return;
    }
    const msg = { visitor_name: visitor, issued_by: issuedBy, doors, valid_until: inputToIso(until, tz), max_uses: maxUses };
    if (from) msg.valid_from = inputToIso(from, tz);
    const issued = await this._task("pass-issue", () => this._ws("passes/issue", msg));
    if (!issued) return;
    this._c.qr = { pass_id: issued.pass_id, b64: issued.qr_png_base64, valid_until: issued.valid_until, visitor_name: visitor, fresh: true };
    get("visitor_name").value = "";
    this._renderQr();
    this._loadPasses();
  }

  _renderQr() {
    const q = this._c.qr;
    const el = this._$("#pass-qr-area");
    if (!el) return;
    if (!q) {
      el.innerHTML = "";
      return;
    }
    const src = pngData(q.b64);
    el.innerHTML = esc(h`<div class="qr" aria-label="Visitor pass QR code">
      <img data-testid="pass-qr" src="${src}" alt="QR code of the visitor pass for ${q.visitor_name || q.pass_id}">
      <div class="info">
        <strong>${q.fresh ? "Pass issued" : "Visitor pass"}${q.visitor_name ? h` for ${q.visitor_name}` : ""}</strong>
        <span class="muted small mono">${q.pass_id}</span>
        ${q.valid_until ? h`<span>Valid until ${this._fmt(q.valid_until, false)}</span>` : ""}
        <span class="muted small">Send the image to the visitor; the gate camera reads it.</span>
        <div class="row">
          <a class="btn" data-testid="pass-qr-download" href="${src}" download="visitor-pass-${q.pass_id}.png">Download PNG</a>
          <button type="button" class="btn text" data-action="qr-close">Close</button>
        </div>
      </div></div>`);
    el.scrollIntoView && el.scrollIntoView({ block: "nearest" });
  }

  async _loadPasses() {
    const c = this._c;
    const req = (c.passReq = (c.passReq || 0) + 1);
    try {
      const result = await this._ws("passes/list", { include_inactive: c.includeInactive });
      if (req !== c.passReq) return;
      c.passes = result.passes || [];
    } catch (err) {
      if (req !== c.passReq) return;
      this._setError(err);
      this._set("#pass-list", h`<div class="empty">The passes could not be loaded.</div>`);
      return;
    }
    if (this._tab === "credentials") this._renderPasses();
  }

  _passState(p) {
    if (p.active) return h`<span class="badge ok">Active</span>`;
    if (p.revoked) return h`<span class="badge bad">Revoked</span>`;
    if (p.max_uses && p.uses >= p.max_uses) return h`<span class="badge">Used up</span>`;
    const now = Date.now();
    if (p.valid_from && new Date(p.valid_from).getTime() > now) return h`<span class="badge warn">Not yet valid</span>`;
    if (p.valid_until && new Date(p.valid_until).getTime() <= now) return h`<span class="badge">Expired</span>`;
    return h`<span class="badge">Inactive</span>`;
  }

  _renderPasses() {
    const passes = (this._c.passes || []).slice();
    passes.sort((a, b) => (Number(!!b.active) - Number(!!a.active))
      || String(b.valid_until || "").localeCompare(String(a.valid_until || "")));
    if (!passes.length) {
      this._set("#pass-list", h`<div class="empty" data-testid="empty-state">
        <div class="big">${this._c.includeInactive ? "No visitor passes yet" : "No active visitor passes"}</div>
        Issue one with the form above.</div>`);
      return;
    }
    this._set("#pass-list", h`<div class="table-wrap"><table class="stack">
      <thead><tr><th>Visitor</th><th>Issued by</th><th>Doors</th><th>Valid</th><th class="num">Uses</th><th>Status</th><th></th></tr></thead>
      <tbody>${passes.map((p) => h`<tr data-testid="pass-row" data-pass-id="${p.pass_id}" data-active="${String(!!p.active)}">
        <td data-label="Visitor"><strong>${p.visitor_name}</strong></td>
        <td data-label="Issued by">${this._name(p.issued_by)}</td>
        <td data-label="Doors">${(p.doors || []).map((d) => this._doorName(d)).join(", ")}</td>
        <td data-label="Valid">${this._fmt(p.valid_from, false)} → ${this._fmt(p.valid_until, false)}</td>
        <td data-label="Uses" class="num">${p.uses} / ${p.max_uses}</td>
        <td data-label="Status">${this._passState(p)}</td>
        <td class="actions">
          <button type="button" class="btn text" data-testid="pass-show-qr" data-action="pass-qr" data-pass-id="${p.pass_id}"
            data-busy="pass-qr" ${this._dis("pass-qr")}>Show QR</button>
          ${!p.revoked ? h`<button type="button" class="btn danger secondary" data-testid="pass-revoke" data-action="pass-revoke"
            data-pass-id="${p.pass_id}" data-busy="pass-revoke" ${this._dis("pass-revoke")}>Revoke</button>` : ""}
        </td></tr>`)}</tbody></table></div>`);
  }

  async _showPassQr(el, passId) {
    const p = (this._c.passes || []).find((x) => x.pass_id === passId) || {};
    const result = await this._task("pass-qr", () => this._ws("passes/qr", { pass_id: passId }));
    if (!result) return;
    this._c.qr = { pass_id: result.pass_id || passId, b64: result.qr_png_base64, valid_until: p.valid_until, visitor_name: p.visitor_name };
    this._renderQr();
  }

  async _revokePass(el, passId) {
    const done = await this._task("pass-revoke", async () => {
      await this._ws("passes/revoke", { pass_id: passId });
      return true;
    });
    if (!done) return;
    if (this._c.qr && this._c.qr.pass_id === passId) {
      this._c.qr = null;
      this._renderQr();
    }
    await this._loadPasses();
  }

  // ===========================================================================================================
  // Access log

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
    this._setPagerBusy("log", true);
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
    const page = l.stack.length + 1;
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
      <div class="pager">
        <span class="muted">Page ${page} · newest first</span>
        <div class="row">
          <button type="button" class="btn secondary" data-testid="log-newer" data-action="log-newer" ${l.stack.length ? "" : "disabled"}>← Newer</button>
          <button type="button" class="btn secondary" data-testid="log-older" data-action="log-older" ${l.next === null || l.next === undefined ? "disabled" : ""}>Older →</button>
        </div>
      </div>`);
  }

  _logOlder() {
    const l = this._l;
    if (l.next === null || l.next === undefined) return;
    l.stack.push(l.before);
    l.before = l.next;
    this._loadLog();
  }

  _logNewer() {
    const l = this._l;
    if (!l.stack.length) return;
    l.before = l.stack.pop();
    this._loadLog();
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

  // ===========================================================================================================
  // Devices

  _renderDevicesTab() {
    this._view.innerHTML = esc(h`
      <div id="dev-stats"></div>
      <section class="card">
        <header><h2>Devices</h2>
          <div class="row"><span class="muted small" id="dev-updated"></span>
            <button type="button" class="btn text" data-action="devices-refresh">Refresh</button></div></header>
        <div id="dev-table">${this._loadingHtml("Loading devices…")}</div>
      </section>
      <section class="card">
        <h2>Weekly reports</h2>
        <div id="dev-reports">${this._loadingHtml("Loading reports…")}</div>
      </section>`);
    if (this._d.data) this._renderDevices();
    if (this._d.reports) this._renderReports();
  }

  _startDeviceTimer() {
    this._stopDeviceTimer();
    if (!this.isConnected) return;
    this._timers.devices = setInterval(() => {
      if (this._tab !== "devices" || !this.isConnected) {
        this._stopDeviceTimer();
        return;
      }
      if (document.visibilityState === "hidden") return;
      this._loadDevices(false);
    }, DEVICE_REFRESH_MS);
  }

  _stopDeviceTimer() {
    if (this._timers.devices) clearInterval(this._timers.devices);
    this._timers.devices = null;
  }

  async _loadDevices(userAction) {
    const d = this._d;
    if (d.inflight) return;
    d.inflight = true;
    try {
      d.data = await this._ws("devices/list");
      d.updated = new Date();
      d.failed = false;
    } catch (err) {
      // A failing background refresh reports once, not every five seconds.
      if (userAction || !d.failed) this._setError(err);
      d.failed = true;
      if (!d.data) this._set("#dev-table", h`<div class="empty">The devices could not be loaded.</div>`);
      return;
    } finally {
      d.inflight = false;
    }
    if (this._tab === "devices") this._renderDevices();
  }

  async _loadReports() {
    try {
      const result = await this._ws("reports/list", { limit: 12 });
      this._d.reports = result.reports || [];
    } catch (err) {
      this._setError(err);
      this._set("#dev-reports", h`<div class="empty">The reports could not be loaded.</div>`);
      return;
    }
    if (this._tab === "devices") this._renderReports();
  }

  _devicePct(value, target) {
    if (value === null || value === undefined) return h`<span class="muted">—</span>`;
    const below = target !== null && target !== undefined && Number(value) < Number(target);
    return h`<span class="${below ? "badtext" : ""}">${pct(value)}</span>`;
  }

  _renderDevices() {
    const data = this._d.data || {};
    const target = data.target_percent;
    const community = data.community || {};
    const devices = data.devices || [];
    const offline = devices.filter((x) => !x.online).length;
    const weekOk = community.week_percent === null || community.week_percent === undefined || target === undefined
      ? null : Number(community.week_percent) >= Number(target);
    this._set("#dev-stats", h`<div class="stats">
      <div class="stat" data-testid="device-rate-community">
        <div class="label">Community online today</div><div class="value">${pct(community.day_percent)}</div>
        <div class="label">This week: <strong>${pct(community.week_percent)}</strong>
          ${weekOk === null ? "" : weekOk ? h`<span class="badge ok">meets target</span>` : h`<span class="badge bad">below target</span>`}</div>
      </div>
      <div class="stat"><div class="label">Target</div><div class="value">${target === undefined || target === null ? "—" : `${Number(target)} %`}</div>
        <div class="label">weekly community online rate</div></div>
      <div class="stat"><div class="label">Devices</div><div class="value">${devices.length}</div>
        <div class="label">${offline ? h`<span class="badtext">${offline} offline</span>` : "all online"}</div></div>
    </div>`);
    this._set("#dev-updated", this._d.updated ? h`Updated ${this._d.updated.toLocaleTimeString(this._lang())} · every 5 s` : "");
    if (!devices.length) {
      this._set("#dev-table", h`<div class="empty" data-testid="empty-state"><div class="big">No devices reported yet</div>
        Door controllers, cameras and the uplink appear here once the hub has polled them.</div>`);
      return;
    }
    const now = Date.now();
    this._set("#dev-table", h`<div class="table-wrap"><table class="stack">
      <thead><tr><th>Device</th><th>Kind</th><th>Status</th><th>Since</th><th class="num">Today</th><th class="num">This week</th></tr></thead>
      <tbody>${devices.map((x) => h`<tr data-testid="device-row" data-device-id="${x.device_id}" data-online="${String(!!x.online)}">
        <td data-label="Device" class="title"><strong class="wrap">${this._doorName(x.device_id) !== x.device_id ? h`${this._doorName(x.device_id)} <span class="muted mono">${x.device_id}</span>` : x.device_id}</strong></td>
        <td data-label="Kind">${String(x.kind || "—").replace(/_/g, " ")}</td>
        <td data-label="Status">${x.online ? h`<span class="badge ok">● Online</span>` : h`<span class="badge bad">● Offline</span>`}</td>
        <td data-label="Since">${this._fmt(x.since, false)}${x.since ? h` <span class="muted small">(${fmtDuration((now - new Date(x.since).getTime()) / 1000)})</span>` : ""}</td>
        <td data-label="Today" class="num">${this._devicePct(x.day_percent, target)}</td>
        <td data-label="This week" class="num">${this._devicePct(x.week_percent, target)}</td>
      </tr>`)}</tbody></table></div>`);
  }

  _renderReports() {
    const reports = this._d.reports || [];
    const el = this._$("#dev-reports");
    if (!el) return;
    const open = new Set(Array.from(el.querySelectorAll("details[open]")).map((d) => d.dataset.week));
    if (!reports.length) {
      el.innerHTML = esc(h`<div class="empty" data-testid="empty-state"><div class="big">No weekly reports yet</div>
        A report is made for every finished week (Monday to Monday).</div>`);
      return;
    }
    el.innerHTML = esc(reports.map((r) => {
      const outages = r.outages || [];
      const devices = r.devices || [];
      return h`<details class="report" data-testid="report-row" data-week="${r.week_start}" data-passed="${String(!!r.passed)}"
          ${open.has(r.week_start) ? "open" : ""}>
        <summary><strong>Week of ${r.week_start}</strong>
          <span>${pct(r.online_percent)} <span class="muted">(target ${r.target_percent} %)</span></span>
          ${r.passed ? h`<span class="badge ok">Passed</span>` : h`<span class="badge bad">Failed</span>`}
          <span class="muted">${plural(outages.length, "outage")}</span></summary>
        <div class="body">
          <p class="muted small">${this._fmt(r.start, false)} → ${this._fmt(r.end, false)} (${r.tz}) · mean of devices
            ${pct(r.mean_device_percent)} · generated ${this._fmt(r.generated_at, false)}</p>
          ${devices.length ? h`<h3>Devices</h3><div class="table-wrap"><table class="stack">
            <thead><tr><th>Device</th><th>Kind</th><th class="num">Online</th><th class="num">Offline time</th><th class="num">Outages</th><th>Target</th></tr></thead>
            <tbody>${devices.map((d) => h`<tr>
              <td data-label="Device" class="mono">${d.device_id}</td><td data-label="Kind">${String(d.kind || "").replace(/_/g, " ")}</td>
              <td data-label="Online" class="num">${pct(d.online_percent)}</td>
              <td data-label="Offline time" class="num">${fmtDuration(d.offline_seconds)}</td>
              <td data-label="Outages" class="num">${d.outages}</td>
              <td data-label="Target">${d.meets_target ? h`<span class="good">met</span>` : h`<span class="badtext">missed</span>`}</td>
            </tr>`)}</tbody></table></div>` : ""}
          <h3>Outages</h3>
          ${outages.length ? h`<div class="table-wrap"><table class="stack">
            <thead><tr><th>Device</th><th>From</th><th>To</th><th class="num">Duration</th></tr></thead>
            <tbody>${outages.map((o) => h`<tr data-testid="outage-row">
              <td data-label="Device" class="mono">${o.device_id}</td>
              <td data-label="From">${this._fmt(o.start, false)}${o.began_before_week ? h` <span class="muted small">(already offline)</span>` : ""}</td>
              <td data-label="To">${this._fmt(o.end, false)}${o.continues_after_week ? h` <span class="muted small">(still offline)</span>` : ""}</td>
              <td data-label="Duration" class="num">${fmtDuration(o.seconds)}</td>
            </tr>`)}</tbody></table></div>` : h`<p class="muted">No outages this week.</p>`}
        </div></details>`;
    }));
  }

  // ===========================================================================================================
  // Uplink

  _renderUplink() {
    const data = this._u.data;
    if (!data) {
      this._view.innerHTML = esc(h`<section class="card">${this._loadingHtml("Loading the uplink status…")}</section>`);
      return;
    }
    const configured = !!data.configured;
    const policy = data.field_policy || {};
    const stateText = !configured ? "Not configured" : data.connected ? "Connected" : data.connected === false ? "Not connected" : "Unknown";
    const stateClass = !configured ? "" : data.connected ? "ok" : "bad";
    const oldest = data.oldest_unsent !== undefined && data.oldest_unsent !== null ? this._fmt(data.oldest_unsent)
      : data.oldest_unsent_s !== undefined && data.oldest_unsent_s !== null ? `${fmtDuration(data.oldest_unsent_s)} old` : "—";
    const errors = data.recent_errors || [];
    this._view.innerHTML = esc(h`
      <section class="card">
        <header><h2>Uplink to the platform</h2>
          <button type="button" class="btn text" data-action="uplink-refresh" data-busy="uplink">Refresh</button></header>
        <p><span class="badge ${stateClass}" data-testid="uplink-status" data-configured="${String(configured)}"
          data-connected="${String(!!data.connected)}">${stateText}</span></p>
        ${!configured ? h`<div class="empty" data-testid="empty-state"><div class="big">The uplink is not configured</div>
          Events stay on the hub. To report to the county platform, set the platform URL in the integration's options
          (Settings → Devices &amp; services → Smart Community → Configure).</div>` : ""}
        <dl class="props">
          ${configured ? h`<dt>Profile</dt><dd>${data.profile || "—"}</dd><dt>Platform host</dt><dd class="mono">${data.host || "—"}</dd>` : ""}
          <dt>Backlog (unsent events)</dt><dd><span data-testid="uplink-backlog">${data.backlog === null || data.backlog === undefined ? "—" : String(data.backlog)}</span></dd>
          <dt>Last success</dt><dd>${this._fmt(data.last_success)}</dd>
          <dt>Oldest unsent</dt><dd>${oldest}</dd>
          <dt>Refused by the platform</dt><dd>${data.refused === null || data.refused === undefined ? "—" : String(data.refused)}</dd>
          <dt>Last error</dt><dd class="${data.last_error ? "badtext" : ""}">${data.last_error || "—"}</dd>
        </dl>
      </section>
      <section class="card">
        <h2>Recent errors</h2>
        ${errors.length ? h`<div class="table-wrap"><table class="stack"><thead><tr><th>Time</th><th>Message</th></tr></thead>
          <tbody>${errors.map((e) => h`<tr><td data-label="Time">${this._fmt(e.at)}</td><td data-label="Message">${e.message}</td></tr>`)}</tbody></table></div>`
          : h`<p class="muted">No recent errors.</p>`}
      </section>
      <section class="card" data-testid="uplink-policy">
        <h2>Field policy in force</h2>
        <p class="muted">Only these fields of an event may leave the hub. Face images, templates and other biometric
          data never do.</p>
        <div class="chips">${(policy.fields || []).map((f) => h`<span class="chip mono">${f}</span>`)}</div>
        <h3>Extra fields and their legal basis</h3>
        ${(policy.options || []).length ? h`<div class="table-wrap"><table class="stack">
          <thead><tr><th>Field</th><th>Legal basis</th><th>Reference</th></tr></thead>
          <tbody>${policy.options.map((o) => h`<tr><td data-label="Field" class="mono">${o.field}</td>
            <td data-label="Legal basis">${String(o.legal_basis || "").replace(/_/g, " ")}</td>
            <td data-label="Reference">${o.reference}</td></tr>`)}</tbody></table></div>`
          : h`<p class="muted">None: only the default fields are sent.</p>`}
      </section>`);
  }

  async _loadUplink(btn) {
    const data = await this._task("uplink", () => this._ws("uplink/status"), { keepError: !btn });
    if (data) this._u.data = data;
    if (this._tab !== "uplink") return;
    if (data || this._u.data) this._renderUplink();
    else this._view.innerHTML = esc(h`<section class="card"><div class="empty">The uplink status could not be loaded.</div></section>`);
  }

  // ===========================================================================================================
  // Audit

  _renderAuditTab() {
    this._view.innerHTML = esc(h`
      <section class="card">
        <header><h2>Audit log</h2>
          <div class="row">
            <button type="button" class="btn text" data-action="audit-refresh">Refresh</button>
            <button type="button" class="btn secondary" data-testid="audit-verify" data-action="audit-verify"
              data-busy="audit-verify" ${this._dis("audit-verify")}>Check the hash chain</button>
          </div></header>
        <p class="muted">Every manager action, newest first. Entries are chained by hashes, so any change to past entries
          is detected.</p>
        <div id="audit-verify-slot"></div>
        <div id="audit-table">${this._loadingHtml("Loading the audit log…")}</div>
      </section>`);
    this._renderVerify();
    if (this._a.entries) this._renderAudit();
  }

  async _loadAudit() {
    const a = this._a;
    const req = ++a.req;
    this._setPagerBusy("audit", true);
    try {
      const result = await this._ws("audit/list", { before: a.before ?? undefined, limit: PAGE });
      if (req !== a.req) return;
      a.entries = result.entries || [];
      a.next = result.next_before ?? null;
    } catch (err) {
      if (req !== a.req) return;
      this._setError(err);
      if (!a.entries) this._set("#audit-table", h`<div class="empty">The audit log could not be loaded.</div>`);
      else this._renderAudit();
      return;
    }
    if (this._tab === "audit") this._renderAudit();
  }

  _details(details) {
    if (details === null || details === undefined || details === "") return h`<span class="muted">—</span>`;
    if (typeof details !== "object") return String(details);
    const entries = Object.entries(details);
    if (!entries.length) return h`<span class="muted">—</span>`;
    return entries.map(([k, v]) => h`<span class="kv"><span class="muted">${k}:</span> ${typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)}</span>`);
  }

  _renderAudit() {
    const a = this._a;
    const el = this._$("#audit-table");
    if (!el) return;
    el.innerHTML = esc(h`
      ${a.entries.length ? h`<div class="table-wrap"><table class="stack">
        <thead><tr><th class="num">#</th><th>Time</th><th>Actor</th><th>Action</th><th>Details</th></tr></thead>
        <tbody>${a.entries.map((e) => h`<tr data-testid="audit-row" data-seq="${e.seq}">
          <td data-label="#" class="num mono">${e.seq}</td>
          <td data-label="Time">${this._fmt(e.at)}</td>
          <td data-label="Actor" class="wrap">${e.actor}</td>
          <td data-label="Action" class="mono">${e.action}</td>
          <td data-label="Details" class="wrap">${this._details(e.details)}</td>
        </tr>`)}</tbody></table></div>`
      : h`<div class="empty" data-testid="empty-state"><div class="big">No audit entries${a.stack.length ? " on this page" : " yet"}</div></div>`}
      <div class="pager">
        <span class="muted">Page ${a.stack.length + 1} · newest first</span>
        <div class="row">
          <button type="button" class="btn secondary" data-testid="audit-newer" data-action="audit-newer" ${a.stack.length ? "" : "disabled"}>← Newer</button>
          <button type="button" class="btn secondary" data-testid="audit-older" data-action="audit-older" ${a.next === null || a.next === undefined ? "disabled" : ""}>Older →</button>
        </div>
      </div>`);
  }

  _auditOlder() {
    const a = this._a;
    if (a.next === null || a.next === undefined) return;
    a.stack.push(a.before);
    a.before = a.next;
    this._loadAudit();
  }

  _auditNewer() {
    const a = this._a;
    if (!a.stack.length) return;
    a.before = a.stack.pop();
    this._loadAudit();
  }

  async _verifyAudit() {
    this._a.verify = { running: true };
    this._renderVerify();
    const result = await this._task("audit-verify", () => this._ws("audit/verify"));
    this._a.verify = result || null;
    this._renderVerify();
  }

  _renderVerify() {
    const v = this._a.verify;
    if (!v) return this._set("#audit-verify-slot", "");
    if (v.running) return this._set("#audit-verify-slot", this._loadingHtml("Checking the hash chain…"));
    return this._set("#audit-verify-slot", h`<div class="verify" role="status" data-testid="audit-verify-result" data-ok="${String(!!v.ok)}">
      ${v.ok ? "✓ " : "✗ "}${v.message || (v.ok ? `The hash chain is intact (${v.checked} entries checked).` : "The hash chain is broken.")}
      ${v.ok && v.checked !== undefined && !(v.message || "").includes(String(v.checked)) ? h` <span class="small">(${v.checked} entries checked)</span>` : ""}
    </div>`);
  }

  // ===========================================================================================================
  // Import

  _renderImport() {
    const template = `data:text/csv;charset=utf-8,${encodeURIComponent(`${CSV_COLUMNS.map((c) => c[0]).join(",")}\r\n`)}`;
    this._view.innerHTML = esc(h`
      <section class="card">
        <h2>Import residents from a CSV file</h2>
        <p class="muted">All rows are checked first: nothing is written unless every row is valid. Face photos are checked
          one by one; only their templates are kept.</p>
        <div class="form-grid three">
          <label class="field"><span>CSV file *</span>
            <input type="file" accept=".csv,text/csv" data-testid="import-csv" data-change="import-csv"></label>
          <label class="field"><span>Photos (files)</span>
            <input type="file" accept="image/jpeg,image/png" multiple data-testid="import-photos" data-change="import-photos"></label>
          <label class="field"><span>…or a folder of photos</span>
            <input type="file" webkitdirectory multiple data-testid="import-folder" data-change="import-folder"></label>
        </div>
        <div id="import-plan"></div>
        <div class="row end" style="margin-top:12px">
          <button type="button" class="btn secondary" data-action="import-reset">Start over</button>
          <button type="button" class="btn" data-testid="import-run" data-action="import-run" data-busy="import"
            id="import-run">Import</button>
        </div>
        <div id="import-progress-slot"></div>
      </section>
      <section class="card" id="import-report-card"></section>
      <section class="card" aria-labelledby="cols-h">
        <header><h2 id="cols-h">Expected CSV columns</h2>
          <a class="btn secondary" href="${template}" download="residents-template.csv">Download an empty template</a></header>
        <p class="muted">UTF-8, comma-separated, the first row is the header with these names (any order).</p>
        <div class="table-wrap"><table class="stack" data-testid="import-columns">
          <thead><tr><th>Column</th><th>Needed</th><th>Content</th></tr></thead>
          <tbody>${CSV_COLUMNS.map(([name, need, text]) => h`<tr><td data-label="Column" class="mono title">${name}</td>
            <td data-label="Needed">${need}</td><td data-label="Content">${text}</td></tr>`)}</tbody></table></div>
      </section>`);
    this._renderImportPlan();
    this._renderImportProgress();
    this._renderImportReport();
  }

  async _importCsvChosen(file) {
    const i = this._i;
    i.csvFile = file || null;
    i.csvText = "";
    i.csv = null;
    i.report = null;
    if (file) {
      try {
        i.csvText = await readText(file);
        i.csv = this._analyseCsv(i.csvText);
      } catch (err) {
        this._setError(err);
      }
    }
    this._renderImportPlan();
    this._renderImportReport();
  }

  _analyseCsv(text) {
    const rows = parseCsv(text, csvDelimiter(text));
    if (!rows.length) return { rows: 0, photos: [], error: "The CSV file is empty." };
    const header = rows[0].map((c) => c.trim().toLowerCase());
    const missing = ["resident_id", "full_name"].filter((c) => !header.includes(c));
    const unknown = header.filter((c) => c && !CSV_COLUMNS.some(([n]) => n === c));
    const col = header.indexOf("photos");
    const photos = [];
    const seen = new Set();
    if (col >= 0) {
      for (const row of rows.slice(1)) {
        for (const name of String(row[col] || "").split(/[;|]/).map((x) => x.trim()).filter(Boolean)) {
          if (!seen.has(name)) {
            seen.add(name);
            photos.push(name);
          }
        }
      }
    }
    return {
      rows: rows.length - 1, photos,
      error: missing.length ? `The header lacks ${missing.join(" and ")}.` : null,
      unknown,
    };
  }

  // The chosen photo files by name: the CSV's names are matched to file names (or folder paths), case-insensitively.
  _photoPlan() {
    const i = this._i;
    const files = [...i.photos, ...i.folder].filter((f) => PHOTO_TYPES.includes(f.type) || /\.(jpe?g|png)$/i.test(f.name));
    const byName = new Map();
    const byPath = new Map();
    for (const f of files) {
      const key = f.name.toLowerCase();
      if (!byName.has(key)) byName.set(key, f);
      const rel = (f.webkitRelativePath || "").toLowerCase();
      if (rel) {
        const parts = rel.split("/");
        for (let k = 0; k < parts.length; k += 1) {
          const sub = parts.slice(k).join("/");
          if (!byPath.has(sub)) byPath.set(sub, f);
        }
      }
    }
    const found = [];
    const missing = [];
    for (const name of (i.csv && i.csv.photos) || []) {
      const key = name.replace(/\\/g, "/").replace(/^\.\//, "").toLowerCase();
      const file = byPath.get(key) || byName.get(key) || byName.get(key.split("/").pop());
      if (file) found.push({ name, file });
      else missing.push(name);
    }
    return { files, found, missing };
  }

  _renderImportPlan() {
    const i = this._i;
    const el = this._$("#import-plan");
    if (!el) return;
    const plan = this._photoPlan();
    const c = i.csv;
    el.innerHTML = esc(h`<div style="margin-top:12px">
      ${!i.csvFile ? h`<p class="muted">Choose the CSV file${plan.files.length ? h` (${plural(plan.files.length, "photo")} chosen)` : ""}.</p>`
      : !c ? this._loadingHtml("Reading the CSV…")
      : h`<ul class="plain">
        <li><strong>${i.csvFile.name}</strong> <span class="muted">${plural(c.rows, "row")}</span></li>
        ${c.error ? h`<li class="badtext">${c.error}</li>` : ""}
        ${c.unknown && c.unknown.length ? h`<li class="muted">Unknown columns: ${c.unknown.join(", ")}</li>` : ""}
        <li>${c.photos.length ? h`${plural(c.photos.length, "photo")} named in the CSV: ${plan.found.length} found among the
          ${plural(plan.files.length, "chosen file")}${plan.missing.length ? h`; <span class="badtext">missing: ${plan.missing.join(", ")}</span>` : ""}`
          : "The CSV names no photos."}</li>
      </ul>`}</div>`);
    const run = this._$("#import-run");
    if (run) {
      const blocked = !c || i.running;
      run.dataset.disabledReason = blocked ? "1" : "";
      run.disabled = blocked || this._isBusy("import");
      run.textContent = c && c.rows ? `Import ${plural(c.rows, "row")}` : "Import";
    }
  }

  _renderImportProgress() {
    const p = this._i.progress;
    const el = this._$("#import-progress-slot");
    if (!el) return;
    el.innerHTML = esc(p ? h`<div class="progress" data-testid="import-progress" role="status" aria-live="polite">
      <span>${p.label}</span>
      ${p.total ? h`<progress max="${p.total}" value="${p.done}"></progress>` : h`<progress></progress>`}</div>` : "");
  }

  _renderImportReport() {
    const i = this._i;
    const el = this._$("#import-report-card");
    if (!el) return;
    const report = i.report;
    const refused = i.photoResults.filter((p) => !p.accepted);
    if (!report && !refused.length) {
      el.hidden = true;
      el.innerHTML = "";
      return;
    }
    el.hidden = false;
    const rows = (report && report.rows) || [];
    const okRows = rows.filter((r) => r.ok).length;
    const photoText = (p) => (Array.isArray(p) ? p.join(", ") : p === null || p === undefined ? "" : typeof p === "number" ? plural(p, "photo") : String(p));
    el.innerHTML = esc(h`<h2>Import report</h2>
      ${report ? h`<div class="summary ${report.imported ? "ok" : "bad"}" data-testid="import-summary" data-imported="${String(!!report.imported)}" role="status">
        ${report.imported ? `Imported ${plural(okRows || rows.length, "resident")}` : "Nothing was imported: fix the rows marked below and try again"}
        ${!report.imported && rows.length ? h`<div class="small" style="font-weight:400">${rows.length - okRows} of ${plural(rows.length, "row")} need fixing.</div>` : ""}
      </div>` : ""}
      ${report && (report.errors || []).length ? h`<ul class="errors" data-testid="import-errors">${report.errors.map((e) => h`<li>${e}</li>`)}</ul>` : ""}
      ${refused.length ? h`<h3>Photos not used</h3><ul class="plain">${refused.map((p) => h`<li><span class="mono">${p.filename}</span>
        <span class="badtext">✗ ${p.reason || "refused"}</span></li>`)}</ul>` : ""}
      ${rows.length ? h`<h3>Rows</h3><div class="table-wrap"><table class="stack">
        <thead><tr><th class="num">Row</th><th>Resident id</th><th>Result</th><th>Photos</th></tr></thead>
        <tbody>${rows.map((r) => h`<tr data-testid="import-row" data-ok="${String(!!r.ok)}" data-row="${r.row}">
          <td data-label="Row" class="num">${r.row}</td>
          <td data-label="Resident id" class="mono">${r.resident_id || "—"}</td>
          <td data-label="Result">${r.ok ? h`<span class="good">✓ OK</span>`
            : h`<ul class="errors">${(r.errors || []).map((e) => h`<li>${e}</li>`)}</ul>`}</td>
          <td data-label="Photos">${photoText(r.photos) || "—"}</td>
        </tr>`)}</tbody></table></div>` : ""}`);
  }

  _resetImport() {
    if (this._i.running) return;
    this._i = { csvFile: null, csvText: "", csv: null, photos: [], folder: [], running: false, progress: null, photoResults: [], report: null };
    this._setError(null);
    this._renderImport();
  }

  async _runImport() {
    const i = this._i;
    if (i.running || !i.csv) return;
    const plan = this._photoPlan();
    i.report = null;
    i.photoResults = [];
    i.running = true;
    this._renderImportReport();
    await this._task("import", async () => {
      const uploadIds = [];
      const total = plan.found.length;
      try {
        for (let k = 0; k < total; k += 1) {
          const { name, file } = plan.found[k];
          i.progress = { label: `Uploading photo ${k + 1} of ${total}`, done: k, total };
          this._renderImportProgress();
          let result;
          if (file.size > MAX_PHOTO_BYTES) result = { filename: name, accepted: false, reason: "larger than 3 MB" };
          else {
            try {
              const photo = await readBase64(file);
              result = await this._ws("import/photo", { filename: name, photo });
            } catch (err) {
              result = { filename: name, accepted: false, reason: errMsg(err) };
            }
          }
          i.photoResults.push({ filename: name, accepted: !!result.accepted, reason: result.reason, upload_id: result.upload_id });
          // Refused photos go along too: the hub then names the reason on the row that lists them.
          if (result.upload_id) uploadIds.push(result.upload_id);
        }
        for (const name of plan.missing) i.photoResults.push({ filename: name, accepted: false, reason: "not among the chosen photos" });
        i.progress = { label: `Checking and importing ${plural(i.csv.rows, "row")}…`, done: 0, total: 0 };
        this._renderImportProgress();
        i.report = await this._ws("import/commit", { csv: i.csvText, upload_ids: uploadIds });
      } finally {
        i.running = false;
        i.progress = null;
        this._renderImportProgress();
        this._renderImportReport();
        this._renderImportPlan();
      }
      if (i.report && i.report.imported) {
        this._allResidents = null;
        this._r.list = null;
        this._loadOverview();
      }
      const card = this._$("#import-report-card");
      if (card && card.scrollIntoView) card.scrollIntoView({ block: "start", behavior: "smooth" });
    });
    this._renderImportPlan();
  }
}

if (!customElements.get("smart-community-panel")) {
  customElements.define("smart-community-panel", SmartCommunityPanel);
}
