// The Residents tab: the searchable list, the add/edit form (adding is one flow: the record, card, PIN, consent on
// a consent text and photos, ending on the new resident's page), a resident's page (details, credentials, consent,
// doors and hours, vehicles, recent access) and erasure with its receipt (the add flow's consent and photos, and
// the page's doors and hours: resident-add.js; consent texts and consent on the page: consent-texts.js; faces on
// that page: enrolment.js, whose commands the add flow calls for its photos).

import { errMsg, inputToIso, plural, toInput } from "../shared/format.js";
import { esc, h } from "../shared/html.js";
import { PAGE } from "../shared/panel-base.js";

const RESIDENT_FIELDS = ["resident_id", "full_name", "household", "building", "unit", "valid_from", "valid_until",
  "guardian", "status", "card_number", "pin", "keypad_code"];
const NO_CONSENT_REASON = "Record consent first: the hub keeps face templates only with consent.";
const FIELD_LABELS = { resident_id: "Resident id", full_name: "Full name", card_number: "Card number",
  keypad_code: "Keypad code", valid_from: "Valid from", valid_until: "Valid until", is_minor: "Minor" };

// The hub names fields as its commands do (resident_id); the form says them as their labels do (Resident id).
function inWords(message) {
  return String(message || "").replace(/\b(resident_id|full_name|card_number|keypad_code|valid_from|valid_until|is_minor)\b/g,
    (name) => FIELD_LABELS[name]);
}

