// Visitor passes (on the Credentials & visitors tab): issue one for some doors; its summary shows the window, the
// QR code, the pass card to download (an image with the code, the visitor's name, the window, the gates and the
// community) and the link to send the visitor (no login; it shows nothing once the pass has expired or is revoked);
// list them (those not started yet marked with when they start) and revoke them.

import { inputToIso } from "../shared/format.js";
import { esc, h, pngData, safeUrl } from "../shared/html.js";

export const VisitorPasses = (Base) => class extends Base {
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
    this._c.qr = {
      pass_id: issued.pass_id, b64: issued.qr_png_base64, valid_from: issued.valid_from, valid_until: issued.valid_until,
      visitor_name: visitor, fresh: true, link: this._passUrl(issued.link_path),
    };
    get("visitor_name").value = "";
    this._renderQr();
    this._loadPassCard(issued.pass_id);
    this._loadPasses();
  }

  // The link a manager sends: Home Assistant's external address when one is set (the visitor is not on the LAN),
  // else the address this panel was opened at.
  _passUrl(path) {
    if (!path) return null;
    const config = (this._hass && this._hass.config) || {};
    const base = (config.external_url || window.location.origin || "").replace(/\/$/, "");
    return safeUrl(`${base}${path}`);
  }

  async _loadPassCard(passId) {
    try {
      const card = await this._ws("passes/card", { pass_id: passId });
      if (!this._c.qr || this._c.qr.pass_id !== passId) return;
      this._c.qr.card = card.png_base64;
      this._c.qr.cardName = card.filename;
      this._renderQr();
    } catch (err) {
      this._setError(err);
    }
  }

  async _copyPassLink(el) {
    const q = this._c.qr;
    if (!q || !q.link) return;
    let copied = false;
    try {
      await navigator.clipboard.writeText(q.link);
      copied = true;
    } catch (_err) {
      const input = this._$('[data-testid="pass-link"]');
      if (input) input.select();
    }
    const note = this._$('[data-testid="pass-link-copied"]');
    if (note) note.textContent = copied ? "Link copied." : "Select the link and copy it.";
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
    const card = q.card ? pngData(q.card) : "";
    const starts = q.valid_from && new Date(q.valid_from).getTime() > Date.now();
    el.innerHTML = esc(h`<div class="qr" aria-label="Visitor pass" data-testid="pass-summary">
      <img data-testid="pass-qr" src="${src}" alt="QR code of the visitor pass for ${q.visitor_name || q.pass_id}">
      <div class="info">
        <strong>${q.fresh ? "Pass issued" : "Visitor pass"}${q.visitor_name ? h` for ${q.visitor_name}` : ""}</strong>
        ${starts ? h`<span class="badge warn" data-testid="pass-summary-starts">Starts ${this._fmt(q.valid_from, false)}</span>` : ""}
        <span data-testid="pass-window">Valid from ${this._fmt(q.valid_from, false)} until ${this._fmt(q.valid_until, false)}</span>
        <span class="muted small">Send the visitor the pass card or the link; the gate camera reads the code.</span>
        <div class="row">
          ${card ? h`<a class="btn" data-testid="pass-card-download" href="${card}" download="${q.cardName || `visitor-pass-${q.pass_id}.png`}">Download pass card</a>`
            : h`<span class="muted small">Preparing the pass card…</span>`}
          <a class="btn secondary" data-testid="pass-qr-download" href="${src}" download="visitor-pass-qr-${q.pass_id}.png">QR code only</a>
          <button type="button" class="btn text" data-action="qr-close">Close</button>
        </div>
        ${q.link ? h`<label class="small">Link for the visitor (no login needed; it stops working when the pass ends or is revoked)
          <input readonly data-testid="pass-link" value="${q.link}"></label>
          <div class="row">
            <button type="button" class="btn secondary" data-action="pass-link-copy" data-testid="pass-link-copy">Copy link</button>
            <a class="btn text" data-testid="pass-link-mail" href="${`mailto:?subject=${encodeURIComponent("Your visitor pass")}&body=${encodeURIComponent(q.link)}`}">Send by email</a>
            <span class="muted small" data-testid="pass-link-copied" role="status"></span>
          </div>` : ""}
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
    if (p.upcoming) return h`<span class="badge warn" data-testid="pass-starts">Starts ${this._fmt(p.valid_from, false)}</span>`;
    if (p.revoked) return h`<span class="badge bad">Revoked</span>`;
    if (p.max_uses && p.uses >= p.max_uses) return h`<span class="badge">Used up</span>`;
    const now = Date.now();
    if (p.valid_from && new Date(p.valid_from).getTime() > now) return h`<span class="badge warn">Not yet valid</span>`;
    if (p.valid_until && new Date(p.valid_until).getTime() <= now) return h`<span class="badge">Expired</span>`;
    return h`<span class="badge">Inactive</span>`;
  }

  _renderPasses() {
    const passes = (this._c.passes || []).slice();
    passes.sort((a, b) => (Number(!!b.active) - Number(!!a.active)) || (Number(!!b.upcoming) - Number(!!a.upcoming))
      || String(a.valid_from || "").localeCompare(String(b.valid_from || "")));
    if (!passes.length) {
      this._set("#pass-list", h`<div class="empty" data-testid="empty-state">
        <div class="big">${this._c.includeInactive ? "No visitor passes yet" : "No current or upcoming visitor passes"}</div>
        Issue one with the form above.</div>`);
      return;
    }
    this._set("#pass-list", h`<div class="table-wrap"><table class="stack">
      <thead><tr><th>Visitor</th><th>Issued by</th><th>Doors</th><th>Valid</th><th class="num">Uses</th><th>Status</th><th></th></tr></thead>
      <tbody>${passes.map((p) => h`<tr data-testid="pass-row" data-pass-id="${p.pass_id}" data-active="${String(!!p.active)}" data-upcoming="${String(!!p.upcoming)}">
        <td data-label="Visitor"><strong>${p.visitor_name}</strong></td>
        <td data-label="Issued by">${this._name(p.issued_by)}</td>
        <td data-label="Doors">${(p.doors || []).map((d) => this._doorName(d)).join(", ")}</td>
        <td data-label="Valid">${this._fmt(p.valid_from, false)} → ${this._fmt(p.valid_until, false)}</td>
        <td data-label="Uses" class="num">${p.uses} / ${p.max_uses}</td>
        <td data-label="Status">${this._passState(p)}</td>
        <td class="actions">
          <button type="button" class="btn text" data-testid="pass-show-qr" data-action="pass-qr" data-pass-id="${p.pass_id}"
            data-busy="pass-qr" ${this._dis("pass-qr")}>Show pass</button>
          ${!p.revoked ? h`<button type="button" class="btn danger secondary" data-testid="pass-revoke" data-action="pass-revoke"
            data-pass-id="${p.pass_id}" data-busy="pass-revoke" ${this._dis("pass-revoke")}>Revoke</button>` : ""}
        </td></tr>`)}</tbody></table></div>`);
  }

  async _showPassQr(el, passId) {
    const p = (this._c.passes || []).find((x) => x.pass_id === passId) || {};
    const result = await this._task("pass-qr", () => this._ws("passes/qr", { pass_id: passId }));
    if (!result) return;
    this._c.qr = { pass_id: result.pass_id || passId, b64: result.qr_png_base64, valid_from: p.valid_from, valid_until: p.valid_until, visitor_name: p.visitor_name };
    this._renderQr();
    this._loadPassCard(passId);
    if (p.active || p.upcoming) {
      try {
        const link = await this._ws("passes/link", { pass_id: passId });
        if (this._c.qr && this._c.qr.pass_id === passId) {
          this._c.qr.link = this._passUrl(link.path);
          this._renderQr();
        }
      } catch (err) {
        this._setError(err);
      }
    }
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
};
