// Text for the screen: error messages, counts, percentages, durations, and the datetime-local <-> ISO 8601
// conversions in a given time zone (the user's Home Assistant setting; undefined: the browser's).

export function errMsg(err) {
  if (!err) return "Unknown error";
  if (typeof err === "string") return err;
  if (err.message) return String(err.message);
  if (err.code === 3) return "The connection to Home Assistant was lost.";
  if (err.code) return String(err.code);
  return String(err);
}

export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many || `${one}s`}`;
}

export function pct(value) {
  return value === null || value === undefined || Number.isNaN(Number(value)) ? "—" : `${Number(value).toFixed(2)} %`;
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(Number(seconds))) return "—";
  let s = Math.max(0, Math.round(Number(seconds)));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const hrs = Math.floor(s / 3600);
  s -= hrs * 3600;
  const min = Math.floor(s / 60);
  s -= min * 60;
  if (d) return `${d} d ${hrs} h`;
  if (hrs) return `${hrs} h ${min} min`;
  if (min) return `${min} min ${s} s`;
  return `${s} s`;
}

function pad2(n) {
  return String(n).padStart(2, "0");
}

// Minutes east of UTC of the time zone `tz` at the instant `ms`.
function tzOffsetMinutes(ms, tz) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(ms));
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour") % 24, get("minute"), get("second"));
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60000);
}

function fmtOffset(minutes) {
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

// A datetime-local value ("2025-05-01T14:30") read in `tz` (undefined: the browser's) -> ISO 8601 with offset.
export function inputToIso(value, tz) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value || "");
  if (!m) return null;
  const [y, mo, d, hh, mi, ss] = m.slice(1).map((v) => Number(v || 0));
  let offset;
  if (tz) {
    const wall = Date.UTC(y, mo - 1, d, hh, mi, ss);
    offset = tzOffsetMinutes(wall, tz);
    offset = tzOffsetMinutes(wall - offset * 60000, tz);
  } else {
    offset = -new Date(y, mo - 1, d, hh, mi, ss).getTimezoneOffset();
  }
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${pad2(ss)}${fmtOffset(offset)}`;
}

// An instant (Date or ISO text) -> a datetime-local value in `tz` (undefined: the browser's).
export function toInput(when, tz) {
  if (!when) return "";
  const date = when instanceof Date ? when : new Date(when);
  if (Number.isNaN(date.getTime())) return "";
  if (tz) {
    const local = new Date(date.getTime() + tzOffsetMinutes(date.getTime(), tz) * 60000);
    return `${local.getUTCFullYear()}-${pad2(local.getUTCMonth() + 1)}-${pad2(local.getUTCDate())}T${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}`;
  }
  return `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}T${pad2(date.getHours())}:${pad2(date.getMinutes())}`;
}
