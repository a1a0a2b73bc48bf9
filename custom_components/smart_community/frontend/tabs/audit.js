// The Audit tab: the hash-chained audit log, newest first, and the check of its chain.

import { esc, h } from "../shared/html.js";
import { disablePager, newerPage, olderPage, pagerHtml } from "../shared/pages.js";
import { PAGE } from "../shared/panel-base.js";

export const AuditTab = (Base) => class extends Base {
  _renderAuditTab() {
    this._view.innerHTML = esc(h`
      <section class="card">
        <header><h2>Audit log</h2>
          <div class="row">
            <button type="button" class="btn text" data-action="audit-refresh">Refresh</button>
            <button type="button" class="btn secondary" data-testid="audit-verify" data-action="audit-verify"
              data-busy="audit-verify" ${this._dis("audit-verify")}>Check the hash chain</button>
          </div></header>
        <p class="muted">Every manager action, newest first. Entries are chained by keyed hashes, so any change to past entries
          is detected. Residents appear by their pseudonym, with the name while they still exist.</p>
        <div id="audit-verify-slot"></div>
        <div id="audit-table">${this._loadingHtml("Loading the audit log…")}</div>
      </section>`);
    this._renderVerify();
    if (this._a.entries) this._renderAudit();
  }

  async _loadAudit() {
    const a = this._a;
    const req = ++a.req;
    disablePager(this.shadowRoot, "audit");
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

  // Residents are named by their pseudonym (a1_...) in the log; `residents` maps those of residents who still
  // exist to "Name (id)". An erased resident's ref stays as it is. Doors and devices are shown by name: `places`.
  _details(details, residents = {}, places = {}) {
    if (details === null || details === undefined || details === "") return h`<span class="muted">—</span>`;
    if (typeof details !== "object") return String(details);
    const entries = Object.entries(details);
    if (!entries.length) return h`<span class="muted">—</span>`;
    const show = (v) => (typeof v === "string" && residents[v] ? `${residents[v]} [${v}]`
      : typeof v === "string" && places[v] && places[v] !== v ? `${places[v]} [${v}]` : String(v));
    return entries.map(([k, v]) => h`<span class="kv"><span class="muted">${k}:</span> ${Array.isArray(v) ? v.map(show).join(", ") : typeof v === "object" && v !== null ? JSON.stringify(v) : show(v)}</span>`);
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
          <td data-label="Details" class="wrap">${this._details(e.details, e.residents || {}, e.places || {})}</td>
        </tr>`)}</tbody></table></div>`
      : h`<div class="empty" data-testid="empty-state"><div class="big">No audit entries${a.stack.length ? " on this page" : " yet"}</div></div>`}
      ${pagerHtml("audit", a)}`);
  }

  _auditOlder() {
    if (olderPage(this._a)) this._loadAudit();
  }

  _auditNewer() {
    if (newerPage(this._a)) this._loadAudit();
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
};
