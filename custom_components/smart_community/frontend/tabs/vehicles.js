// The Vehicles tab: the vehicle log (filters, CSV), the registry (residents' and monthly vehicles, visitor-vehicle
// invitations, the white and black lists), registering each of them and removing or revoking them. Admin-only
// commands (vehicles/*).

import { inputToIso } from "../shared/format.js";
import { esc, h } from "../shared/html.js";

export const VehiclesTab = (Base) => class extends Base {
  _vehState() {
    if (!this._v) this._v = { log: null, registry: null, filters: { plate: "", result: "" } };
    return this._v;
  }

  _renderVehicles() {
    const v = this._vehState();
    const f = v.filters;
    const log = v.log;
    const reg = v.registry;
    const rows = (items, cells) => items.map((item) => h`<tr>${cells(item).map(([label, value]) =>
      h`<td data-label="${label}">${value === null || value === undefined || value === "" ? "—" : String(value)}</td>`)}</tr>`);
    // A registry row: its cells, then its own button (data-id: what the action removes or revokes).
    const button = (action, id, label) => h`<button type="button" class="btn text" data-action="${action}"
      data-id="${id}" data-busy="${action}">${label}</button>`;
    const rowsWith = (items, cells, make) => items.map((item) => h`<tr>${cells(item).map(([label, value]) =>
      h`<td data-label="${label}">${value === null || value === undefined || value === "" ? "—" : String(value)}</td>`)}
      <td data-label="">${make(item)}</td></tr>`);
    const table = (heads, body) => h`<div class="table-wrap"><table class="stack"><thead><tr>${heads.map((x) => h`<th>${x}</th>`)}</tr></thead>
      <tbody>${body}</tbody></table></div>`;
    this._view.innerHTML = esc(h`
      <section class="card" data-testid="vehicle-log">
        <header><h2>Vehicle log</h2>
          <button type="button" class="btn text" data-action="veh-csv" data-busy="veh-csv">Download CSV</button></header>
        <form class="filters" data-form="veh-filter">
          <label>Plate <input name="plate" value="${f.plate}" autocomplete="off"></label>
          <label>Result <select name="result">
            ${[["", "Any"], ["granted", "Granted"], ["denied", "Denied"]].map(([value, label]) =>
              h`<option value="${value}" ${value === f.result ? "selected" : ""}>${label}</option>`)}</select></label>
          <button type="submit" class="btn" data-busy="veh-log">Show</button>
        </form>
        ${!log ? this._loadingHtml("Loading the vehicle log…") : !log.entries.length
          ? h`<div class="empty" data-testid="empty-state">No vehicle passes.</div>`
          : table(["Time", "Plate", "Lane", "Direction", "Result", "Reason"], rows(log.entries, (e) => [
            ["Time", this._fmt(e.at)], ["Plate", e.plate], ["Lane", e.lane_id], ["Direction", e.direction],
            ["Result", e.result + (e.backfilled ? " (back-filled)" : "")],
            ["Reason", String(e.reason).replace(/_/g, " ")]]))}
      </section>
      <section class="card" data-testid="vehicle-register">
        <h2>Register a vehicle</h2>
        <form data-form="veh-add">
          <h3>A resident's own vehicle</h3>
          <label>Resident id <input name="resident_id" required autocomplete="off"></label>
          <label>Plate <input name="plate" required autocomplete="off" placeholder="皖A7XG66"></label>
          <button type="submit" class="btn" data-busy="veh-add">Register</button>
        </form>
        <form data-form="veh-monthly">
          <h3>A monthly vehicle</h3>
          <label>Plate <input name="plate" required autocomplete="off"></label>
          <label>Holder <input name="holder" autocomplete="off"></label>
          <label>Valid from <input name="valid_from" type="datetime-local" required></label>
          <label>Valid until <input name="valid_until" type="datetime-local" required></label>
          <button type="submit" class="btn" data-busy="veh-monthly">Register</button>
        </form>
        <form data-form="veh-invite">
          <h3>A visitor's vehicle, invited by a resident</h3>
          <label>Invited by (resident id) <input name="resident_id" required autocomplete="off"></label>
          <label>Plate <input name="plate" required autocomplete="off"></label>
          <label>From <input name="valid_from" type="datetime-local"></label>
          <label>Until <input name="valid_until" type="datetime-local" required></label>
          <button type="submit" class="btn" data-busy="veh-invite">Invite</button>
        </form>
      </section>
      <section class="card">
        <h2>Put a plate on a list</h2>
        <form data-form="veh-list">
          <label>Plate <input name="plate" required autocomplete="off"></label>
          <label>List <select name="list"><option value="black">Black (refuse, alarm)</option>
            <option value="white">White (open)</option></select></label>
          <label>Note <input name="note" autocomplete="off"></label>
          <button type="submit" class="btn" data-busy="veh-list">Add</button>
        </form>
      </section>
      <section class="card" data-testid="vehicle-registry">
        <header><h2>Registered vehicles</h2>
          <button type="button" class="btn text" data-action="veh-refresh" data-busy="veh-registry">Refresh</button></header>
        ${!reg ? this._loadingHtml("Loading the registry…") : h`
          <h3>Residents' vehicles</h3>
          ${table(["Plate", "Resident", ""], rowsWith(reg.resident_vehicles, (x) => [["Plate", x.plate],
            ["Resident", x.resident_id]], (x) => button("veh-remove", x.vehicle_id, "Remove")))}
          <h3>Monthly vehicles</h3>
          ${table(["Plate", "Holder", "Valid until", ""], rowsWith(reg.monthly_vehicles, (x) => [["Plate", x.plate],
            ["Holder", x.holder], ["Valid until", this._fmt(x.valid_until)]],
            (x) => button("veh-monthly-remove", x.vehicle_id, "Remove")))}
          <h3>Visitor vehicles</h3>
          ${table(["Plate", "Invited by", "From", "Until", "Revoked", ""], rowsWith(reg.invitations, (x) => [["Plate", x.plate],
            ["Invited by", x.resident_id], ["From", this._fmt(x.valid_from)], ["Until", this._fmt(x.valid_until)],
            ["Revoked", x.revoked_at ? this._fmt(x.revoked_at) : ""]],
            (x) => (x.revoked_at ? h`` : button("veh-revoke", x.invitation_id, "Revoke"))))}
          <h3>White and black lists</h3>
          ${table(["Plate", "List", "Note", ""], rowsWith(reg.listed_plates, (x) => [["Plate", x.plate], ["List", x.list],
            ["Note", x.note]], (x) => button("veh-unlist", x.plate, "Take off the list")))}`}
      </section>`);
  }

  _vehFilters() {
    const form = this._$('form[data-form="veh-filter"]');
    const v = this._vehState();
    if (form) v.filters = { plate: form.plate.value.trim(), result: form.result.value };
    const out = {};
    if (v.filters.plate) out.plate = v.filters.plate;
    if (v.filters.result) out.result = v.filters.result;
    return out;
  }

  async _loadVehicles() {
    const v = this._vehState();
    const [log, registry] = await Promise.all([
      this._task("veh-log", () => this._ws("vehicles/log", { ...this._vehFilters(), limit: 100 })),
      this._task("veh-registry", () => this._ws("vehicles/list")),
    ]);
    if (log) v.log = log;
    if (registry) v.registry = registry;
    if (this._tab === "vehicles") this._renderVehicles();
  }

  async _vehAction(name, el) {
    if (name === "veh-filter" || name === "veh-refresh") return this._loadVehicles();
    const tz = this._tz();
    const form = (which) => this._$(`form[data-form="${which}"]`);
    const text = (f, field) => f.elements.namedItem(field).value.trim();
    const when = (f, field) => inputToIso(f.elements.namedItem(field).value, tz);
    const send = async (busy, type, msg) => {
      const done = await this._task(busy, () => this._ws(type, msg));
      return done ? this._loadVehicles() : undefined;
    };
    if (name === "veh-add") {
      const f = form("veh-add");
      if (!text(f, "resident_id") || !text(f, "plate")) return this._setError("Enter the resident's id and the plate.");
      return send("veh-add", "vehicles/add", { resident_id: text(f, "resident_id"), plate: text(f, "plate") });
    }
    if (name === "veh-monthly") {
      const f = form("veh-monthly");
      if (!text(f, "plate") || !when(f, "valid_from") || !when(f, "valid_until")) {
        return this._setError("Enter the plate and when the monthly permit starts and ends.");
      }
      return send("veh-monthly", "vehicles/monthly/add", { plate: text(f, "plate"), holder: text(f, "holder") || undefined,
        valid_from: when(f, "valid_from"), valid_until: when(f, "valid_until") });
    }
    if (name === "veh-invite") {
      const f = form("veh-invite");
      if (!text(f, "resident_id") || !text(f, "plate") || !when(f, "valid_until")) {
        return this._setError("Enter who invites, the plate and until when the invitation holds.");
      }
      return send("veh-invite", "vehicles/invite", { resident_id: text(f, "resident_id"), plate: text(f, "plate"),
        valid_from: when(f, "valid_from") || undefined, valid_until: when(f, "valid_until") });
    }
    const id = el && el.dataset ? el.dataset.id : undefined;
    if (name === "veh-remove") return send("veh-remove", "vehicles/remove", { vehicle_id: id });
    if (name === "veh-monthly-remove") return send("veh-monthly-remove", "vehicles/monthly/remove", { vehicle_id: id });
    if (name === "veh-revoke") return send("veh-revoke", "vehicles/revoke", { invitation_id: id });
    if (name === "veh-unlist") return send("veh-unlist", "vehicles/lists/remove", { plate: id });
    if (name === "veh-csv") {
      const result = await this._task("veh-csv", () => this._ws("vehicles/log", { ...this._vehFilters(), limit: 10000, format: "csv" }));
      if (!result) return undefined;
      const a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob(["\uFEFF" + result.csv], { type: "text/csv;charset=utf-8" }));
      a.download = result.filename || "vehicle-log.csv";
      a.style.display = "none";
      this.shadowRoot.appendChild(a);
      a.click();
      setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
      return undefined;
    }
    if (name === "veh-list") {
      const form = this._$('form[data-form="veh-list"]');
      if (!form || !form.plate.value.trim()) return this._setError("Enter the plate.");
      const done = await this._task("veh-list", () => this._ws("vehicles/lists/add", {
        plate: form.plate.value.trim(), list: form.list.value, note: form.note.value.trim() || undefined }));
      if (done) return this._loadVehicles();
    }
    return undefined;
  }
};
