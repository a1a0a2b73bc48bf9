"""The property managers' access log: decisions filtered by time, door, resident and result, newest first.

Paging is by keyset: a page ends with ``next_before`` (the last row's ``seq``) and the next page is asked for with
``before=next_before``, so page 1,000 costs what page 1 costs and rows appended meanwhile never shift a page.
Every filter combination reads one index backwards (schema V2: ``events_kind_*_seq``); a time window first
becomes a ``seq`` range through ``decision_hours``, then ``occurred_at`` is compared exactly row by row.

The functions here take a connection and do no locking; :class:`hub.journal.Journal` wraps them in its lock.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from hub.exceptions import InvalidInputError

from .models import EventKind, from_text, to_text

RESULTS = frozenset({"granted", "denied"})
MAX_PAGE = 500
CSV_COLUMNS = ("seq", "occurred_at", "door", "result", "reason", "credential", "resident_id")

# Spreadsheets run a cell that starts with one of these as a formula (CSV/formula injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _check_moment(name: str, value: datetime | None) -> None:
    if value is None:
        return
    if not isinstance(value, datetime):
        raise InvalidInputError(f"{name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(f"{name} must be timezone-aware (got a naive datetime)")


def _check_text(name: str, value: str | None) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{name} must be a non-empty string")


def check_limit(value: int, *, name: str = "limit", maximum: int = MAX_PAGE) -> None:
    """Refuse a page size that is not an integer from 1 to ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise InvalidInputError(f"{name} must be an integer from 1 to {maximum} (got {value!r})")


def check_before(before: int | None) -> None:
    """Refuse a cursor that is not a positive integer (a ``seq``)."""
    if before is not None and (isinstance(before, bool) or not isinstance(before, int) or before < 1):
        raise InvalidInputError(f"before must be a positive integer sequence number (got {before!r})")


@dataclass(frozen=True)
class AccessLogFilter:
    """What to show: decisions with ``since <= occurred_at < until`` (aware datetimes, compared in UTC to the
    millisecond), at one door, of one resident, with one result (``"granted"`` or ``"denied"``). ``None`` means
    no restriction. Invalid values raise :class:`~hub.exceptions.InvalidInputError` on construction."""

    since: datetime | None = None
    until: datetime | None = None
    door: str | None = None
    resident_id: str | None = None
    result: str | None = None

    def __post_init__(self) -> None:
        _check_moment("since", self.since)
        _check_moment("until", self.until)
        if self.since is not None and self.until is not None and self.until < self.since:
            raise InvalidInputError(
                f"until ({self.until.isoformat()}) is before since ({self.since.isoformat()})"
            )
        _check_text("door", self.door)
        _check_text("resident_id", self.resident_id)
        if self.result is not None and self.result not in RESULTS:
            raise InvalidInputError(f"result must be 'granted' or 'denied' (got {self.result!r})")


@dataclass(frozen=True)
class AccessLogRow:
    """One access decision as the access log shows it (``credential`` is the payload's ``credential_kind``)."""

    seq: int
    occurred_at: datetime
    door: str | None
    result: str | None
    reason: str | None
    credential: str | None
    resident_id: str | None
    face_assurance: str | None = None
    """At a door that takes faces: the face assurance level that applied (hub.access.models.FaceAssurance)."""


@dataclass(frozen=True)
class AccessLogPage:
    """Rows newest first; ``next_before`` is the cursor of the next page, ``None`` on the last page."""

    rows: list[AccessLogRow]
    next_before: int | None


_COLUMNS = (
    "seq, occurred_at, door, result, resident_id,"
    " CASE WHEN json_valid(payload) THEN json_extract(payload, '$.reason') END,"
    " CASE WHEN json_valid(payload) THEN json_extract(payload, '$.credential_kind') END,"
    " CASE WHEN json_valid(payload) THEN json_extract(payload, '$.face_assurance') END"
)


