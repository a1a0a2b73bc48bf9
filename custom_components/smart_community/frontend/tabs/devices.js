// The Devices tab: online state and rates against the target (refreshed every few seconds while shown), and
// the weekly availability reports.

import { fmtDuration, pct, plural } from "../shared/format.js";
import { esc, h } from "../shared/html.js";

const DEVICE_REFRESH_MS = 5000;

export const DevicesTab = (Base) => class extends Base {
  _renderDevicesTab() {
    this._view.innerHTML = esc(h`
      <div id="dev-stats"></div>
      <section class="card">
        <header><h2>Devices</h2>
          <div class="row"><span class="muted small" id="dev-updated"></span>
            <button type="button" class="btn text" data-action="devices-refresh">Refresh</button></div></header>
        <div id="dev-table">${this._loadingHtml("Loading devices…")}</div>
      </section>
      <section class="card">
        <h2>Weekly reports</h2>
        <div id="dev-reports">${this._loadingHtml("Loading reports…")}</div>
      </section>`);
    if (this._d.data) this._renderDevices();
    if (this._d.reports) this._renderReports();
  }

  _startDeviceTimer() {
    this._stopDeviceTimer();
    if (!this.isConnected) return;
    this._timers.devices = setInterval(() => {
      if (this._tab !== "devices" || !this.isConnected) {
        this._stopDeviceTimer();
        return;
      }
      if (document.visibilityState === "hidden") return;
      this._loadDevices(false);
    }, DEVICE_REFRESH_MS);
  }

  _stopDeviceTimer() {
    if (this._timers.devices) clearInterval(this._timers.devices);
    this._timers.devices = null;
  }

  async _loadDevices(userAction) {
    const d = this._d;
    if (d.inflight) return;
    d.inflight = true;
    try {
      d.data = await this._ws("devices/list");
      d.updated = new Date();
      d.failed = false;
    } catch (err) {
      // A failing background refresh reports once, not every five seconds.
      if (userAction || !d.failed) this._setError(err);
      d.failed = true;
      if (!d.data) this._set("#dev-table", h`<div class="empty">The devices could not be loaded.</div>`);
      return;
    } finally {
      d.inflight = false;
    }
    if (this._tab === "devices") this._renderDevices();
  }

  async _loadReports() {
    try {
      const result = await this._ws("reports/list", { limit: 12 });
      this._d.reports = result.reports || [];
    } catch (err) {
      this._setError(err);
      this._set("#dev-reports", h`<div class="empty">The reports could not be loaded.</div>`);
      return;
    }
    if (this._tab === "devices") this._renderReports();
  }

  _devicePct(value, target) {
    if (value === null || value === undefined) return h`<span class="muted">—</span>`;
    const below = target !== null && target !== undefined && Number(value) < Number(target);
    return h`<span class="${below ? "badtext" : ""}">${pct(value)}</span>`;
  }

  _renderDevices() {
    const data = this._d.data || {};
    const target = data.target_percent;
    const community = data.community || {};
    const devices = data.devices || [];
    const offline = devices.filter((x) => !x.online).length;
    const weekOk = community.week_percent === null || community.week_percent === undefined || target === undefined
      ? null : Number(community.week_percent) >= Number(target);
    this._set("#dev-stats", h`<div class="stats">
      <div class="stat" data-testid="device-rate-community">
        <div class="label">Community online today</div><div class="value">${pct(community.day_percent)}</div>
        <div class="label">This week: <strong>${pct(community.week_percent)}</strong>
          ${weekOk === null ? "" : weekOk ? h`<span class="badge ok">meets target</span>` : h`<span class="badge bad">below target</span>`}</div>
      </div>
      <div class="stat"><div class="label">Target</div><div class="value">${target === undefined || target === null ? "—" : `${Number(target)} %`}</div>
        <div class="label">weekly community online rate</div></div>
      <div class="stat"><div class="label">Devices</div><div class="value">${devices.length}</div>
        <div class="label">${offline ? h`<span class="badtext">${offline} offline</span>` : "all online"}</div></div>
    </div>`);
    this._set("#dev-updated", this._d.updated ? h`Updated ${this._d.updated.toLocaleTimeString(this._lang())} · every 5 s` : "");
    if (!devices.length) {
      this._set("#dev-table", h`<div class="empty" data-testid="empty-state"><div class="big">No devices reported yet</div>
        Door controllers, cameras and the uplink appear here once the hub has polled them.</div>`);
      return;
    }
    const now = Date.now();
    this._set("#dev-table", h`<div class="table-wrap"><table class="stack">
      <thead><tr><th>Device</th><th>Kind</th><th>Status</th><th>Since</th><th class="num">Today</th><th class="num">This week</th></tr></thead>
      <tbody>${devices.map((x) => h`<tr data-testid="device-row" data-device-id="${x.device_id}" data-online="${String(!!x.online)}">
        <td data-label="Device" class="title"><strong class="wrap">${this._doorName(x.device_id) !== x.device_id ? h`${this._doorName(x.device_id)} <span class="muted mono">${x.device_id}</span>` : x.device_id}</strong></td>
        <td data-label="Kind">${String(x.kind || "—").replace(/_/g, " ")}</td>
        <td data-label="Status">${x.online ? h`<span class="badge ok">● Online</span>` : h`<span class="badge bad">● Offline</span>`}</td>
        <td data-label="Since">${this._fmt(x.since, false)}${x.since ? h` <span class="muted small">(${fmtDuration((now - new Date(x.since).getTime()) / 1000)})</span>` : ""}</td>
        <td data-label="Today" class="num">${this._devicePct(x.day_percent, target)}</td>
        <td data-label="This week" class="num">${this._devicePct(x.week_percent, target)}</td>
      </tr>`)}</tbody></table></div>`);
  }

  _renderReports() {
    const reports = this._d.reports || [];
    const el = this._$("#dev-reports");
    if (!el) return;
    const open = new Set(Array.from(el.querySelectorAll("details[open]")).map((d) => d.dataset.week));
    if (!reports.length) {
      el.innerHTML = esc(h`<div class="empty" data-testid="empty-state"><div class="big">No weekly reports yet</div>
        A report is made for every finished week (Monday to Monday).</div>`);
      return;
    }
    el.innerHTML = esc(reports.map((r) => {
      const outages = r.outages || [];
      const devices = r.devices || [];
      return h`<details class="report" data-testid="report-row" data-week="${r.week_start}" data-passed="${String(!!r.passed)}"
          ${open.has(r.week_start) ? "open" : ""}>
        <summary><strong>Week of ${r.week_start}</strong>
          <span>${pct(r.online_percent)} <span class="muted">(target ${r.target_percent} %)</span></span>
          ${r.passed ? h`<span class="badge ok">Passed</span>` : h`<span class="badge bad">Failed</span>`}
          <span class="muted">${plural(outages.length, "outage")}</span></summary>
        <div class="body">
          <p class="muted small">${this._fmt(r.start, false)} → ${this._fmt(r.end, false)} (${r.tz}) · mean of devices
            ${pct(r.mean_device_percent)} · generated ${this._fmt(r.generated_at, false)}</p>
          ${devices.length ? h`<h3>Devices</h3><div class="table-wrap"><table class="stack">
            <thead><tr><th>Device</th><th>Kind</th><th class="num">Online</th><th class="num">Offline time</th><th class="num">Outages</th><th>Target</th></tr></thead>
            <tbody>${devices.map((d) => h`<tr>
              <td data-label="Device" class="mono">${d.device_id}</td><td data-label="Kind">${String(d.kind || "").replace(/_/g, " ")}</td>
              <td data-label="Online" class="num">${pct(d.online_percent)}</td>
              <td data-label="Offline time" class="num">${fmtDuration(d.offline_seconds)}</td>
              <td data-label="Outages" class="num">${d.outages}</td>
              <td data-label="Target">${d.meets_target ? h`<span class="good">met</span>` : h`<span class="badtext">missed</span>`}</td>
            </tr>`)}</tbody></table></div>` : ""}
          <h3>Outages</h3>
          ${outages.length ? h`<div class="table-wrap"><table class="stack">
            <thead><tr><th>Device</th><th>From</th><th>To</th><th class="num">Duration</th></tr></thead>
            <tbody>${outages.map((o) => h`<tr data-testid="outage-row">
              <td data-label="Device" class="mono">${o.device_id}</td>
              <td data-label="From">${this._fmt(o.start, false)}${o.began_before_week ? h` <span class="muted small">(already offline)</span>` : ""}</td>
              <td data-label="To">${this._fmt(o.end, false)}${o.continues_after_week ? h` <span class="muted small">(still offline)</span>` : ""}</td>
              <td data-label="Duration" class="num">${fmtDuration(o.seconds)}</td>
            </tr>`)}</tbody></table></div>` : h`<p class="muted">No outages this week.</p>`}
        </div></details>`;
    }));
  }
};
