// The Residents tab: the searchable list, the add/edit form, a resident's page and erasure with its receipt
// (consent and faces on that page: enrolment.js).

import { errMsg, inputToIso, plural, toInput } from "../shared/format.js";
import { esc, h } from "../shared/html.js";
import { PAGE } from "../shared/panel-base.js";

const RESIDENT_FIELDS = ["resident_id", "full_name", "household", "building", "unit", "valid_from", "valid_until",
  "guardian", "status"];

export const ResidentsTab = (Base) => class extends Base {
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
