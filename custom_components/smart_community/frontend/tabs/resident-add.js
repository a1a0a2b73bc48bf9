// Adding a resident in one flow (the form's consent, photos and the one create command, ending on the new
// resident's page) and a resident's doors and hours (residents/access). The photos go through enrolment's own
// commands (faces/check as they are chosen, faces/enrol once the resident exists with consent): nothing of
// enrolment.js is called or changed here.

import { MAX_PHOTO_BYTES, PHOTO_TYPES, readBase64 } from "../shared/files.js";
import { errMsg, inputToIso, plural } from "../shared/format.js";
import { esc, h } from "../shared/html.js";

const WEEKDAY_NAMES = { mon: "Mon", tue: "Tue", wed: "Wed", thu: "Thu", fri: "Fri", sat: "Sat", sun: "Sun" };

export const ResidentAdd = (Base) => class extends Base {
  // -- adding in one flow ---------------------------------------------------------------------------------------

  _renderFormConsent() {
    const texts = this._consentTexts;
    const el = this._$("#res-form-consent");
    if (!el) return;
    const form = el.closest("form");
    const chosen = form && form.elements.namedItem("consent_text_id") ? form.elements.namedItem("consent_text_id").value : "";
    el.innerHTML = esc(!texts ? this._loadingHtml("Loading the consent texts…") : !texts.length ? h`
      <p class="muted" data-testid="resident-form-no-texts">The community has no consent text yet: write one under
        <button type="button" class="btn text" data-action="consent-texts" data-back="form">Consent texts</button>
        to record consent here (or record it later on the resident's page).</p>
      <input type="hidden" name="consent_text_id" value="">`
      : h`<label class="field"><span>Consent to face recognition</span>
          <select name="consent_text_id" data-testid="resident-form-consent" data-change="resident-consent-text">
            <option value="">No consent yet (record it later)</option>
            ${texts.map((t) => h`<option value="${t.template_id}" ${t.template_id === chosen ? "selected" : ""}>Consents to “${t.title}” (version ${String(t.version)})</option>`)}
          </select></label>
        <div id="res-form-consent-text" data-testid="resident-form-consent-text" class="small"></div>`);
    this._formConsentChanged();
  }

  _formConsentChanged() {
    const form = this._$('form[data-form="resident"]');
    if (!form) return;
    const select = form.elements.namedItem("consent_text_id");
    const chosen = select ? select.value : "";
    const text = (this._consentTexts || []).find((t) => t.template_id === chosen);
    const minor = form.elements.namedItem("is_minor").checked;
    this._set("#res-form-consent-text", text ? h`<blockquote>${text.body}</blockquote>
      <p class="muted">Recorded as given by ${minor ? "the guardian above" : "the resident"}, with this exact text.</p>` : "");
    const photos = form.querySelector('[data-testid="resident-form-photos"]');
    if (photos) photos.disabled = !text;
    this._set("#res-form-photo-reason", text ? "" : "Choose a consent text above first: photos are enrolled only with consent.");
    if (!text) this._clearNewPhotos();
  }

  _clearNewPhotos() {
    const p = this._r.newPhotos;
    if (!p) return;
    for (const item of p.items) if (item.url) URL.revokeObjectURL(item.url);
    p.items = [];
    p.run += 1;
    p.running = false;
    this._renderNewPhotos();
  }

  async _checkNewPhotos(files) {
    const p = this._r.newPhotos;
    if (!files.length || !p) return;
    this._clearNewPhotos();
    const run = p.run;
    p.items = files.map((file) => ({ file, name: file.name, url: URL.createObjectURL(file), accepted: null, reason: "", upload_id: null }));
    p.running = true;
    this._renderNewPhotos();
    for (const item of p.items) {
      if (!PHOTO_TYPES.includes(item.file.type)) {
        Object.assign(item, { accepted: false, reason: "not a JPEG or PNG photo" });
      } else if (item.file.size > MAX_PHOTO_BYTES) {
        Object.assign(item, { accepted: false, reason: "larger than 3 MB" });
      } else {
        try {
          const photo = await readBase64(item.file);
          if (run !== p.run) return;
          const result = await this._ws("faces/check", { filename: item.name, photo });  // enrolment's own check
          if (run !== p.run) return;
          Object.assign(item, { accepted: !!result.accepted, reason: result.reason || "", upload_id: result.upload_id || null });
        } catch (err) {
          if (run !== p.run) return;
          Object.assign(item, { accepted: false, reason: errMsg(err) });
        }
      }
      this._renderNewPhotos();
    }
    p.running = false;
    this._renderNewPhotos();
  }

  _renderNewPhotos() {
    const p = this._r.newPhotos;
    const el = this._$("#res-form-photos");
    if (!el || !p) return;
    const accepted = p.items.filter((i) => i.accepted && i.upload_id).length;
    el.innerHTML = esc(!p.items.length ? "" : h`
      <p class="muted" data-testid="resident-form-photo-summary">${p.running ? "Checking the photos…"
        : h`${accepted} of ${plural(p.items.length, "photo")} accepted: ${plural(accepted, "accepted photo")} will be enrolled.`}</p>
      <div class="photos">${p.items.map((item) => h`
        <figure class="photo" style="margin:0" data-testid="resident-form-photo" data-accepted="${item.accepted === null ? "" : String(item.accepted)}">
          <img src="${item.url}" alt="${item.name}" loading="lazy">
          <figcaption class="verdict"><div class="name" title="${item.name}">${item.name}</div>
            <div class="state">${item.accepted === null ? h`<span class="muted">checking…</span>`
              : item.accepted ? "✓ Accepted" : h`✗ ${item.reason || "refused"}`}</div></figcaption>
        </figure>`)}</div>`);
  }

  async _createResident(form, msg, val, isMinor, tz) {
    const r = this._r;
    const p = r.newPhotos || { items: [], running: false };
    if (p.running) {
      this._set("#res-form-error", h`<p class="form-error" role="status">Wait until the photos are checked.</p>`);
      return;
    }
    const fields = { ...msg };
    if (!fields.resident_id) delete fields.resident_id;
    for (const k of ["full_name", "household", "building", "unit", "guardian", "card_number", "pin", "keypad_code"]) {
      if (val(k)) fields[k] = val(k);
    }
    for (const k of ["valid_from", "valid_until"]) if (val(k)) fields[k] = inputToIso(val(k), tz);
    fields.is_minor = isMinor;
    const select = form.elements.namedItem("consent_text_id");
    if (select && select.value) fields.consent_text_id = select.value;
    r.formError = null;
    this._set("#res-form-error", "");
    this._clearFieldErrors(form);
    const created = await this._formTask(form, () => this._ws("residents/create", fields));
    if (!created) return;
    this._remember([created]);
    this._allResidents = null;
    let shown = created;
    const ids = fields.consent_text_id ? p.items.filter((i) => i.accepted && i.upload_id).map((i) => i.upload_id) : [];
    let enrolError = null;
    if (ids.length) {
      try {
        const result = await this._ws("faces/enrol", { resident_id: created.resident_id, upload_ids: ids });
        if (result && result.resident) shown = result.resident;
      } catch (err) {
        enrolError = err;
      }
    }
    this._clearNewPhotos();
    this._loadOverview();
    // The flow ends on the new resident's page.
    Object.assign(r, { editing: null, detail: null, notice: null, list: null, query: "", offset: 0 });
    this._showResidentDetail(shown);
    if (enrolError) this._setError(`${created.full_name} was added; the photos were not enrolled: ${errMsg(enrolError)}`);
  }

  // -- doors and hours ------------------------------------------------------------------------------------------

  async _loadResidentAccess(residentId) {
    const req = (this._r.accessReq = (this._r.accessReq || 0) + 1);
    let data;
    try {
      data = await this._ws("residents/access", { resident_id: residentId });
    } catch (err) {
      if (req !== this._r.accessReq) return;
      this._set("#res-access", h`<h2 id="access-h">Doors and hours</h2><p class="muted">Their doors could not be loaded: ${errMsg(err)}</p>`);
      return;
    }
    if (req !== this._r.accessReq || !this._r.detail || this._r.detail.resident_id !== residentId) return;
    this._renderResidentAccess(data);
  }

  _renderResidentAccess(a) {
    const days = (list) => (list.length === 7 ? "every day" : list.map((d) => WEEKDAY_NAMES[d] || d).join(", "));
    const why = { everyone: "everyone", building: "their building", named: "them by name" };
    this._set("#res-access", h`
      <h2 id="access-h">Doors and hours</h2>
      ${!a.doors.length ? h`<p data-testid="resident-no-doors"><strong>No door.</strong> No access rule covers this resident
          yet: add one on the Access rules tab (for everyone, their building or them by name).</p>`
        : h`<div class="table-wrap"><table class="stack" data-testid="resident-doors"><thead><tr><th>Door</th><th>When</th><th>Holidays</th><th>Rule</th></tr></thead>
          <tbody>${a.rules.flatMap((rule) => rule.doors.map((door) => h`<tr data-testid="resident-door-row" data-door="${door.id}">
            <td data-label="Door"><strong>${door.name}</strong>${door.area ? h` <span class="muted small">${door.area}</span>` : ""}</td>
            <td data-label="When">${days(rule.weekdays)}, ${rule.all_day ? "all day" : rule.hours}</td>
            <td data-label="Holidays">${rule.on_holidays ? "also on holidays" : "not on holidays"}</td>
            <td data-label="Rule">${rule.name} <span class="muted small">(for ${why[rule.why] || rule.why})</span></td></tr>`))}</tbody></table></div>`}
      ${a.holidays.length ? h`<p class="muted small" data-testid="resident-holidays">Holidays: ${a.holidays.map((d) => `${d.name} (${d.day})`).join(", ")}</p>` : ""}
      <dl class="props">
        <dt>Vehicles</dt><dd data-testid="resident-vehicles">${plural(a.vehicles || 0, "vehicle")} registered</dd>
      </dl>
      <h3>Recent access</h3>
      ${!a.recent_access.length ? h`<p class="muted" data-testid="resident-recent-none">No access recorded yet.</p>`
        : h`<div class="table-wrap"><table class="stack" data-testid="resident-recent"><thead><tr><th>When</th><th>Door</th><th>Result</th><th>With</th></tr></thead>
          <tbody>${a.recent_access.map((e) => h`<tr><td data-label="When">${this._fmt(e.occurred_at)}</td>
            <td data-label="Door">${e.door_name || e.door || "—"}</td>
            <td data-label="Result">${e.result === "granted" ? h`<span class="good">granted</span>` : h`<span class="bad">denied</span>`}</td>
            <td data-label="With">${e.credential || "—"}</td></tr>`)}</tbody></table></div>`}`);
  }
};
