// Smart Community: the property managers' panel (Home Assistant sidebar, loaded by panel_custom as an ES module).
//
// Plain web components in native ES modules: no build step and no dependencies; the browser loads them by the
// relative imports below. This module is the element itself (Home Assistant's properties, the skeleton with its
// tabs, the event dispatch and the tab switch); tabs/ holds one mixin per tab (or part of one), shared/ what the
// tabs share. It talks to the integration only through hass.callWS({type: "smart_community/<name>", ...}); the
// commands are documented in docs/panel.md. Every interpolated value goes through the `h` tagged template
// (shared/html.js), which escapes it unless it is itself `h` output.

import { plural } from "./shared/format.js";
import { h, Raw } from "./shared/html.js";
import { PAGE, PanelBase } from "./shared/panel-base.js";
import { STYLE } from "./shared/styles.js";
import { AccessLogTab } from "./tabs/access-log.js";
import { AccessRulesTab } from "./tabs/access-rules.js";
import { AlarmsTab } from "./tabs/alarms.js";
import { AuditTab } from "./tabs/audit.js";
import { ConsentTexts } from "./tabs/consent-texts.js";
import { CredentialsTab } from "./tabs/credentials.js";
import { DevicesTab } from "./tabs/devices.js";
import { Enrolment } from "./tabs/enrolment.js";
import { ImportTab } from "./tabs/import.js";
import { VisitorPasses } from "./tabs/passes.js";
import { ResidentAdd } from "./tabs/resident-add.js";
import { ResidentsTab } from "./tabs/residents.js";
import { UplinkTab } from "./tabs/uplink.js";
import { VehiclesTab } from "./tabs/vehicles.js";

const TABS = [
  ["residents", "Residents"],
  ["alarms", "Alarms"],
  ["credentials", "Credentials & visitors"],
  ["access-log", "Access log"],
  ["access-rules", "Access rules"],
  ["devices", "Devices"],
  ["uplink", "Uplink"],
  ["audit", "Audit"],
  ["import", "Import"],
  ["vehicles", "Vehicles"],
];
const SEARCH_DEBOUNCE_MS = 300;

// Each tab is a mixin, (Base) => class extends Base {...}: its methods join the one element and use its state
// (made in the constructor below) and PanelBase's services. No two modules define the same method.
const PanelWithTabs = [
  ResidentsTab, Enrolment, CredentialsTab, VisitorPasses, AccessLogTab, DevicesTab, UplinkTab, AuditTab, ImportTab,
  AlarmsTab, AccessRulesTab,
  VehiclesTab, ConsentTexts, ResidentAdd,
].reduce((base, tab) => tab(base), PanelBase);

