// Consent texts the community keeps (Residents → Consent texts: write, edit as a new version), and consent on a
// resident's page chosen from them (the consent keeps the exact text signed). Withdrawal is enrolment.js's.

import { errMsg } from "../shared/format.js";
import { esc, h } from "../shared/html.js";

export const ConsentTexts = (Base) => class extends Base {
  async _loadConsentTexts(force = false) {
    if (this._consentTexts && !force) return this._consentTexts;
    try {
      const result = await this._ws("consent_texts/list", {});
      this._consentTexts = result.texts || [];
    } catch (err) {
      this._setError(err);
      this._consentTexts = this._consentTexts || [];
    }
    return this._consentTexts;
  }

  // -- the texts' page ------------------------------------------------------------------------------------------

  async _openConsentTexts(back) {
    this._r.mode = "consent-texts";
    this._r.textsBack = back || null;
    this._r.textEditing = null;
    this._renderConsentTextsPage();
    await this._loadConsentTexts(true);
    if (this._r.mode === "consent-texts") this._renderConsentTextsPage();
  }

  _renderConsentTextsPage() {
    const texts = this._consentTexts;
    const editing = this._r.textEditing;
    this._view.innerHTML = esc(h`
      <section class="card" data-testid="consent-texts">
        <header><h2>Consent texts</h2>
          <button type="button" class="btn text" data-action="consent-texts-back">← Back</button></header>
        <p class="muted">What a resident (or a minor's guardian) agrees to when consenting to face recognition. Editing
          a text saves a new version; a consent already given keeps the exact text that was signed.</p>
        ${texts === null || texts === undefined ? this._loadingHtml("Loading the consent texts…") : !texts.length
          ? h`<div class="empty" data-testid="consent-texts-empty">No consent texts yet — write the first one below.</div>`
          : h`<div class="table-wrap"><table class="stack"><thead><tr><th>Title</th><th>Text</th><th class="num">Version</th><th></th></tr></thead>
            <tbody>${texts.map((t) => h`<tr data-testid="consent-text-row" data-template-id="${t.template_id}">
              <td data-label="Title"><strong>${t.title}</strong></td>
              <td data-label="Text" class="small">${t.body}</td>
              <td data-label="Version" class="num">${String(t.version)}</td>
              <td><button type="button" class="btn secondary" data-action="consent-text-edit"
                data-template-id="${t.template_id}" data-testid="consent-text-edit">Edit</button></td></tr>`)}</tbody></table></div>`}
        <form data-form="consent-text" novalidate style="margin-top:16px">
          <h3>${editing ? h`Edit “${editing.title}” (saves version ${String(editing.version + 1)})` : "New consent text"}</h3>
          <label class="field"><span>Title *</span>
            <input name="title" data-testid="consent-text-title" maxlength="100" required autocomplete="off"
              value="${editing ? editing.title : ""}" placeholder="e.g. Face recognition at the gates"></label>
          <label class="field"><span>Text the person agrees to *</span>
            <textarea name="body" data-testid="consent-text-body" maxlength="2000" required rows="5"
              placeholder="Which gates, what is kept, for how long, how to withdraw">${editing ? editing.body : ""}</textarea></label>
          <div id="consent-text-error"></div>
          <div class="row end" style="margin-top:12px">
            ${editing ? h`<button type="button" class="btn secondary" data-action="consent-text-new">New text instead</button>` : ""}
            <button type="submit" class="btn" data-testid="consent-text-save" data-busy="consent-text"
              ${this._dis("consent-text")}>${editing ? "Save new version" : "Save consent text"}</button>
          </div>
        </form>
      </section>`);
  }

  _editConsentText(templateId) {
    this._r.textEditing = (this._consentTexts || []).find((t) => t.template_id === templateId) || null;
    this._renderConsentTextsPage();
    const title = this._$('[data-testid="consent-text-title"]');
    if (title) title.focus();
  }

  _newConsentText() {
    this._r.textEditing = null;
    this._renderConsentTextsPage();
  }

  async _saveConsentText(form) {
    if (!form || !form.elements) return;
    const title = form.elements.namedItem("title").value.trim();
    const body = form.elements.namedItem("body").value.trim();
    const say = (text) => this._set("#consent-text-error", h`<p class="form-error" role="status">${text}</p>`);
    if (!title || !body) {
      say(!title ? "Give the text a title." : "Write the text the person agrees to.");
      form.elements.namedItem(!title ? "title" : "body").setAttribute("aria-invalid", "true");
      return;
    }
    const msg = { title, body };
    if (this._r.textEditing) msg.template_id = this._r.textEditing.template_id;
    let failed = null;
    const saved = await this._task("consent-text", async () => {
      try {
        return await this._ws("consent_texts/save", msg);
      } catch (err) {
        failed = errMsg(err);
        return undefined;
      }
    });
    if (!saved) {
      if (failed) say(failed);
      return;
    }
    this._r.textEditing = null;
    await this._loadConsentTexts(true);
    if (this._r.mode === "consent-texts") this._renderConsentTextsPage();
  }

  _consentTextsBack() {
    const back = this._r.textsBack;
    this._consentTexts = null;
    if (back === "form") return this._openResidentForm(null);
    if (back && back.startsWith("resident:")) return this._openResident(back.slice("resident:".length));
    return this._backToList();
  }

  // -- consent on a resident's page -----------------------------------------------------------------------------

  _renderConsentChoice() {
    const res = this._r.detail;
    const el = this._$("#res-consent");
    if (!el || !res) return;
    const c = res.consent;
    if (c) {
      el.innerHTML = esc(h`
        <h2 id="consent-h">Consent to face recognition</h2>
        <p><span data-testid="consent-state" class="badge ok">Consent given</span></p>
        <dl class="props">
          <dt>Text signed</dt><dd data-testid="consent-scope-text">${c.scope}</dd>
          ${c.template_version ? h`<dt>Version</dt><dd>${String(c.template_version)}</dd>` : ""}
          <dt>Given</dt><dd>${this._fmt(c.given_at)}</dd>
          ${c.guardian ? h`<dt>Given by guardian</dt><dd>${c.guardian}</dd>` : ""}
        </dl>
        <p class="muted small">Withdrawing deletes the resident's face templates at once; the gates keep accepting their
          card or PIN.</p>
        <button type="button" class="btn danger secondary" data-testid="consent-withdraw" data-action="consent-withdraw"
          data-busy="consent" ${this._dis("consent")}>Withdraw consent…</button>`);
      return;
    }
    const texts = this._consentTexts;
    el.innerHTML = esc(h`
      <h2 id="consent-h">Consent to face recognition</h2>
      <p><span data-testid="consent-state" class="badge">No consent</span></p>
      ${texts === null || texts === undefined ? this._loadingHtml("Loading the consent texts…") : !texts.length ? h`
        <p class="muted" data-testid="consent-no-texts">The community has no consent text yet.</p>
        <button type="button" class="btn secondary" data-action="consent-texts" data-back="resident:${res.resident_id}">Write a consent text</button>`
      : h`<form data-form="consent-choice" novalidate>
          <label class="field"><span>Consent text the ${res.is_minor ? "guardian" : "resident"} agrees to *</span>
            <select name="template_id" data-testid="consent-text-choice">
              ${texts.map((t) => h`<option value="${t.template_id}">${t.title} (version ${String(t.version)})</option>`)}
            </select></label>
          ${res.is_minor ? h`<label class="field" style="margin-top:12px"><span>Guardian giving consent (required for a minor) *</span>
            <input name="guardian" data-testid="consent-guardian" value="${res.guardian || ""}" autocomplete="off" required></label>` : ""}
          <div class="row end" style="margin-top:12px">
            <button type="button" class="btn text" data-action="consent-texts" data-back="resident:${res.resident_id}">Consent texts…</button>
            <button type="submit" class="btn" data-testid="consent-record" data-busy="consent" ${this._dis("consent")}>Record consent</button>
          </div>
        </form>`}`);
    if (texts === null || texts === undefined) {
      this._loadConsentTexts().then(() => {
        if (this._r.mode === "detail" && this._r.detail && this._r.detail.resident_id === res.resident_id) {
          this._renderConsentChoice();
        }
      });
    }
  }

  async _recordConsentChoice(form) {
    const res = this._r.detail;
    if (!res || !form || !form.elements) return;
    const templateId = form.elements.namedItem("template_id").value;
    const guardianEl = form.elements.namedItem("guardian");
    const guardian = guardianEl ? guardianEl.value.trim() : "";
    if (res.is_minor && !guardian) {
      this._setError("A minor's consent is given by their guardian: enter the guardian.");
      if (guardianEl) guardianEl.setAttribute("aria-invalid", "true");
      return;
    }
    const msg = { resident_id: res.resident_id, template_id: templateId };
    if (guardian) msg.guardian = guardian;
    const updated = await this._task("consent", () => this._ws("consent/record_text", msg));
    if (updated) this._showResidentDetail(updated);
  }
};
