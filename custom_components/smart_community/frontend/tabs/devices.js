// The Devices tab: online state and rates against the target (refreshed every few seconds while shown), each
// device's online history drawn as a timeline of up and down with the community's daily rate against the target
// (inline SVG, nothing fetched), the device problems with their acknowledgement, and the weekly reports.

import { fmtDuration, pct, plural } from "../shared/format.js";
import { esc, h } from "../shared/html.js";

const DEVICE_REFRESH_MS = 5000;
const HISTORY_DAYS = 7;
const TIMELINE_W = 1000;
const BARS_W = 700;
const BARS_H = 170;
const BARS_TOP = 18;
const BARS_BOTTOM = 30;

function kindText(kind) {
  return String(kind || "—").replace(/_/g, " ");
}

function stateBadge(state) {
  if (state === "resolved") return h`<span class="badge ok">Resolved</span>`;
  if (state === "acknowledged") return h`<span class="badge warn">Acknowledged</span>`;
  return h`<span class="badge bad">Open</span>`;
}

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
        <h2>Online history</h2>
        <div id="dev-chart">${this._loadingHtml("Loading the history…")}</div>
      </section>
      <section class="card">
        <h2>Problems</h2>
        <div id="dev-problems">${this._loadingHtml("Loading problems…")}</div>
      </section>
      <section class="card">
        <h2>Weekly reports</h2>
        <div id="dev-reports">${this._loadingHtml("Loading reports…")}</div>
      </section>`);
    if (this._d.data) this._renderDevices();
    if (this._d.history) this._renderHistory();
    if (this._d.problems) this._renderProblems();
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
      const [data, history, problems] = await Promise.all([
        this._ws("devices/list"),
        this._ws("devices/history", { days: HISTORY_DAYS }),
        this._ws("problems/list", { limit: 50 }),
      ]);
      d.data = data;
      d.history = history;
      d.problems = problems.problems || [];
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
    if (this._tab === "devices") {
      this._renderDevices();
      this._renderHistory();
      this._renderProblems();
    }
  }

  // A device's name as Home Assistant shows it (the hub knows devices by serial).
  _deviceName(deviceId) {
    const known = ((this._d.data || {}).devices || []).find((x) => x.device_id === deviceId);
    return known && known.name ? known.name : deviceId;
  }

  async _acknowledgeProblem(form) {
    const id = Number(form.dataset.problemId);
    const input = form.elements && form.elements.namedItem("note");
    if (!id || !input) return;
    const note = input.value.trim();
    if (!note) {
      input.setAttribute("aria-invalid", "true");
      this._setError("Say what is being done about it (a short note).");
      return;
    }
    const done = await this._task(`ack-${id}`, async () => {
      await this._ws("problems/acknowledge", { problem_id: id, note });
      return true;
    });
    if (done) {
      input.value = "";
      await this._loadDevices(true);
    }
  }

  // The chart: one timeline per device (green up, red down, grey not watched) over the last days, and the
  // community's daily online rate as bars against the target line.
  _renderHistory() {
    const el = this._$("#dev-chart");
    if (!el) return;
    const hist = this._d.history;
    if (!hist) return;
    const devices = hist.devices || [];
    if (!devices.length) {
      el.innerHTML = esc(h`<div class="empty">No history yet: devices appear once the hub has watched them.</div>`);
      return;
    }
    // The timelines start when the first device was watched (within the window), so a community watched for an
    // hour shows that hour, not a sliver at the end of a week.
    const firsts = devices.flatMap((dev) => (dev.spans || []).slice(0, 1).map((sp) => new Date(sp.start).getTime()));
    const t0 = Math.max(new Date(hist.start).getTime(), firsts.length ? Math.min(...firsts) : 0);
    const t1 = Math.max(new Date(hist.end).getTime(), t0 + 60000);
    const x = (iso) => ((new Date(iso).getTime() - t0) / (t1 - t0)) * TIMELINE_W;
    const days = hist.days || [];
    const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => ({ f, iso: new Date(t0 + f * (t1 - t0)).toISOString() }));
    const weekday = (day) => {
      try {
        return new Intl.DateTimeFormat(this._lang(), { weekday: "short", day: "numeric", timeZone: "UTC" })
          .format(new Date(`${day}T12:00:00Z`));
      } catch (_err) {
        return day;
      }
    };
    const target = Number(hist.target_percent);
    const rows = devices.map((dev) => {
      const spans = dev.spans || [];
      const down = spans.filter((sp) => !sp.online);
      const rects = spans.map((sp) => {
        const a = x(sp.start);
        const w = Math.max(x(sp.end) - a, 0.8);
        const text = `${sp.online ? "Online" : "Offline"} ${this._fmt(sp.start, false)} → ${this._fmt(sp.end, false)} (${fmtDuration((new Date(sp.end) - new Date(sp.start)) / 1000)})`;
        return h`<rect class="${sp.online ? "up" : "down"}" data-testid="${sp.online ? "timeline-up" : "timeline-down"}"
          x="${a.toFixed(2)}" y="0" width="${w.toFixed(2)}" height="16"><title>${text}</title></rect>`;
      });
      const rates = (dev.day_percent || []).filter((v) => v !== null && v !== undefined);
      const last = rates.length ? rates[rates.length - 1] : null;
      return h`<div class="tl-row" data-testid="timeline-row" data-device-id="${dev.device_id}" data-online="${String(!!dev.online)}">
        <div class="tl-name"><strong class="wrap">${dev.name || dev.device_id}</strong>
          <span class="muted small">${kindText(dev.kind)} · ${plural(down.length, "outage")} · today ${this._devicePct(last, target)}</span></div>
        <svg class="timeline" viewBox="0 0 ${TIMELINE_W} 16" preserveAspectRatio="none" role="img"
          aria-label="${`${dev.name || dev.device_id}: ${plural(down.length, "outage")} in ${days.length} days`}">
          <rect class="unwatched" x="0" y="0" width="${TIMELINE_W}" height="16"></rect>${rects}</svg>
      </div>`;
    });
    const community = hist.community || [];
    const values = community.filter((v) => v !== null && v !== undefined).map(Number);
    const lowest = values.length ? Math.min(...values, target) : target;
    const floor = Math.max(0, Math.min(90, Math.floor((lowest - 2) / 5) * 5));
    const plotH = BARS_H - BARS_TOP - BARS_BOTTOM;
    const y = (v) => BARS_TOP + (1 - (Math.max(v, floor) - floor) / (100 - floor)) * plotH;
    const slot = BARS_W / Math.max(days.length, 1);
    const bars = days.map((day, i) => {
      const v = community[i];
      const cx = slot * i + slot / 2;
      const label = h`<text class="axis" x="${cx.toFixed(1)}" y="${BARS_H - 10}" text-anchor="middle">${weekday(day)}</text>`;
      if (v === null || v === undefined) {
        return h`<g data-testid="day-bar" data-day="${day}" data-percent="">${label}
          <text class="axis" x="${cx.toFixed(1)}" y="${(BARS_TOP + plotH - 4).toFixed(1)}" text-anchor="middle">no data</text></g>`;
      }
      const top = y(Number(v));
      const ok = Number(v) >= target;
      return h`<g data-testid="day-bar" data-day="${day}" data-percent="${String(v)}" data-meets="${String(ok)}">
        <rect class="${ok ? "up" : "down"}" x="${(cx - slot * 0.3).toFixed(1)}" y="${top.toFixed(1)}" width="${(slot * 0.6).toFixed(1)}"
          height="${(BARS_TOP + plotH - top).toFixed(1)}"><title>${`${day}: ${pct(v)}`}</title></rect>
        <text class="val" x="${cx.toFixed(1)}" y="${(top - 4).toFixed(1)}" text-anchor="middle">${Number(v).toFixed(1)}</text>${label}</g>`;
    });
    const ty = y(target);
    el.innerHTML = esc(h`<div data-testid="health-chart">
      <h3>Community online rate per day</h3>
      <svg class="bars" viewBox="0 0 ${BARS_W} ${BARS_H}" role="img" aria-label="${`Daily community online rate, target ${target} %`}">
        <text class="axis" x="2" y="${(BARS_TOP + plotH).toFixed(1)}">${floor} %</text>
        <text class="axis" x="2" y="${BARS_TOP - 6}">100 %</text>
        <line class="base" x1="0" x2="${BARS_W}" y1="${(BARS_TOP + plotH).toFixed(1)}" y2="${(BARS_TOP + plotH).toFixed(1)}"></line>
        ${bars}
        <line class="target" data-testid="target-line" x1="0" x2="${BARS_W}" y1="${ty.toFixed(1)}" y2="${ty.toFixed(1)}"></line>
        <text class="target-label" x="${BARS_W - 4}" y="${(ty - 4).toFixed(1)}" text-anchor="end">target ${target} %</text>
      </svg>
      <h3>Each device, ${this._fmt(new Date(t0).toISOString(), false)} to now</h3>
      <div class="tl-legend muted small"><span class="sw up"></span> online <span class="sw down"></span> offline
        <span class="sw unwatched"></span> not watched</div>
      <div class="tl-axis muted small">${ticks.map((t) => h`<span style="left:${(t.f * 100).toFixed(0)}%;transform:translateX(-${(t.f * 100).toFixed(0)}%)">${this._fmt(t.iso, false)}</span>`)}</div>
      ${rows}
    </div>`);
  }

  _renderProblems() {
    const el = this._$("#dev-problems");
    if (!el) return;
    const problems = this._d.problems;
    if (!problems) return;
    // The 5 s refresh must not take the note a manager is typing away from under the cursor.
    const active = this.shadowRoot && this.shadowRoot.activeElement;
    if (active && active.tagName === "INPUT" && el.contains(active)) return;
    const typed = new Map(Array.from(el.querySelectorAll("form[data-problem-id]"))
      .map((f) => [f.dataset.problemId, f.elements.namedItem("note").value]));
    if (!problems.length) {
      el.innerHTML = esc(h`<div class="empty" data-testid="empty-problems"><div class="big">No problems</div>
        A device that goes offline opens a problem here; it resolves itself when the device is back.</div>`);
      return;
    }
    const now = Date.now();
    el.innerHTML = esc(h`<div class="table-wrap"><table class="stack">
      <thead><tr><th>#</th><th>Device</th><th>State</th><th>Opened</th><th>Acknowledged</th><th class="num">Time to repair</th><th>Note</th></tr></thead>
      <tbody>${problems.map((p) => h`<tr data-testid="problem-row" data-problem-id="${String(p.problem_id)}" data-state="${p.state}">
        <td data-label="#" class="num">${String(p.problem_id)}</td>
        <td data-label="Device" class="title"><strong class="wrap">${p.name || this._deviceName(p.device_id)}</strong>
          <span class="muted small">${kindText(p.kind)}</span></td>
        <td data-label="State">${stateBadge(p.state)}</td>
        <td data-label="Opened">${this._fmt(p.opened_at, false)}</td>
        <td data-label="Acknowledged">${p.acknowledged_at ? this._fmt(p.acknowledged_at, false) : h`<span class="muted">—</span>`}</td>
        <td data-label="Time to repair" class="num">${p.repair_seconds !== null && p.repair_seconds !== undefined
          ? fmtDuration(p.repair_seconds)
          : h`<span class="badtext">${fmtDuration((now - new Date(p.opened_at).getTime()) / 1000)} so far</span>`}</td>
        <td data-label="Note">${p.note ? h`<span class="wrap" data-testid="problem-note">${p.note}</span>` : ""}
          ${p.state === "resolved" ? "" : h`<form data-form="ack" data-problem-id="${String(p.problem_id)}" class="row" novalidate>
            <input name="note" maxlength="500" required aria-label="Note" data-testid="problem-note-input"
              placeholder="${p.note ? "Update the note" : "What is being done?"}" value="${typed.get(String(p.problem_id)) || ""}">
            <button type="submit" class="btn secondary" data-testid="problem-ack" data-busy="${`ack-${p.problem_id}`}"
              ${this._dis(`ack-${p.problem_id}`)}>${p.state === "open" ? "Acknowledge" : "Update"}</button></form>`}</td>
      </tr>`)}</tbody></table></div>`);
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
        <td data-label="Device" class="title"><strong class="wrap">${x.name || x.device_id}</strong></td>
        <td data-label="Kind">${kindText(x.kind)}</td>
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
              <td data-label="Device">${this._deviceName(d.device_id)}</td><td data-label="Kind">${kindText(d.kind)}</td>
              <td data-label="Online" class="num">${pct(d.online_percent)}</td>
              <td data-label="Offline time" class="num">${fmtDuration(d.offline_seconds)}</td>
              <td data-label="Outages" class="num">${d.outages}</td>
              <td data-label="Target">${d.meets_target ? h`<span class="good">met</span>` : h`<span class="badtext">missed</span>`}</td>
            </tr>`)}</tbody></table></div>` : ""}
          <h3>Outages</h3>
          ${outages.length ? h`<div class="table-wrap"><table class="stack">
            <thead><tr><th>Device</th><th>From</th><th>To</th><th class="num">Duration</th></tr></thead>
            <tbody>${outages.map((o) => h`<tr data-testid="outage-row">
              <td data-label="Device">${this._deviceName(o.device_id)}</td>
              <td data-label="From">${this._fmt(o.start, false)}${o.began_before_week ? h` <span class="muted small">(already offline)</span>` : ""}</td>
              <td data-label="To">${this._fmt(o.end, false)}${o.continues_after_week ? h` <span class="muted small">(still offline)</span>` : ""}</td>
              <td data-label="Duration" class="num">${fmtDuration(o.seconds)}</td>
            </tr>`)}</tbody></table></div>` : h`<p class="muted">No outages this week.</p>`}
          <h3>Problems</h3>
          ${(r.problems || []).length ? h`<p class="muted small">Mean time to repair ${fmtDuration(r.mean_repair_seconds)}</p>
            <div class="table-wrap"><table class="stack">
            <thead><tr><th>#</th><th>Device</th><th>Opened</th><th>Acknowledged</th><th>Resolved</th><th class="num">Time to repair</th></tr></thead>
            <tbody>${r.problems.map((p) => h`<tr data-testid="report-problem-row">
              <td data-label="#" class="num">${String(p.problem_id)}</td>
              <td data-label="Device">${this._deviceName(p.device_id)}</td>
              <td data-label="Opened">${this._fmt(p.opened_at, false)}</td>
              <td data-label="Acknowledged">${p.acknowledged_at ? this._fmt(p.acknowledged_at, false) : "—"}</td>
              <td data-label="Resolved">${p.resolved_at ? this._fmt(p.resolved_at, false) : h`<span class="badtext">still open</span>`}</td>
              <td data-label="Time to repair" class="num">${p.repair_seconds === null || p.repair_seconds === undefined ? "—" : fmtDuration(p.repair_seconds)}</td>
            </tr>`)}</tbody></table></div>` : h`<p class="muted">No problems this week.</p>`}
        </div></details>`;
    }));
  }
};