class SmartCommunityPanel extends PanelWithTabs {
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
    this._consentTexts = null;
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
    this._d = { data: null, history: null, problems: null, reports: null, inflight: false };
    this._u = { data: null };
    this._al = { alarms: null, includeClosed: false, open: 0, req: 0 };
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
    if (this._inited) this._startAlarmTimer();
    this._updateTabOverflow();
  }

  disconnectedCallback() {
    this._stopDeviceTimer();
    this._stopAlarmTimer();
    clearTimeout(this._timers.search);
    clearTimeout(this._timers.credSearch);
    this._logLive(false);
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
            <div class="sub" id="face-levels" data-testid="face-levels"></div>
          </div>
          <div class="tabs-wrap">
            <button type="button" class="tabs-scroll less" data-action="tabs-less" data-testid="tabs-less" hidden
              aria-label="Earlier tabs" tabindex="-1">‹</button>
            <nav class="tabs" role="tablist" aria-label="Community sections">
              ${TABS.map(([id, label]) => h`<button type="button" class="tab" role="tab" id="tabbtn-${id}"
                data-testid="tab-${id}" data-action="tab" data-tab="${id}" aria-controls="view"
                aria-selected="${id === this._tab ? "true" : "false"}">${label}${id === "alarms"
                  ? h` <span class="tab-badge" data-testid="alarm-badge" hidden>0</span>` : ""}</button>`)}
            </nav>
            <button type="button" class="tabs-scroll more" data-action="tabs-more" data-testid="tabs-more" hidden
              aria-label="More tabs" tabindex="-1">›</button>
          </div>
          <div id="banner-slot"></div>
        </div>
        <main class="content" id="view" role="tabpanel"></main>
      </div>`}`;
    this._view = root.getElementById("view");
    // A phone shows only some tabs: arrows (and a fade) at the ends say that more are there, and scroll to them.
    const nav = root.querySelector(".tabs");
    nav.addEventListener("scroll", () => this._updateTabOverflow(), { passive: true });
    if (typeof ResizeObserver === "function") new ResizeObserver(() => this._updateTabOverflow()).observe(nav);
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

  _updateTabOverflow() {
    const nav = this._$(".tabs");
    if (!nav) return;
    const left = nav.scrollLeft > 4;
    const right = nav.scrollWidth - nav.clientWidth - nav.scrollLeft > 4;
    const less = this._$('[data-testid="tabs-less"]');
    const more = this._$('[data-testid="tabs-more"]');
    if (less) less.hidden = !left;
    if (more) more.hidden = !right;
  }

  _scrollTabs(direction) {
    const nav = this._$(".tabs");
    if (!nav) return;
    nav.scrollBy({ left: direction * Math.max(120, nav.clientWidth * 0.7), behavior: "smooth" });
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
    if (el.getAttribute("aria-invalid") === "true") {
      el.removeAttribute("aria-invalid");
      const said = el.nextElementSibling;  // the field's own error goes once the manager changes the field
      if (said && said.classList.contains("err")) said.remove();
    }
  }

  _onChange(ev) {
    const el = ev.target;
    switch (el.dataset.change) {
      case "face-photos":
        this._checkFaces(Array.from(el.files || []));
        el.value = "";
        break;
      case "face-anyway":
        this._setFaceAnyway(el.dataset.uploadId, el.checked);
        break;
      case "cred-resident":
        this._selectCredResident(el.value);
        break;
      case "alarms-closed":
        this._al.includeClosed = el.checked;
        this._loadAlarms();
        break;
      case "log-live":
        this._logLive(el.checked);
        break;
      case "rules-resident":
        this._selectRulesResident(el.value);
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
        this._formConsentChanged();
        break;
      }
      case "resident-consent-text":
        this._formConsentChanged();
        break;
      case "resident-photos":
        this._checkNewPhotos(Array.from(el.files || []));
        el.value = "";
        break;
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
      case "tabs-more": return this._scrollTabs(1);
      case "tabs-less": return this._scrollTabs(-1);
      case "submit-alarm-ack": return this._acknowledgeAlarm(el.form || el);
      case "submit-alarm-close": return this._closeAlarm(el.form || el);
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
      case "submit-consent-choice": return this._recordConsentChoice(el.form || el);
      case "submit-consent-text": return this._saveConsentText(el.form || el);
      case "consent-texts": return this._openConsentTexts(d.back);
      case "consent-texts-back": return this._consentTextsBack();
      case "consent-text-edit": return this._editConsentText(d.templateId);
      case "consent-text-new": return this._newConsentText();
      case "consent-withdraw": return this._withdrawConsent(el);
      case "face-enrol": return this._enrolFaces(el);
      case "face-clear": return this._clearFaces(true);
      case "face-remove": return this._removeFacePhoto(d.uploadId, d.index);
      case "resident-erase": return this._eraseResident(el);
      case "go-import": return this._showTab("import");
      case "submit-card": return this._addCard(el.form || el);
      case "card-revoke": return this._revokeCard(el, d.cardId);
      case "submit-pin": return this._setPin(el.form || el);
      case "pin-revoke": return this._revokePin(el);
      case "submit-pass": return this._issuePass(el.form || el);
      case "pass-qr": return this._showPassQr(el, d.passId);
      case "pass-revoke": return this._revokePass(el, d.passId);
      case "pass-link-copy": return this._copyPassLink(el);
      case "qr-close": this._c.qr = null; return this._renderQr();
      case "submit-log": return this._applyLog(el);
      case "submit-ack": return this._acknowledgeProblem(el.form || el);
      case "log-older": return this._logOlder();
      case "log-newer": return this._logNewer();
      case "log-export": return this._exportLog(el);
      case "log-range": return this._logRange(d.range);
      case "rule-remove": return this._removeRule(el, d.ruleId);
      case "log-pick": return this._logPick(d.residentId);
      case "submit-card-lookup": return this._lookupCard(el.form || el);
      case "devices-refresh": return this._loadDevices(true);
      case "uplink-refresh": return this._loadUplink(el);
      case "audit-older": return this._auditOlder();
      case "audit-newer": return this._auditNewer();
      case "audit-verify": return this._verifyAudit(el);
      case "audit-refresh": this._a.stack = []; this._a.before = null; return this._loadAudit();
      case "import-run": return this._runImport(el);
      case "import-reset": return this._resetImport();
      default:
        return /^(submit-)?veh-/.test(name) ? this._vehAction(name.replace(/^submit-/, ""), el) : undefined;
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
    this._loadAlarms();  // the tab's badge
    this._startAlarmTimer();
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
    this._set("#subtitle", o.title ? h`${o.title} · ${plural(o.residents || 0, "resident")} · ${plural(o.enrolled_faces || 0, "person enrolled", "people enrolled")}` : "");
    this._renderFaceLevels(o.gate_levels || [], o.doors || []);
    // Parts of tabs that need the doors.
    if (this._tab === "credentials") this._renderPassDoors();
    if (this._tab === "access-log") this._renderLogDoors();
  }

  // Each gate's face assurance; face alone is marked as a convenience level, with the measured risk.
  _renderFaceLevels(levels, doors) {
    const names = new Map(doors.map((d) => [d.door_id, d.name || d.door_id]));
    const label = { face_alone: "face alone", face_and_second_factor: "face + card or PIN", face_off: "face off" };
    this._set("#face-levels", levels.map((g) => h`<div data-testid="face-level">${names.get(g.door_id) || g.gate}:
      ${g.warning ? h`<span class="badge warn">${label[g.face_assurance]} · convenience</span>` : label[g.face_assurance] || g.face_assurance}${g.windows.map((w) => h` · ${label[w.level] || w.level} ${w.start}–${w.end}`)}${g.warning ? h` <span class="muted small" data-testid="face-alone-risk">${g.warning}</span>` : ""}</div>`));
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
    this._updateTabOverflow();
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
      case "alarms":
        this._loadAlarms();
        break;
      case "audit":
        this._loadAudit();
        break;
      case "vehicles":
        this._loadVehicles();
        break;
      case "access-rules":
        this._loadRules();
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
      case "alarms": this._renderAlarmsTab(); break;
      case "audit": this._renderAuditTab(); break;
      case "access-rules": this._renderRulesTab(); break;
      case "import": this._renderImport(); break;
      case "vehicles": this._renderVehicles(); break;
      default: break;
    }
  }
}

if (!customElements.get("smart-community-panel")) {
  customElements.define("smart-community-panel", SmartCommunityPanel);
}
