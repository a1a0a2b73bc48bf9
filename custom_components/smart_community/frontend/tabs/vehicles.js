// The Vehicles tab: the vehicle log (filters, CSV), the registry (residents' and monthly vehicles, visitor-vehicle
// invitations, the white and black lists) and putting a plate on a list. Admin-only commands (vehicles/*).

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
          ${table(["Plate", "Resident"], rows(reg.resident_vehicles, (x) => [["Plate", x.plate], ["Resident", x.resident_id]]))}
          <h3>Monthly vehicles</h3>
          ${table(["Plate", "Holder", "Valid until"], rows(reg.monthly_vehicles, (x) => [["Plate", x.plate],
            ["Holder", x.holder], ["Valid until", this._fmt(x.valid_until)]]))}
          <h3>Visitor vehicles</h3>
          ${table(["Plate", "Invited by", "From", "Until", "Revoked"], rows(reg.invitations, (x) => [["Plate", x.plate],
            ["Invited by", x.resident_id], ["From", this._fmt(x.valid_from)], ["Until", this._fmt(x.valid_until)],
            ["Revoked", x.revoked_at ? this._fmt(x.revoked_at) : ""]]))}
          <h3>White and black lists</h3>
          ${table(["Plate", "List", "Note"], rows(reg.listed_plates, (x) => [["Plate", x.plate], ["List", x.list],
            ["Note", x.note]]))}`}
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

  async _vehAction(name) {
    if (name === "veh-filter" || name === "veh-refresh") return this._loadVehicles();
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