export const ResidentsTab = (Base) => class extends Base {
  _renderResidents() {
    const r = this._r;
    if (r.mode === "form") return this._renderResidentForm();
    if (r.mode === "detail") return this._renderResidentDetail();
    if (r.mode === "receipt") return this._renderReceipt();
    if (r.mode === "consent-texts") return this._renderConsentTextsPage();
    this._view.innerHTML = esc(h`
      <section class="card">
        <div class="toolbar">
          <label class="field grow"><span>Search residents</span>
            <input type="search" data-testid="resident-search" data-input="res-search" value="${r.query}"
              placeholder="Name, id, building, unit or household" autocomplete="off" aria-label="Search residents"></label>
          <button type="button" class="btn secondary" data-testid="consent-texts-open" data-action="consent-texts">Consent texts</button>
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
          <th>Consent</th><th class="num">Face templates</th><th class="num">Cards</th></tr></thead>
        <tbody>${r.list.map((res) => h`
          <tr class="click" tabindex="0" data-testid="resident-row" data-resident-id="${res.resident_id}"
              data-action="open-resident" aria-label="Open ${res.full_name}">
            <td data-label="Name" class="title"><strong>${res.full_name}</strong>${res.is_minor ? h` <span class="badge">minor</span>` : ""}</td>
            <td data-label="Resident id" class="mono">${res.resident_id}</td>
            <td data-label="Household" class="hide-narrow">${res.household || "—"}</td>
            <td data-label="Building / unit">${[res.building, res.unit].filter(Boolean).join(" / ") || "—"}</td>
            <td data-label="Status">${this._statusBadge(res.status)}</td>
            <td data-label="Consent">${res.consent ? h`<span class="good">✓ given</span>` : h`<span class="muted">none</span>`}</td>
            <td data-label="Face templates" class="num hide-narrow">${String(res.faces || 0)}</td>
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
    this._r.newPhotos = { items: [], run: (this._r.newPhotos ? this._r.newPhotos.run : 0) + 1, running: false };
    this._setError(null);
    this._renderResidentForm();
    const first = this._$('[data-testid="resident-form-name"]');
    if (first) first.focus();
    if (!resident) {
      this._loadConsentTexts(true).then(() => {
        if (this._r.mode === "form" && !this._r.editing) this._renderFormConsent();
      });
    }
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
            <label class="field"><span>Full name *</span>
              <input name="full_name" data-testid="resident-form-name" value="${v("full_name")}" autocomplete="off" required maxlength="200"></label>
            <label class="field"><span>Resident id${res ? "" : " (optional)"}</span>
              <input name="resident_id" data-testid="resident-form-id" value="${v("resident_id")}" autocomplete="off"
                ${res ? "readonly" : ""} maxlength="64" placeholder="${res ? "" : "Leave empty to generate one"}">
              <span class="muted small">${res ? "Cannot be changed" : "One word: letters, digits and . _ : @ - (e.g. A-1203-01). Left empty, the hub makes one."}</span></label>
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
          ${res ? "" : h`
          <h3>Card and PIN (optional)</h3>
          <div class="form-grid">
            <label class="field"><span>Card number</span>
              <input name="card_number" data-testid="resident-form-card" autocomplete="off" inputmode="numeric" maxlength="64"
                placeholder="The number printed on the card"></label>
            <label class="field"><span>PIN</span>
              <input name="pin" type="password" data-testid="resident-form-pin" autocomplete="new-password" inputmode="numeric"
                maxlength="12"><span class="muted small">Typed at a keypad after the resident's keypad code</span></label>
            <label class="field"><span>Keypad code (optional)</span>
              <input name="keypad_code" data-testid="resident-form-keypad" autocomplete="off" inputmode="numeric" maxlength="8"
                placeholder="Left empty, the hub picks one"></label>
          </div>
          <h3>Consent and photos (optional)</h3>
          <div id="res-form-consent"></div>
          <label class="field"><span>Photos for face recognition (JPEG or PNG, one face, up to 3 MB each)</span>
            <input type="file" accept="image/jpeg,image/png" multiple data-testid="resident-form-photos"
              data-change="resident-photos" disabled aria-describedby="res-form-photo-reason"></label>
          <p class="muted small" id="res-form-photo-reason" data-testid="resident-form-photo-reason"></p>
          <div id="res-form-photos"></div>`}
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
        span.textContent = inWords(message);
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
    if (!val("full_name")) errors.push(["full_name", "full_name: enter the resident's name"]);
    if (isMinor && !val("guardian")) errors.push(["guardian", "guardian: a minor needs a guardian, who gives their consent"]);
    if (errors.length) {
      r.formError = errors.map((e) => e[1]).join("; ");
      this._set("#res-form-error", "");
      this._clearFieldErrors(form);
      for (const [name, text] of errors.slice().reverse()) this._markFieldErrors(form, text, name);
      return;
    }
    if (!editing) {
      this._createResident(form, msg, val, isMinor, tz);
      return;
    }
    for (const k of ["full_name", "household", "building", "unit", "guardian"]) {
      const now = val(k);
      if (now !== (editing[k] || "")) msg[k] = now || (k === "full_name" ? now : null);
    }
    for (const k of ["valid_from", "valid_until"]) {
      if (val(k) !== toInput(editing[k], tz)) msg[k] = val(k) ? inputToIso(val(k), tz) : null;
    }
    if (isMinor !== !!editing.is_minor) msg.is_minor = isMinor;
    const status = val("status");
    if (status && status !== editing.status) msg.status = status;
    r.formError = null;
    this._set("#res-form-error", "");
    this._clearFieldErrors(form);
    const saved = await this._formTask(form, () => this._ws("residents/update", msg));
    if (!saved) return;
    this._remember([saved]);
    this._allResidents = null;
    this._showResidentDetail(saved);
  }

  // A form's command: a refusal is said once, beside the field it is about (or under the form), not in the banner.
  async _formTask(form, fn) {
    const r = this._r;
    let failed = null;
    const result = await this._task("res-save", async () => {
      try {
        return await fn();
      } catch (err) {
        failed = errMsg(err);
        return undefined;
      }
    });
    if (failed) {
      r.formError = failed;
      const onField = this._markFieldErrors(form, failed);
      this._set("#res-form-error", onField ? "" : h`<p class="form-error" role="status">${inWords(failed)}</p>`);
    }
    return result;
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
      this._renderConsentChoice();
      this._renderFaceCount();
      this._renderConsentGate();
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
              <input type="file" accept="image/jpeg,image/png" multiple data-testid="face-photos" data-change="face-photos"
                aria-describedby="face-photos-reason"></label>
            <p class="muted small" id="face-photos-reason" data-testid="face-photos-reason"></p>
            <div id="face-status"></div>
          </section>
        </div>
        <section class="card" id="res-access" aria-labelledby="access-h" data-testid="resident-access">
          <h2 id="access-h">Doors and hours</h2>${this._loadingHtml("Loading their doors…")}</section>
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
    this._renderConsentChoice();
    this._renderFaceCount();
    this._renderFaceStatus();
    this._renderConsentGate();
    this._loadResidentAccess(res.resident_id);
  }

  // Every action that needs consent is unavailable until consent exists, and says why.
  _renderConsentGate() {
    const res = this._r.detail;
    if (!res) return;
    const input = this._$('[data-testid="face-photos"]');
    if (input) input.disabled = !res.consent;
    this._set("#face-photos-reason", res.consent ? "" : NO_CONSENT_REASON);
    if (!res.consent && this._r.faces.items.length) this._clearFaces(true);
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
        <dt>Credentials</dt><dd data-testid="resident-credentials">${plural((res.cards || []).length, "card")}${(res.cards || []).length
          ? h` (${(res.cards || []).map((c) => `ending ${c.hint}`).join(", ")})` : ""}, ${res.has_pin
          ? h`PIN set (keypad code <span class="mono">${res.keypad_code || "—"}</span>)` : "no PIN"}</dd>
        <dt>Consent</dt><dd>${res.consent ? h`<span class="good">✓ given</span>` : h`<span class="muted">none</span> — face enrolment waits for it`}</dd>
      </dl>`);
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
};
