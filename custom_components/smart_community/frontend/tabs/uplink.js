// The Uplink tab: the connection to the platform, its backlog and errors, and the field policy in force.

import { fmtDuration } from "../shared/format.js";
import { esc, h } from "../shared/html.js";

export const UplinkTab = (Base) => class extends Base {
  _renderUplink() {
    const data = this._u.data;
    if (!data) {
      this._view.innerHTML = esc(h`<section class="card">${this._loadingHtml("Loading the uplink status…")}</section>`);
      return;
    }
    const configured = !!data.configured;
    const policy = data.field_policy || {};
    // Before the first exchange nothing is wrong: it says so, neither "unknown" nor a red "not connected".
    const waiting = configured && !data.connected && !data.last_success && !data.last_error;
    const stateText = !configured ? "Not configured" : data.connected ? "Connected"
      : waiting ? "Nothing sent yet" : "Not connected";
    const stateClass = !configured || waiting ? "" : data.connected ? "ok" : "bad";
    const oldest = data.oldest_unsent !== undefined && data.oldest_unsent !== null ? this._fmt(data.oldest_unsent)
      : data.oldest_unsent_s !== undefined && data.oldest_unsent_s !== null ? `${fmtDuration(data.oldest_unsent_s)} old` : "—";
    const errors = data.recent_errors || [];
    this._view.innerHTML = esc(h`
      <section class="card">
        <header><h2>Uplink to the platform</h2>
          <button type="button" class="btn text" data-action="uplink-refresh" data-busy="uplink">Refresh</button></header>
        <p><span class="badge ${stateClass}" data-testid="uplink-status" data-configured="${String(configured)}"
          data-connected="${String(!!data.connected)}" data-waiting="${String(waiting)}">${stateText}</span></p>
        ${!configured ? h`<div class="empty" data-testid="empty-state"><div class="big">The uplink is not configured</div>
          Events stay on the hub. To report to the county platform, set the platform URL in the integration's options
          (Settings → Devices &amp; services → Smart Community → Configure).</div>` : ""}
        <dl class="props">
          ${configured ? h`<dt>Profile</dt><dd>${data.profile || "—"}</dd><dt>Platform host</dt><dd class="mono">${data.host || "—"}</dd>` : ""}
          <dt>Backlog (unsent events)</dt><dd><span data-testid="uplink-backlog">${data.backlog === null || data.backlog === undefined ? "—" : String(data.backlog)}</span></dd>
          <dt>Last success</dt><dd>${data.last_success ? this._fmt(data.last_success) : h`<span class="muted">Nothing sent yet</span>`}</dd>
          <dt>Oldest unsent</dt><dd>${data.backlog === 0 ? h`<span class="muted">Nothing waiting</span>` : oldest}</dd>
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
};