class AccessLogQuery:
    """One filter turned into SQL. :meth:`fetch` reads one page below a cursor; build it once per export.

    The driving index is chosen here rather than left to the planner: the most selective equality filter
    (resident, then door with or without result, then result) is the index's, named with ``INDEXED BY``; the
    others are written with a unary ``+``. Hints alone were not enough: without statistics, SQLite 3.53 (Debian
    sid's, which Home Assistant 2026.x runs on here) drives a result filter by ``events_kind_seq`` and its seq
    range instead, where 3.40 took the result's index.
    """

    def __init__(self, log_filter: AccessLogFilter) -> None:
        self.filter = log_filter
        where = [f"kind = '{EventKind.DECISION.value}'"]
        params: list[Any] = []
        f = log_filter
        # The resident's index is the most selective: with it, door and result are kept off their indexes.
        unindexed = ""
        if f.resident_id is not None:
            where.append("resident_id = ?")
            params.append(f.resident_id)
            unindexed = "+"
        if f.door is not None:
            where.append(f"{unindexed}door = ?")
            params.append(f.door)
        if f.result is not None:
            where.append(f"{unindexed}result = ?")
            params.append(f.result)
        if f.since is not None:
            where.append("+occurred_at >= ?")
            params.append(to_text(f.since))
        if f.until is not None:
            where.append("+occurred_at < ?")
            params.append(to_text(f.until))
        self._where = where
        self._params = params
        if f.resident_id is not None:
            self.index = "events_kind_resident_seq"
        elif f.door is not None:
            self.index = "events_kind_door_result_seq" if f.result is not None else "events_kind_door_seq"
        else:
            self.index = "events_kind_result_seq" if f.result is not None else "events_kind_seq"

    def seq_range(self, conn: sqlite3.Connection) -> tuple[int, int | None] | None:
        """``(lowest, highest)`` seq a matching row can have (``highest`` ``None``: no bound); ``None`` when the
        time window holds no decision at all. Without a time filter: ``(1, None)``."""
        f = self.filter
        if f.since is None and f.until is None:
            return (1, None)
        clauses: list[str] = []
        params: list[str] = []
        if f.since is not None:
            clauses.append("hour >= ?")
            params.append(to_text(f.since)[:13])
        if f.until is not None:
            clauses.append("hour <= ?")
            params.append(to_text(f.until)[:13])
        row = conn.execute(
            f"SELECT MIN(min_seq), MAX(max_seq) FROM decision_hours WHERE {' AND '.join(clauses)}", params
        ).fetchone()
        if row[0] is None:
            return None
        return (int(row[0]), int(row[1]) if f.until is not None else None)

    def sql(self, *, upper: int | None, lower: int | None) -> tuple[str, list[Any]]:
        """The page statement for seq in ``[lower, upper]`` and its parameters; the caller appends the LIMIT."""
        where = list(self._where)
        params = list(self._params)
        if upper is not None:
            where.append("seq <= ?")
            params.append(upper)
        if lower is not None and lower > 1:
            where.append("seq >= ?")
            params.append(lower)
        sql = (
            f"SELECT {_COLUMNS} FROM events INDEXED BY {self.index} WHERE {' AND '.join(where)}"
            " ORDER BY seq DESC LIMIT ?"
        )
        return sql, params

    def fetch(self, conn: sqlite3.Connection, *, before: int | None, limit: int,
              bounds: tuple[int, int | None] | None = None) -> AccessLogPage:
        """Up to ``limit`` rows with ``seq < before``, newest first (``bounds``: a :meth:`seq_range` reused)."""
        if bounds is None:
            bounds = self.seq_range(conn)
            if bounds is None:
                return AccessLogPage(rows=[], next_before=None)
        lower, highest = bounds
        upper = highest
        if before is not None:
            upper = before - 1 if upper is None else min(upper, before - 1)
        if upper is not None and upper < lower:
            return AccessLogPage(rows=[], next_before=None)
        sql, params = self.sql(upper=upper, lower=lower)
        rows = conn.execute(sql, [*params, limit + 1]).fetchall()
        page = [_row(r) for r in rows[:limit]]
        next_before = page[-1].seq if len(rows) > limit else None
        return AccessLogPage(rows=page, next_before=next_before)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _row(row: sqlite3.Row | tuple[Any, ...]) -> AccessLogRow:
    return AccessLogRow(seq=int(row[0]), occurred_at=from_text(row[1]), door=_text(row[2]), result=_text(row[3]),
                        reason=_text(row[5]), credential=_text(row[6]), resident_id=_text(row[4]),
                        face_assurance=_text(row[7]))


