// What every tab of the panel uses: the websocket commands (hass.callWS), the busy state of buttons, the error
// banner, the confirmation dialog, times in the user's Home Assistant time zone, and the residents' names.
// The element (smart-community-panel.js) extends this class through the tabs' mixins.

import { errMsg } from "./format.js";
import { esc, h } from "./html.js";

const PREFIX = "smart_community/";
export const PAGE = 50;

export class PanelBase extends HTMLElement {
  // -- the shadow root: one element, or one element's content (escaped) ----------------------------------------

  _$(selector) {
    return this.shadowRoot.querySelector(selector);
  }

  _set(selector, html) {
    const el = this._$(selector);
    if (el) el.innerHTML = esc(html);
    return el;
  }

  // -- backend calls, busy state and the error banner ------------------------------------------------------------

  _ws(name, fields = {}) {
    if (!this._hass || typeof this._hass.callWS !== "function") {
      return Promise.reject({ code: "not_ready", message: "Home Assistant is not connected yet." });
    }
    const msg = { type: PREFIX + name };
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) msg[key] = value;
    return this._hass.callWS(msg);
  }

  _isBusy(key) {
    return this._busy.has(key);
  }

  _setBusy(key, on) {
    if (on) this._busy.add(key);
    else this._busy.delete(key);
    this.shadowRoot.querySelectorAll(`[data-busy="${key}"]`).forEach((el) => {
      el.disabled = on || el.dataset.disabledReason === "1";
      el.classList.toggle("busy", on);
    });
  }

  // Run `fn` with the button(s) marked data-busy=key disabled and spinning; errors go to the banner.
  async _task(key, fn, { keepError = false } = {}) {
    if (this._busy.has(key)) return undefined;
    if (!keepError) this._setError(null);
    this._setBusy(key, true);
    try {
      return await fn();
    } catch (err) {
      this._setError(err);
      return undefined;
    } finally {
      this._setBusy(key, false);
    }
  }

  _dis(key, extra = false) {
    return this._busy.has(key) || extra ? "disabled" : "";
  }

  _setError(err) {
    this._error = err ? errMsg(err) : null;
    const code = err && typeof err === "object" && typeof err.code === "string" ? err.code : "";
    const slot = this._$("#banner-slot");
    if (!slot) return;
    if (!this._error) {
      slot.innerHTML = "";
      return;
    }
    let hint = "";
    if (code === "unauthorized") hint = "Only Home Assistant administrators can manage the community.";
    else if (code === "no_community") hint = "Set up the community hub integration first.";
    slot.innerHTML = esc(h`<div class="banner" role="alert" data-testid="error-banner">
      <div class="msg"><strong>Error:</strong> ${this._error}${hint ? h` <span class="muted">${hint}</span>` : ""}</div>
      <button type="button" class="btn text" data-action="dismiss-error" aria-label="Dismiss the error">Dismiss</button>
    </div>`);
  }

  _confirm({ title, body, confirmLabel, testid, danger = true }) {
    return new Promise((resolve) => {
      const dialog = document.createElement("dialog");
      dialog.setAttribute("aria-labelledby", "dlg-title");
      dialog.innerHTML = esc(h`<form method="dialog" class="dlg">
        <h2 id="dlg-title">${title}</h2>
        <div class="dlg-body">${body}</div>
        <div class="row end">
          <button type="button" class="btn secondary" value="cancel" data-dlg="cancel">Cancel</button>
          <button type="button" class="btn ${danger ? "danger" : ""}" value="ok" data-dlg="ok"
            data-testid="${testid}">${confirmLabel}</button>
        </div></form>`);
      let answered = false;
      const finish = (ok) => {
        if (answered) return;
        answered = true;
        if (dialog.open) dialog.close();
        dialog.remove();
        resolve(ok);
      };
      dialog.addEventListener("click", (ev) => {
        const btn = ev.target.closest("[data-dlg]");
        if (btn) {
          ev.stopPropagation();
          finish(btn.dataset.dlg === "ok");
        }
      });
      dialog.addEventListener("cancel", () => finish(false));
      dialog.addEventListener("close", () => finish(false));
      this.shadowRoot.querySelector(".root").appendChild(dialog);
      if (typeof dialog.showModal === "function") dialog.showModal();
      else dialog.setAttribute("open", "");
      const cancel = dialog.querySelector('[data-dlg="cancel"]');
      if (cancel) cancel.focus();
    });
  }

  // -- time formatting (the user's Home Assistant time zone setting) --------------------------------------------

  _tz() {
    const hass = this._hass;
    const setting = hass && hass.locale && hass.locale.time_zone;
    if (setting === "server" && hass.config && hass.config.time_zone) return hass.config.time_zone;
    return undefined;
  }

  _lang() {
    const hass = this._hass;
    return (hass && ((hass.locale && hass.locale.language) || hass.language)) || undefined;
  }

  _fmt(iso, withSeconds = true) {
    if (!iso) return "—";
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return String(iso);
    try {
      return new Intl.DateTimeFormat(this._lang(), {
        dateStyle: "medium", timeStyle: withSeconds ? "medium" : "short", timeZone: this._tz(),
      }).format(date);
    } catch (_err) {
      return date.toLocaleString();
    }
  }

  // -- names of residents and doors, and what several tabs load or show ------------------------------------------

  _name(residentId) {
    if (!residentId) return "—";
    const name = this._names.get(residentId);
    return name ? `${name} (${residentId})` : residentId;
  }

  _remember(residents) {
    for (const r of residents || []) if (r && r.resident_id) this._names.set(r.resident_id, r.full_name);
  }

  _doorName(doorId) {
    const doors = (this._overview && this._overview.doors) || [];
    const door = doors.find((d) => d.door_id === doorId);
    return door ? door.name || door.door_id : doorId;
  }

  _loadingHtml(text = "Loading…") {
    return h`<div class="loading" role="status"><span class="spinner" aria-hidden="true"></span>${text}</div>`;
  }

  // Residents for the selects (credentials, visitor passes, access log person).
  async _loadAllResidents(query) {
    const req = (this._allReq = (this._allReq || 0) + 1);
    try {
      const result = await this._ws("residents/list", { query: query || "", offset: 0, limit: 500 });
      if (req !== this._allReq) return;
      this._allResidents = { total: result.total || 0, residents: result.residents || [], query: query || "" };
      this._remember(this._allResidents.residents);
    } catch (err) {
      if (req === this._allReq) this._setError(err);
      return;
    }
    if (this._tab === "credentials") this._renderCredSelects();
    if (this._tab === "access-log") this._renderLogPeople();
  }
}
