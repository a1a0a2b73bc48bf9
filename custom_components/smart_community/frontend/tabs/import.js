// The Import tab: residents from a CSV file with their photos; the plan before, the progress and the report.

import { CSV_COLUMNS, csvDelimiter, parseCsv } from "../shared/csv.js";
import { MAX_PHOTO_BYTES, PHOTO_TYPES, readBase64, readText } from "../shared/files.js";
import { errMsg, plural } from "../shared/format.js";
import { esc, h } from "../shared/html.js";

export const ImportTab = (Base) => class extends Base {
  _renderImport() {
    const template = `data:text/csv;charset=utf-8,${encodeURIComponent(`${CSV_COLUMNS.map((c) => c[0]).join(",")}\r\n`)}`;
    this._view.innerHTML = esc(h`
      <section class="card">
        <h2>Import residents from a CSV file</h2>
        <p class="muted">All rows are checked first: nothing is written unless every row is valid. Face photos are checked
          one by one; only their templates are kept.</p>
        <div class="form-grid three">
          <label class="field"><span>CSV file *</span>
            <input type="file" accept=".csv,text/csv" data-testid="import-csv" data-change="import-csv"></label>
          <label class="field"><span>Photos (files)</span>
            <input type="file" accept="image/jpeg,image/png" multiple data-testid="import-photos" data-change="import-photos"></label>
          <label class="field"><span>…or a folder of photos</span>
            <input type="file" webkitdirectory multiple data-testid="import-folder" data-change="import-folder"></label>
        </div>
        <div id="import-plan"></div>
        <div class="row end" style="margin-top:12px">
          <button type="button" class="btn secondary" data-action="import-reset">Start over</button>
          <button type="button" class="btn" data-testid="import-run" data-action="import-run" data-busy="import"
            id="import-run">Import</button>
        </div>
        <div id="import-progress-slot"></div>
      </section>
      <section class="card" id="import-report-card"></section>
      <section class="card" aria-labelledby="cols-h">
        <header><h2 id="cols-h">Expected CSV columns</h2>
          <a class="btn secondary" href="${template}" download="residents-template.csv">Download an empty template</a></header>
        <p class="muted">UTF-8, comma-separated, the first row is the header with these names (any order).</p>
        <div class="table-wrap"><table class="stack" data-testid="import-columns">
          <thead><tr><th>Column</th><th>Needed</th><th>Content</th></tr></thead>
          <tbody>${CSV_COLUMNS.map(([name, need, text]) => h`<tr><td data-label="Column" class="mono title">${name}</td>
            <td data-label="Needed">${need}</td><td data-label="Content">${text}</td></tr>`)}</tbody></table></div>
      </section>`);
    this._renderImportPlan();
    this._renderImportProgress();
    this._renderImportReport();
  }

  async _importCsvChosen(file) {
    const i = this._i;
    i.csvFile = file || null;
    i.csvText = "";
    i.csv = null;
    i.report = null;
    if (file) {
      try {
        i.csvText = await readText(file);
        i.csv = this._analyseCsv(i.csvText);
      } catch (err) {
        this._setError(err);
      }
    }
    this._renderImportPlan();
    this._renderImportReport();
  }

  _analyseCsv(text) {
    const rows = parseCsv(text, csvDelimiter(text));
    if (!rows.length) return { rows: 0, photos: [], error: "The CSV file is empty." };
    const header = rows[0].map((c) => c.trim().toLowerCase());
    const missing = ["resident_id", "full_name"].filter((c) => !header.includes(c));
    const unknown = header.filter((c) => c && !CSV_COLUMNS.some(([n]) => n === c));
    const col = header.indexOf("photos");
    const photos = [];
    const seen = new Set();
    if (col >= 0) {
      for (const row of rows.slice(1)) {
        for (const name of String(row[col] || "").split(/[;|]/).map((x) => x.trim()).filter(Boolean)) {
          if (!seen.has(name)) {
            seen.add(name);
            photos.push(name);
          }
        }
      }
    }
    return {
      rows: rows.length - 1, photos,
      error: missing.length ? `The header lacks ${missing.join(" and ")}.` : null,
      unknown,
    };
  }

  // The chosen photo files by name: the CSV's names are matched to file names (or folder paths), case-insensitively.
  _photoPlan() {
    const i = this._i;
    const files = [...i.photos, ...i.folder].filter((f) => PHOTO_TYPES.includes(f.type) || /\.(jpe?g|png)$/i.test(f.name));
    const byName = new Map();
    const byPath = new Map();
    for (const f of files) {
      const key = f.name.toLowerCase();
      if (!byName.has(key)) byName.set(key, f);
      const rel = (f.webkitRelativePath || "").toLowerCase();
      if (rel) {
        const parts = rel.split("/");
        for (let k = 0; k < parts.length; k += 1) {
          const sub = parts.slice(k).join("/");
          if (!byPath.has(sub)) byPath.set(sub, f);
        }
      }
    }
    const found = [];
    const missing = [];
    for (const name of (i.csv && i.csv.photos) || []) {
      const key = name.replace(/\\/g, "/").replace(/^\.\//, "").toLowerCase();
      const file = byPath.get(key) || byName.get(key) || byName.get(key.split("/").pop());
      if (file) found.push({ name, file });
      else missing.push(name);
    }
    return { files, found, missing };
  }

  _renderImportPlan() {
    const i = this._i;
    const el = this._$("#import-plan");
    if (!el) return;
    const plan = this._photoPlan();
    const c = i.csv;
    el.innerHTML = esc(h`<div style="margin-top:12px">
      ${!i.csvFile ? h`<p class="muted">Choose the CSV file${plan.files.length ? h` (${plural(plan.files.length, "photo")} chosen)` : ""}.</p>`
      : !c ? this._loadingHtml("Reading the CSV…")
      : h`<ul class="plain">
        <li><strong>${i.csvFile.name}</strong> <span class="muted">${plural(c.rows, "row")}</span></li>
        ${c.error ? h`<li class="badtext">${c.error}</li>` : ""}
        ${c.unknown && c.unknown.length ? h`<li class="muted">Unknown columns: ${c.unknown.join(", ")}</li>` : ""}
        <li>${c.photos.length ? h`${plural(c.photos.length, "photo")} named in the CSV: ${plan.found.length} found among the
          ${plural(plan.files.length, "chosen file")}${plan.missing.length ? h`; <span class="badtext">missing: ${plan.missing.join(", ")}</span>` : ""}`
          : "The CSV names no photos."}</li>
      </ul>`}</div>`);
    const run = this._$("#import-run");
    if (run) {
      const blocked = !c || i.running;
      run.dataset.disabledReason = blocked ? "1" : "";
      run.disabled = blocked || this._isBusy("import");
      run.textContent = c && c.rows ? `Import ${plural(c.rows, "row")}` : "Import";
    }
  }

  _renderImportProgress() {
    const p = this._i.progress;
    const el = this._$("#import-progress-slot");
    if (!el) return;
    el.innerHTML = esc(p ? h`<div class="progress" data-testid="import-progress" role="status" aria-live="polite">
      <span>${p.label}</span>
      ${p.total ? h`<progress max="${p.total}" value="${p.done}"></progress>` : h`<progress></progress>`}</div>` : "");
  }

  _renderImportReport() {
    const i = this._i;
    const el = this._$("#import-report-card");
    if (!el) return;
    const report = i.report;
    const refused = i.photoResults.filter((p) => !p.accepted);
    if (!report && !refused.length) {
      el.hidden = true;
      el.innerHTML = "";
      return;
    }
    el.hidden = false;
    const rows = (report && report.rows) || [];
    const okRows = rows.filter((r) => r.ok).length;
    const photoText = (p) => (Array.isArray(p) ? p.join(", ") : p === null || p === undefined ? "" : typeof p === "number" ? plural(p, "photo") : String(p));
    el.innerHTML = esc(h`<h2>Import report</h2>
      ${report ? h`<div class="summary ${report.imported ? "ok" : "bad"}" data-testid="import-summary" data-imported="${String(!!report.imported)}" role="status">
        ${report.imported ? `Imported ${plural(okRows || rows.length, "resident")}` : "Nothing was imported: fix the rows marked below and try again"}
        ${!report.imported && rows.length ? h`<div class="small" style="font-weight:400">${rows.length - okRows} of ${plural(rows.length, "row")} need fixing.</div>` : ""}
      </div>` : ""}
      ${report && (report.errors || []).length ? h`<ul class="errors" data-testid="import-errors">${report.errors.map((e) => h`<li>${e}</li>`)}</ul>` : ""}
      ${refused.length ? h`<h3>Photos not used</h3><ul class="plain">${refused.map((p) => h`<li><span class="mono">${p.filename}</span>
        <span class="badtext">✗ ${p.reason || "refused"}</span></li>`)}</ul>` : ""}
      ${rows.length ? h`<h3>Rows</h3><div class="table-wrap"><table class="stack">
        <thead><tr><th class="num">Row</th><th>Resident id</th><th>Result</th><th>Photos</th></tr></thead>
        <tbody>${rows.map((r) => h`<tr data-testid="import-row" data-ok="${String(!!r.ok)}" data-row="${r.row}">
          <td data-label="Row" class="num">${r.row}</td>
          <td data-label="Resident id" class="mono">${r.resident_id || "—"}</td>
          <td data-label="Result">${r.ok ? h`<span class="good">✓ OK</span>`
            : h`<ul class="errors">${(r.errors || []).map((e) => h`<li>${e}</li>`)}</ul>`}</td>
          <td data-label="Photos">${photoText(r.photos) || "—"}</td>
        </tr>`)}</tbody></table></div>` : ""}`);
  }

  _resetImport() {
    if (this._i.running) return;
    this._i = { csvFile: null, csvText: "", csv: null, photos: [], folder: [], running: false, progress: null, photoResults: [], report: null };
    this._setError(null);
    this._renderImport();
  }

  async _runImport() {
    const i = this._i;
    if (i.running || !i.csv) return;
    const plan = this._photoPlan();
    i.report = null;
    i.photoResults = [];
    i.running = true;
    this._renderImportReport();
    await this._task("import", async () => {
      const uploadIds = [];
      const total = plan.found.length;
      try {
        for (let k = 0; k < total; k += 1) {
          const { name, file } = plan.found[k];
          i.progress = { label: `Uploading photo ${k + 1} of ${total}`, done: k, total };
          this._renderImportProgress();
          let result;
          if (file.size > MAX_PHOTO_BYTES) result = { filename: name, accepted: false, reason: "larger than 3 MB" };
          else {
            try {
              const photo = await readBase64(file);
              result = await this._ws("import/photo", { filename: name, photo });
            } catch (err) {
              result = { filename: name, accepted: false, reason: errMsg(err) };
            }
          }
          i.photoResults.push({ filename: name, accepted: !!result.accepted, reason: result.reason, upload_id: result.upload_id });
          // Refused photos go along too: the hub then names the reason on the row that lists them.
          if (result.upload_id) uploadIds.push(result.upload_id);
        }
        for (const name of plan.missing) i.photoResults.push({ filename: name, accepted: false, reason: "not among the chosen photos" });
        i.progress = { label: `Checking and importing ${plural(i.csv.rows, "row")}…`, done: 0, total: 0 };
        this._renderImportProgress();
        i.report = await this._ws("import/commit", { csv: i.csvText, upload_ids: uploadIds });
      } finally {
        i.running = false;
        i.progress = null;
        this._renderImportProgress();
        this._renderImportReport();
        this._renderImportPlan();
      }
      if (i.report && i.report.imported) {
        this._allResidents = null;
        this._r.list = null;
        this._loadOverview();
      }
      const card = this._$("#import-report-card");
      if (card && card.scrollIntoView) card.scrollIntoView({ block: "start", behavior: "smooth" });
    });
    this._renderImportPlan();
  }
};
