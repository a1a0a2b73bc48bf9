// Escaping for the panel's HTML strings: h`...${value}...` escapes every value; h output (Raw) and arrays of it
// are inserted as they are. Also the checks that make a URL or base64 data safe to put in an attribute.

export class Raw {
  constructor(text) {
    this.text = text;
  }
  toString() {
    return this.text;
  }
}

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

export function esc(value) {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return value.map(esc).join("");
  return String(value).replace(/[&<>"'`]/g, (c) => ESCAPES[c]);
}

export function h(strings, ...values) {
  let out = strings[0];
  for (let i = 0; i < values.length; i += 1) out += esc(values[i]) + strings[i + 1];
  return new Raw(out);
}

export function safeUrl(url) {
  if (typeof url !== "string" || !url) return null;
  if (url.startsWith("/") && !url.startsWith("//")) return url;
  try {
    const parsed = new URL(url, window.location.href);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch (_err) {
    return null;
  }
}

const B64 = /^[A-Za-z0-9+/=\s]*$/;

export function pngData(b64) {
  return typeof b64 === "string" && B64.test(b64) ? `data:image/png;base64,${b64.replace(/\s/g, "")}` : "";
}
