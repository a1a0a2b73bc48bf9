// On a resident's page: withdrawing consent to face recognition (it is recorded from a consent text,
// tabs/consent-texts.js), and face enrolment: the photos are
// checked one by one with the hub (quality), the set is then reviewed as a whole (a photo that is not the same
// person as the others is flagged with which; a photo close to another resident is flagged and the manager
// chooses: enrol anyway, audited, or remove it), single photos can be removed, and the manager confirms.

import { MAX_PHOTO_BYTES, PHOTO_TYPES, readBase64 } from "../shared/files.js";
import { errMsg, plural } from "../shared/format.js";
import { esc, h } from "../shared/html.js";

export const Enrolment = (Base) => class extends Base {
  // -- consent --------------------------------------------------------------------------------------------------

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
    const f = this._r.faces;
    if (f.running) return;
    f.note = null;
    const run = f.run;
    // Photos added to a set already checked join it: the set is reviewed as a whole.
    const added = files.map((file) => ({
      file, name: file.name, url: URL.createObjectURL(file), accepted: null, reason: "", upload_id: null,
      review: null, anyway: false,
    }));
    f.items = f.items.concat(added);
    f.running = true;
    this._renderFaceStatus();
    for (let i = 0; i < added.length; i += 1) {
      const item = added[i];
      f.done = f.items.indexOf(item);
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
    await this._reviewFaces(run);
    if (run !== f.run) return;
    f.running = false;
    this._renderFaceStatus();
  }

  // Ask the hub whether the set is one person, this resident, and nobody else enrolled (cheap: no photo is
  // encoded again). Run after every check and every removal.
  async _reviewFaces(run) {
    const res = this._r.detail;
    const f = this._r.faces;
    const staged = f.items.filter((i) => i.upload_id);
    if (!res || !staged.length) {
      for (const item of f.items) item.review = null;
      return;
    }
    try {
      const result = await this._ws("faces/review", { resident_id: res.resident_id, upload_ids: staged.map((i) => i.upload_id) });
      if (run !== f.run) return;
      const byId = new Map(result.photos.map((p) => [p.upload_id, p]));
      for (const item of f.items) item.review = byId.get(item.upload_id) || null;
    } catch (err) {
      if (run !== f.run) return;
      this._setError(err);
    }
  }

  async _removeFacePhoto(uploadId, index) {
    const res = this._r.detail;
    const f = this._r.faces;
    if (!res || f.running) return;
    const item = uploadId ? f.items.find((i) => i.upload_id === uploadId) : f.items[Number(index)];
    if (!item) return;
    if (item.upload_id) {
      const done = await this._task("face-remove", () => this._ws("faces/remove", { resident_id: res.resident_id, upload_id: item.upload_id }));
      if (!done) return;
    }
    if (item.url) URL.revokeObjectURL(item.url);
    f.items = f.items.filter((i) => i !== item);
    f.note = `Removed ${item.name} from the set.`;
    f.running = true;
    this._renderFaceStatus();
    await this._reviewFaces(f.run);
    f.running = false;
    this._renderFaceStatus();
  }

  _setFaceAnyway(uploadId, checked) {
    const item = this._r.faces.items.find((i) => i.upload_id === uploadId);
    if (!item) return;
    item.anyway = !!checked;
    this._renderFaceStatus();
  }

  // What stops the set from being enrolled, in words (null: nothing).
  _faceBlocker(accepted) {
    if (!accepted.length) return null;
    const odd = accepted.filter((i) => i.review && i.review.odd_one);
    if (odd.length) return `Remove the photo${odd.length === 1 ? "" : "s"} that ${odd.length === 1 ? "is" : "are"} not the same person before enrolling.`;
    const open = accepted.filter((i) => i.review && i.review.close_to && !i.anyway);
    if (open.length) return "A photo looks like another resident: tick “Enrol anyway” or remove it.";
    if (accepted.some((i) => !i.review)) return "The set has not been reviewed yet.";
    return null;
  }

  _faceFlags(item) {
    const r = item.review;
    if (!r) return [];
    const f = this._r.faces;
    const nameOf = (id) => (f.items.find((i) => i.upload_id === id) || {}).name || "another photo";
    const out = [];
    if (r.odd_one) {
      const others = r.not_matching.map(nameOf);
      out.push(h`<div class="flag bad" data-testid="face-odd" role="alert">✗ Not the same person as
        ${others.length ? others.join(", ") : "the other photos"}${r.not_matching_enrolled ? " nor the resident's enrolled face" : ""}.
        Remove it unless it is ${this._r.detail.full_name}.</div>`);
    }
    if (r.close_to) {
      const who = r.close_to.full_name ? `${r.close_to.full_name} (${r.close_to.resident_id})` : r.close_to.resident_id;
      out.push(h`<div class="flag warn" data-testid="face-close" data-close-to="${r.close_to.resident_id}" role="alert">⚠ Looks like
        <strong>${who}</strong>, who is already enrolled${r.close_to.gate_would_accept ? ": the gates would take this face for them" : ""}.
        ${r.odd_one ? "" : h`<label class="check"><input type="checkbox" data-testid="face-enrol-anyway" data-change="face-anyway"
          data-upload-id="${item.upload_id}" ${item.anyway ? "checked" : ""}> Enrol anyway (recorded in the audit log)</label>`}</div>`);
    }
    return out;
  }

  _renderFaceStatus() {
    const el = this._$("#face-status");
    if (!el) return;
    const f = this._r.faces;
    const accepted = f.items.filter((i) => i.accepted && i.upload_id);
    const total = f.items.length;
    const checked = f.items.filter((i) => i.accepted !== null).length;
    const blocker = f.running ? null : this._faceBlocker(accepted);
    const flagged = accepted.filter((i) => i.review && (i.review.odd_one || i.review.close_to)).length;
    el.innerHTML = esc(h`
      ${f.running ? h`<div class="progress" data-testid="face-progress" role="status" aria-live="polite">
        <span>${f.done < total ? h`Checking photo ${Math.min(f.done + 1, total)} of ${total}` : "Comparing the photos…"}</span>
        <progress max="${total}" value="${f.done}" aria-label="Checking photos"></progress></div>` : ""}
      ${f.note ? h`<p class="good" role="status" data-testid="face-note">${f.note}</p>` : ""}
      ${total ? h`
        ${!f.running ? h`<p class="muted" data-testid="face-summary">${checked} of ${plural(total, "photo")} checked: ${accepted.length} accepted,
          ${checked - accepted.length} refused${flagged ? h`, <strong>${flagged} flagged</strong>` : ""}.</p>` : ""}
        <div class="photos">${f.items.map((item, index) => h`
          <figure class="photo" style="margin:0" data-testid="${item.accepted === null ? "face-pending" : "face-result"}"
            data-accepted="${item.accepted === null ? "" : String(item.accepted)}" data-name="${item.name}"
            data-flagged="${item.review && (item.review.odd_one || item.review.close_to) ? "true" : "false"}">
            <img src="${item.url}" alt="${item.name}" loading="lazy">
            <figcaption class="verdict">
              <div class="name" title="${item.name}">${item.name}</div>
              <div class="state">${item.accepted === null ? h`<span class="muted">waiting…</span>`
                : item.accepted ? h`✓ Photo quality good${item.reason ? h` <span class="muted">(${item.reason})</span>` : ""}`
                : h`✗ ${item.reason || "refused"}`}</div>
              ${this._faceFlags(item)}
              ${item.accepted !== null ? h`<button type="button" class="btn text small" data-testid="face-remove"
                data-action="face-remove" data-upload-id="${item.upload_id || ""}" data-index="${index}"
                ${f.running || this._busy.has("face-remove") ? "disabled" : ""}>Remove</button>` : ""}
            </figcaption>
          </figure>`)}</div>
        ${blocker ? h`<p class="muted" data-testid="face-enrol-blocked" role="status">${blocker}</p>` : ""}
        <div class="row end">
          <button type="button" class="btn secondary" data-action="face-clear" ${f.running ? "disabled" : ""}>Clear</button>
          <button type="button" class="btn" data-testid="face-enrol" data-action="face-enrol" data-busy="face-enrol"
            ${this._dis("face-enrol", f.running || !accepted.length || !!blocker)} data-disabled-reason="${f.running || !accepted.length || blocker ? "1" : ""}">
            Enrol ${plural(accepted.length, "accepted photo")}</button>
        </div>
        <p class="muted small">Only the face templates are kept, never the photos. Checked photos wait 15 minutes for
          enrolment.</p>` : ""}`);
  }

  async _enrolFaces() {
    const res = this._r.detail;
    const f = this._r.faces;
    const accepted = f.items.filter((i) => i.accepted && i.upload_id);
    const ids = accepted.map((i) => i.upload_id);
    if (!res || !ids.length || f.running || this._faceBlocker(accepted)) return;
    const anyway = accepted.filter((i) => i.anyway && i.review && i.review.close_to).map((i) => i.upload_id);
    const result = await this._task("face-enrol", () => this._ws("faces/enrol", {
      resident_id: res.resident_id, upload_ids: ids, enrol_anyway: anyway,
    }));
    if (!result) return;
    this._clearFaces(false);
    f.note = `Enrolled ${plural(result.enrolled ?? ids.length, "face template")}.`;
    if (result.resident) this._showResidentDetail(result.resident);
    this._renderFaceStatus();
    this._loadOverview();
  }
};