def access_log(conn: sqlite3.Connection, log_filter: AccessLogFilter, *, before: int | None = None,
               limit: int = 50) -> AccessLogPage:
    """One page of the access log (no locking: see :meth:`hub.journal.Journal.access_log`)."""
    check_before(before)
    check_limit(limit)
    return AccessLogQuery(log_filter).fetch(conn, before=before, limit=limit)


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a leading ``= + - @``, tab or CR gets a ``'`` in front."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def export_csv(
    conn: sqlite3.Connection,
    lock: AbstractContextManager[Any],
    log_filter: AccessLogFilter,
    *,
    chunk_rows: int = 5000,
    door_names: Mapping[str, str] | None = None,
    resident_names: Mapping[str, str] | None = None,
    tz: tzinfo | None = None,
    reason_texts: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """The filtered access log as CSV text chunks: the header, then up to ``chunk_rows`` rows per chunk.

    Each chunk is one keyset query under ``lock`` (held for that query only, never across a ``yield``, so each
    chunk may be pulled from a different executor thread), so a long download neither blocks the gate nor holds
    more than one chunk in memory. The export covers the rows that existed when its first chunk was read; times
    are ISO 8601 in ``tz`` with its UTC offset (UTC without one, to the millisecond). ``door_names`` /
    ``resident_names`` add ``door_name`` / ``resident_name`` columns, ``reason_texts`` (code to words) a
    ``reason_text`` column after ``reason``.
    """
    check_limit(chunk_rows, name="chunk_rows", maximum=100_000)
    query = AccessLogQuery(log_filter)
    header = list(CSV_COLUMNS)
    if door_names is not None:
        header.insert(header.index("door") + 1, "door_name")
    if reason_texts is not None:
        header.insert(header.index("reason") + 1, "reason_text")
    if resident_names is not None:
        header.append("resident_name")
    names = _Names(door_names, resident_names, reason_texts, tz)
    yield _csv_text([header])
    with lock:
        bounds = query.seq_range(conn)
        newest = conn.execute("SELECT MAX(seq) FROM events").fetchone()[0]
    if bounds is None or newest is None:
        return
    before: int | None = int(newest) + 1
    while before is not None:
        with lock:
            page = query.fetch(conn, before=before, limit=chunk_rows, bounds=bounds)
        if page.rows:
            yield _csv_text([_csv_line(r, names) for r in page.rows])
        before = page.next_before


@dataclass(frozen=True)
class _Names:
    doors: Mapping[str, str] | None
    residents: Mapping[str, str] | None
    reasons: Mapping[str, str] | None
    tz: tzinfo | None


def _moment(value: datetime, tz: tzinfo | None) -> str:
    if tz is None:
        return to_text(value)
    return value.astimezone(tz).isoformat(timespec="milliseconds")


def _csv_line(row: AccessLogRow, names: _Names) -> list[str]:
    line: list[object] = [row.seq, _moment(row.occurred_at, names.tz), row.door]
    if names.doors is not None:
        line.append(names.doors.get(row.door or ""))
    line += [row.result, row.reason]
    if names.reasons is not None:
        line.append(None if row.reason is None else names.reasons.get(row.reason, row.reason))
    line += [row.credential, row.resident_id]
    if names.residents is not None:
        line.append(names.residents.get(row.resident_id or ""))
    return [safe_cell(value) for value in line]


def _csv_text(lines: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(lines)
    return out.getvalue()
