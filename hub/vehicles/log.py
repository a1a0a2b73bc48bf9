"""The vehicle log: the recorded passes, filtered (plate, lane, time range, result), newest first, and as CSV.

Reads only; run it on the community's writer or read connection. The plate is personal data: the log is for
administrators (the integration offers it admin-only)."""

from __future__ import annotations

import csv
import io
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from devices.anpr.plates import normalize_plate
from hub.exceptions import InvalidInputError
from hub.residents import validation as v

MAX_ROWS = 10_000
CSV_COLUMNS = ("pass_id", "at", "plate", "plate_color", "car_park", "lane_id", "direction", "result", "reason",
               "resident_id", "invited_by", "near_match_of", "backfilled", "dwell_s", "duplicates")


@dataclass(frozen=True, kw_only=True)
class VehicleLogFilter:
    """Which passes: a plate (normalised as the registry does), a lane id (``car park:entrance:lane``) or a car
    park, a time range ``[since, until)``, ``granted``/``denied``."""

    plate: str | None = None
    lane_id: str | None = None
    car_park: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    result: str | None = None

    def __post_init__(self) -> None:
        if self.result not in (None, "granted", "denied"):
            raise InvalidInputError("result must be granted or denied")
        if self.since is not None:
            v.aware_datetime(self.since, "since")
        if self.until is not None:
            v.aware_datetime(self.until, "until")
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise InvalidInputError("until must be after since")


def vehicle_log(conn: sqlite3.Connection, filters: VehicleLogFilter | None = None, *, limit: int = 50,
                before: int | None = None) -> list[dict[str, Any]]:
    """The passes matching ``filters``, newest first; ``before`` a ``pass_id`` to page from."""
    f = filters or VehicleLogFilter()
    if not 1 <= limit <= MAX_ROWS:
        raise InvalidInputError(f"limit must be 1..{MAX_ROWS}")
    where: list[str] = []
    args: list[object] = []
    if f.plate:
        where.append("plate = ?")
        args.append(normalize_plate(f.plate).plate)
    if f.lane_id:
        where.append("lane_id = ?")
        args.append(f.lane_id)
    if f.car_park:
        where.append("car_park = ?")
        args.append(f.car_park)
    if f.since is not None:
        where.append("at >= ?")
        args.append(v.to_db(f.since))
    if f.until is not None:
        where.append("at < ?")
        args.append(v.to_db(f.until))
    if f.result is not None:
        where.append("granted = ?")
        args.append(1 if f.result == "granted" else 0)
    if before is not None:
        where.append("pass_id < ?")
        args.append(before)
    sql = "SELECT * FROM vehicle_passes" + (" WHERE " + " AND ".join(where) if where else "")
    rows = conn.execute(sql + " ORDER BY at DESC, pass_id DESC LIMIT ?", (*args, limit)).fetchall()
    return [_entry(row) for row in rows]


def _entry(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "pass_id": row["pass_id"], "at": v.from_db(row["at"]).isoformat(), "plate": row["plate"],
        "plate_color": row["plate_color"], "car_park": row["car_park"], "lane_id": row["lane_id"],
        "direction": row["direction"], "result": "granted" if row["granted"] else "denied",
        "reason": row["reason"], "resident_id": row["resident_id"], "invited_by": row["invited_by"],
        "near_match_of": row["near_match_of"], "backfilled": bool(row["backfilled"]), "dwell_s": row["dwell_s"],
        "duplicates": row["duplicates"],
    }


def vehicle_log_csv(entries: list[dict[str, Any]]) -> str:
    """The entries as CSV (a header row, then one row per pass). Cells that a spreadsheet would run as a formula
    are prefixed with an apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow([_cell(entry[column]) for column in CSV_COLUMNS])
    return out.getvalue()


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
