// The Alarms tab: doors forced open, held open, a reader tampered with, devices offline, blacklisted vehicles refused
// at a car-park lane (with the plate: the panel is admin-only, and the black list is the manager's own data). Each alarm stays in the list
// until a manager has acknowledged it with a note and closed it (who and when are shown; both are audited). The
// open-alarm count is the badge on the tab (Home Assistant offers custom panels no badge in its sidebar; its own
// notification bell counts the alarms' persistent notifications there).

import { fmtDuration } from "../shared/format.js";
import { esc, h } from "../shared/html.js";

export const ALARM_POLL_MS = 15000;

const ALARM_TEXT = {
  forced_open: "Forced open",
  held_open: "Held open",
  tamper: "Reader tampered with",
  device_offline: "Device offline",
  blacklisted_vehicle: "Blacklisted vehicle",
};

function alarmStateBadge(a) {
  if (a.alarm_state === "closed") return h`<span class="badge">Closed</span>`;
  if (a.alarm_state === "acknowledged") return h`<span class="badge warn">Acknowledged</span>`;
  return h`<span class="badge bad">Open</span>`;
}

export const AlarmsTab = (Base) => class extends Base {
  _renderAlarmsTab() {
    this._view.innerHTML = esc(h`<section class="card">
      <header><h2>Alarms</h2>
        <label class="check"><input type="checkbox" data-change="alarms-closed" data-testid="alarms-show-closed"
          ${this._al.includeClosed ? "checked" : ""}> Show closed alarms</label></header>
      <p class="muted">An alarm stays here until someone deals with it: acknowledge it with a note saying what is being
        done, then close it. Each step is kept with who did it.</p>
      <div id="alarm-list">${this._loadingHtml("Loading alarms…")}</div></section>`);
    if (this._al.alarms) this._renderAlarms();
  }

  async _loadAlarms() {
    const al = this._al;
    const req = (al.req = (al.req || 0) + 1);
    try {
      const result = await this._ws("alarms/list", { include_closed: al.includeClosed });
      if (req !== al.req) return;
      al.alarms = result.alarms || [];
      this._setAlarmBadge(result.open || 0);
    } catch (err) {
      if (req !== al.req) return;
      if (this._tab === "alarms") {
        this._setError(err);
        this._set("#alarm-list", h`<div class="empty">The alarms could not be loaded.</div>`);
      }
      return;
    }
    if (this._tab === "alarms") this._renderAlarms();
  }

  _setAlarmBadge(count) {
    this._al.open = count;
    const badge = this._$('[data-testid="alarm-badge"]');
    if (!badge) return;
    badge.textContent = String(count);
    badge.hidden = !count;
    badge.setAttribute("aria-label", `${count} open ${count === 1 ? "alarm" : "alarms"}`);
  }

  _startAlarmTimer() {
    clearInterval(this._timers.alarms);
    this._timers.alarms = setInterval(() => this._loadAlarms(), ALARM_POLL_MS);
  }

  _stopAlarmTimer() {
    clearInterval(this._timers.alarms);
  }

  _renderAlarms() {
    const el = this._$("#alarm-list");
    const alarms = this._al.alarms;
    if (!el || !alarms) return;
    const typed = new Map(Array.from(el.querySelectorAll("form[data-alarm-id]"))
      .map((f) => [`${f.dataset.form}-${f.dataset.alarmId}`, f.elements.namedItem("note").value]));
    if (!alarms.length) {
      el.innerHTML = esc(h`<div class="empty" data-testid="empty-alarms"><div class="big">No open alarms</div>
        A door forced or held open, a reader's tamper switch or a device going offline opens an alarm here.</div>`);
      return;
    }
    const now = Date.now();
    el.innerHTML = esc(h`<div class="table-wrap"><table class="stack">
      <thead><tr><th>#</th><th>Alarm</th><th>Where</th><th>State</th><th>When</th><th>Handled</th><th>Note and action</th></tr></thead>
      <tbody>${alarms.map((a) => {
        const id = String(a.problem_id);
        const since = a.alarm === "blacklisted_vehicle" ? h`<span class="muted">refused, the barrier stayed down</span>` : a.active
          ? h`<span class="badtext">still ${a.alarm === "device_offline" ? "offline" : "active"}, ${fmtDuration((now - new Date(a.opened_at).getTime()) / 1000)}</span>`
          : h`<span class="muted">cleared ${this._fmt(a.resolved_at, false)}</span>`;
        return h`<tr data-testid="alarm-row" data-alarm-id="${id}" data-state="${a.alarm_state}" data-alarm="${a.alarm}"
          data-active="${String(!!a.active)}">
        <td data-label="#" class="num">${id}</td>
        <td data-label="Alarm" class="title"><strong>${ALARM_TEXT[a.alarm] || a.alarm}</strong>${a.subject ? h`<br><span data-testid="alarm-subject">Plate ${a.subject}</span>` : ""}</td>
        <td data-label="Where"><span class="wrap">${a.name || a.device_id}</span></td>
        <td data-label="State">${alarmStateBadge(a)}</td>
        <td data-label="When">${this._fmt(a.opened_at, false)}<br>${since}</td>
        <td data-label="Handled">${a.acknowledged_at ? h`<span data-testid="alarm-acked">Acknowledged ${this._fmt(a.acknowledged_at, false)}${a.acknowledged_by ? h` by ${a.acknowledged_by}` : ""}</span>` : h`<span class="muted">—</span>`}
          ${a.closed_at ? h`<br><span data-testid="alarm-closed">Closed ${this._fmt(a.closed_at, false)}${a.closed_by ? h` by ${a.closed_by}` : ""}</span>` : ""}</td>
        <td data-label="Note and action">${a.note ? h`<span class="wrap" data-testid="alarm-note">${a.note}</span>` : ""}
          ${a.alarm_state === "open" ? h`<form data-form="alarm-ack" data-alarm-id="${id}" class="row" novalidate>
            <input name="note" maxlength="500" required aria-label="What is being done" data-testid="alarm-note-input"
              placeholder="What is being done?" value="${typed.get(`alarm-ack-${id}`) || ""}">
            <button type="submit" class="btn secondary" data-testid="alarm-ack" data-busy="${`alarm-${id}`}"
              ${this._dis(`alarm-${id}`)}>Acknowledge</button></form>` : ""}
          ${a.alarm_state === "acknowledged" ? h`<form data-form="alarm-close" data-alarm-id="${id}" class="row" novalidate>
            <input name="note" maxlength="500" aria-label="Closing note (optional)" data-testid="alarm-close-note"
              placeholder="What was done (optional)" value="${typed.get(`alarm-close-${id}`) || ""}">
            <button type="submit" class="btn" data-testid="alarm-close" data-busy="${`alarm-${id}`}"
              ${this._dis(`alarm-${id}`)}>Close</button></form>` : ""}</td></tr>`;
      })}</tbody></table></div>`);
  }

  async _acknowledgeAlarm(form) {
    const id = Number(form.dataset.alarmId);
    const input = form.elements && form.elements.namedItem("note");
    if (!id || !input) return;
    const note = input.value.trim();
    if (!note) {
      input.setAttribute("aria-invalid", "true");
      this._setError("Say what is being done about it (a short note) before acknowledging the alarm.");
      return;
    }
    const done = await this._task(`alarm-${id}`, () => this._ws("problems/acknowledge", { problem_id: id, note }));
    if (done) await this._loadAlarms();
  }

  async _closeAlarm(form) {
    const id = Number(form.dataset.alarmId);
    const input = form.elements && form.elements.namedItem("note");
    if (!id) return;
    const note = input ? input.value.trim() : "";
    const done = await this._task(`alarm-${id}`, () => this._ws("alarms/close", note ? { problem_id: id, note } : { problem_id: id }));
    if (done) await this._loadAlarms();
  }
};
