// The residents' CSV import file: its columns, its delimiter and an RFC 4180 parser (the hub checks the rows
// again; this is for the plan shown before the import).

export const CSV_COLUMNS = [
  ["resident_id", "required", "1-64 letters, digits or . _ : @ -, starting with a letter or digit; new to the hub"],
  ["full_name", "required", "the resident's name"],
  ["household", "optional", "household or family name"],
  ["building", "optional", "building"],
  ["unit", "optional", "unit / flat"],
  ["valid_from", "optional", "a date (2026-01-31) or date and time (2026-01-31T08:00); without an offset, the community's time zone"],
  ["valid_until", "optional", "as valid_from; after it"],
  ["is_minor", "optional", "yes/no, true/false or 1/0; empty means no"],
  ["guardian", "for a minor", "the guardian who consents for a minor"],
  ["consent_scope", "for photos", "what the resident consented to; consent is recorded with this text"],
  ["card_number", "optional", "4-32 digits or hex characters (spaces and dashes ignored)"],
  ["photos", "optional", "photo file names separated by ; (e.g. anna-1.jpg;anna-2.jpg), at most 20"],
];

// The delimiter (",", ";" or tab) under which the header names the most known columns, as the hub decides it.
export function csvDelimiter(text) {
  const first = (text.replace(/^\uFEFF/, "").split(/\r?\n/).find((line) => line.trim()) || "");
  const known = (d) => first.split(d).filter((n) => CSV_COLUMNS.some(([c]) => c === n.trim().replace(/^"|"$/g, "").trim().toLowerCase())).length;
  let best = ",";
  for (const d of [";", "\t"]) if (known(d) > known(best)) best = d;
  return best;
}

// RFC 4180 CSV (quotes, doubled quotes, CRLF, BOM) -> rows of cells. Blank lines are dropped.
export function parseCsv(text, delimiter = ",") {
  const rows = [];
  let row = [];
  let cell = "";
  let quoted = false;
  const src = text.replace(/^\uFEFF/, "");
  for (let i = 0; i < src.length; i += 1) {
    const c = src[i];
    if (quoted) {
      if (c === '"') {
        if (src[i + 1] === '"') {
          cell += '"';
          i += 1;
        } else quoted = false;
      } else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) {
      row.push(cell);
      cell = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && src[i + 1] === "\n") i += 1;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += c;
  }
  if (cell !== "" || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows.filter((r) => r.some((v) => v.trim() !== ""));
}
