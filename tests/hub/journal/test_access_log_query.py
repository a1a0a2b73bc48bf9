"""The managers' access log: exact filters, keyset paging, the V2 upgrade, index-only query plans, the CSV export
and the newest-first audit listing."""

from __future__ import annotations

import csv
import io
import itertools
import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from devkit.cli import main
from hub.db import open_database
from hub.exceptions import InvalidInputError
from hub.journal import (
    AccessLogFilter,
    AccessLogRow,
    EventKind,
    Journal,
    JournalEvent,
    NewEvent,
    open_journal_database,
    schema,
)
from hub.privacy.keys import KeyRing

# The community's audit keys, as the hub derives them from its key file.
AUDIT_KEYS = KeyRing.from_master_key(bytes(range(32))).audit

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
START = NOW - timedelta(days=5)
DOORS = ["door-1", "door-2", "door-3"]
RESIDENTS = ["r-1", "r-2", "r-3", "r-4"]
CSV_HEADER = ["seq", "occurred_at", "door", "result", "reason", "credential", "resident_id"]


def _decision(i: int, *, occurred_at: datetime | None = None) -> NewEvent:
    denied = i % 7 == 0
    resident = None if denied and i % 2 else RESIDENTS[i % len(RESIDENTS)]
    return NewEvent(
        kind=EventKind.DECISION, door=DOORS[i % len(DOORS)],
        occurred_at=occurred_at or START + timedelta(minutes=23 * i),
        payload={"result": "denied" if denied else "granted", "reason": "unknown_card" if denied else "granted",
                 "credential_kind": ["face", "card", "pin", "pass"][i % 4], "resident_id": resident,
                 "released": not denied},
    )


def _fill(journal: Journal) -> list[JournalEvent]:
    """300 decisions over about five days, events of other kinds in between, and a few recorded out of order."""
    events = [_decision(i) for i in range(300)]
    others = [NewEvent(kind=EventKind.DEVICE_STATUS, door="door-1", payload={"result": "offline"},
                       occurred_at=START + timedelta(hours=h)) for h in range(0, 100, 9)]
    others.append(NewEvent(kind=EventKind.DOOR_ALARM, door="door-2", payload={"result": "denied",
                                                                               "resident_id": "r-1"},
                           occurred_at=START + timedelta(hours=30)))
    stored = journal.append_many(events[:150]) + journal.append_many(others) + journal.append_many(events[150:])
    # recorded late: occurred on day one, backdated; and one stamped in the future (a controller's bad clock)
    stored += journal.append_many([_decision(1001, occurred_at=START + timedelta(hours=20)),
                                   _decision(1002, occurred_at=START + timedelta(hours=26)),
                                   _decision(1003, occurred_at=NOW + timedelta(days=3))])
    return stored


def _matches(event: JournalEvent, f: AccessLogFilter) -> bool:
    return (
        event.kind == EventKind.DECISION
        and (f.since is None or event.occurred_at >= f.since)
        and (f.until is None or event.occurred_at < f.until)
        and (f.door is None or event.door == f.door)
        and (f.resident_id is None or event.payload.get("resident_id") == f.resident_id)
        and (f.result is None or event.payload.get("result") == f.result)
    )


def _expected(stored: list[JournalEvent], f: AccessLogFilter) -> list[AccessLogRow]:
    return [
        AccessLogRow(seq=e.seq, occurred_at=e.occurred_at, door=e.door, result=e.payload["result"],
                     reason=e.payload["reason"], credential=e.payload["credential_kind"],
                     resident_id=e.payload["resident_id"])
        for e in sorted(stored, key=lambda e: -e.seq) if _matches(e, f)
    ]


def _all_pages(journal: Journal, f: AccessLogFilter, limit: int) -> list[AccessLogRow]:
    rows: list[AccessLogRow] = []
    before = None
    while True:
        page = journal.access_log(f, before=before, limit=limit)
        assert len(page.rows) <= limit
        rows.extend(page.rows)
        if page.next_before is None:
            return rows
        assert len(page.rows) == limit and page.next_before == page.rows[-1].seq
        before = page.next_before


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    """A journal on a real database file."""
    j = Journal(open_journal_database(tmp_path / "hub.db"), "hub-a", clock=lambda: NOW, audit_keys=AUDIT_KEYS)
    yield j
    j.close()


@pytest.fixture
def stored(journal: Journal) -> list[JournalEvent]:
    """The events in the journal."""
    return _fill(journal)


DAY2 = START + timedelta(days=1, hours=3, minutes=7)
TIMES: list[tuple[datetime | None, datetime | None]] = [
    (None, None), (DAY2, None), (None, DAY2), (DAY2, DAY2 + timedelta(days=1)),
]
FILTERS = [
    AccessLogFilter(since=since, until=until, door=door, resident_id=resident, result=result)
    for (since, until), door, resident, result in itertools.product(
        TIMES, [None, "door-2"], [None, "r-3"], [None, "granted", "denied"])
]


@pytest.mark.parametrize("log_filter", FILTERS)
def test_each_filter_combination_returns_exactly_its_rows_newest_first(
    journal: Journal, stored: list[JournalEvent], log_filter: AccessLogFilter
) -> None:
    expected = _expected(stored, log_filter)
    assert _all_pages(journal, log_filter, 7) == expected
    assert journal.access_log(log_filter, limit=500).rows == expected[:500]


def test_the_data_set_gives_every_filter_combination_rows(stored: list[JournalEvent]) -> None:
    empty = [f for f in FILTERS if not _expected(stored, f)]
    assert empty == [AccessLogFilter(since=DAY2, until=DAY2 + timedelta(days=1), door="door-2", resident_id="r-3",
                                     result="denied")]


def test_late_and_future_stamped_events_are_found_by_their_time(journal: Journal,
                                                                stored: list[JournalEvent]) -> None:
    late = [e for e in stored if e.occurred_at in (START + timedelta(hours=20), START + timedelta(hours=26))]
    rows = journal.access_log(AccessLogFilter(since=START + timedelta(hours=19), until=START + timedelta(hours=27)),
                              limit=500).rows
    assert {e.seq for e in late} <= {r.seq for r in rows}
    assert rows[0].seq == max(e.seq for e in late)  # newest first is by sequence, the order they were recorded
    future = journal.access_log(AccessLogFilter(since=NOW + timedelta(days=1)), limit=10).rows
    assert [r.occurred_at for r in future] == [NOW + timedelta(days=3)]


def test_a_row_carries_time_door_result_reason_credential_and_resident(journal: Journal) -> None:
    event = journal.append(EventKind.DECISION, door="gate-7", occurred_at=datetime(2026, 5, 1, 8, 30, 1, 250_000,
                                                                                    tzinfo=timezone(timedelta(hours=2))),
                           payload={"result": "granted", "reason": "granted", "credential_kind": "face",
                                    "resident_id": "r-9", "released": True})
    page = journal.access_log()
    assert page.rows == [AccessLogRow(seq=event.seq, occurred_at=datetime(2026, 5, 1, 6, 30, 1, 250_000, tzinfo=UTC),
                                      door="gate-7", result="granted", reason="granted", credential="face",
                                      resident_id="r-9")]
    assert page.next_before is None


@pytest.mark.parametrize("limit", [1, 7, 50, 500])
def test_paging_by_cursor_yields_every_row_once(journal: Journal, stored: list[JournalEvent], limit: int) -> None:
    rows = _all_pages(journal, AccessLogFilter(), limit)
    seqs = [r.seq for r in rows]
    assert len(seqs) == len(set(seqs)) == sum(e.kind == EventKind.DECISION for e in stored)
    assert seqs == sorted(seqs, reverse=True)
    assert seqs == [e.seq for e in sorted(stored, key=lambda e: -e.seq) if e.kind == EventKind.DECISION]


def test_the_last_full_page_says_there_is_no_more(journal: Journal) -> None:
    journal.append_many([_decision(i) for i in range(10)])
    first = journal.access_log(limit=5)
    second = journal.access_log(before=first.next_before, limit=5)
    assert first.next_before is not None and len(second.rows) == 5 and second.next_before is None
    assert journal.access_log(before=1).rows == []


def test_paging_is_stable_while_events_are_appended(journal: Journal, stored: list[JournalEvent]) -> None:
    first = journal.access_log(limit=20)
    journal.append_many([_decision(i) for i in range(30)])
    second = journal.access_log(before=first.next_before, limit=20)
    assert second.rows[0].seq < first.rows[-1].seq
    assert [r.seq for r in first.rows + second.rows] == [r.seq for r in _expected(stored, AccessLogFilter())[:40]]


# -- the V2 migration --------------------------------------------------------------------------------------------


def _v1_database(path: Path) -> sqlite3.Connection:
    """A community database as the V1 journal software left it."""
    conn = open_database(path, components=[])
    conn.execute("BEGIN IMMEDIATE")
    schema._apply_v1(conn)
    conn.execute("INSERT INTO schema_migrations (component, version) VALUES (?, 1)", (schema.COMPONENT,))
    conn.execute("COMMIT")
    return conn


def test_v2_upgrades_a_v1_database_that_holds_events(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    conn = _v1_database(path)
    assert "result" not in {r[1] for r in conn.execute("PRAGMA table_info(events)")}
    old = Journal(conn, "hub-a", clock=lambda: NOW)  # the V1 software appending
    before_upgrade = _fill(old)
    broken_seq = conn.execute(
        "INSERT INTO events (uuid, hub_id, kind, door, occurred_at, recorded_at, payload)"
        " VALUES ('broken', 'hub-a', 'decision', 'door-1', ?, ?, 'not json')",
        ("2026-05-28T10:00:00.000Z", "2026-05-28T10:00:00.000Z"),
    ).lastrowid
    old.close()

    journal = Journal(open_journal_database(path), "hub-a", clock=lambda: NOW, audit_keys=AUDIT_KEYS)
    try:
        versions = journal.connection.execute(
            "SELECT MAX(version) FROM schema_migrations WHERE component = ?", (schema.COMPONENT,)).fetchone()[0]
        assert versions == 5  # V3: the keyed audit chain, V4: the outbox's priority lane, V5: its failed rows' index
        hours = journal.connection.execute("SELECT COUNT(*) FROM decision_hours").fetchone()[0]
        assert hours > 100  # back-filled from the existing decisions
        after_upgrade = journal.append_many([_decision(i, occurred_at=DAY2 + timedelta(minutes=i)) for i in range(5)])
        stored = before_upgrade + after_upgrade
        for f in FILTERS:  # a malformed payload does not stop the upgrade: its row has no result, no resident
            assert [r for r in _all_pages(journal, f, 11) if r.seq != broken_seq] == _expected(stored, f), f
        everything = journal.access_log(limit=500).rows
        broken = [r for r in everything if r.result is None]
        assert [(r.seq, r.door, r.reason, r.resident_id) for r in broken] == [(broken_seq, "door-1", None, None)]
        assert len(everything) == sum(e.kind == EventKind.DECISION for e in stored) + 1
        assert journal.events(limit=1)[0].seq == 1  # the old readers still work (the uplink's SELECT * too)
    finally:
        journal.close()


# -- query plans: every filter combination reads an index, never the whole table -------------------------------


def _plans(journal: Journal, f: AccessLogFilter, before: int | None) -> list[tuple[str, list[str]]]:
    statements: list[str] = []
    journal.connection.set_trace_callback(statements.append)
    try:
        journal.access_log(f, before=before, limit=50)
    finally:
        journal.connection.set_trace_callback(None)
    assert statements
    return [(sql, [str(row[3]) for row in journal.connection.execute(f"EXPLAIN QUERY PLAN {sql}")])
            for sql in statements]


def _driving_index(f: AccessLogFilter) -> str:
    if f.resident_id is not None:
        return "events_kind_resident_seq"
    if f.door is not None:
        return "events_kind_door_result_seq" if f.result is not None else "events_kind_door_seq"
    return "events_kind_result_seq" if f.result is not None else "events_kind_seq"


@pytest.mark.parametrize("analyzed", [False, True], ids=["no-stats", "analyzed"])
@pytest.mark.parametrize("log_filter", FILTERS)
def test_every_filter_combination_is_an_index_range_scan(
    journal: Journal, stored: list[JournalEvent], log_filter: AccessLogFilter, analyzed: bool
) -> None:
    if analyzed:
        journal.connection.execute("ANALYZE")
    for before in (None, stored[len(stored) // 2].seq):
        plans = _plans(journal, log_filter, before)
        assert before is not None or any("FROM events" in sql for sql, _ in plans)
        for sql, details in plans:
            text = " | ".join(details)
            assert "SCAN" not in text and "TEMP B-TREE" not in text, (sql, text)
            if "FROM events" in sql:
                assert details == [d for d in details if d.startswith("SEARCH events USING")], text
                if not analyzed:
                    assert f"USING INDEX {_driving_index(log_filter)} (kind=?" in text, text
            else:
                assert "FROM decision_hours" in sql and "SEARCH decision_hours USING PRIMARY KEY" in text, text


# -- CSV export ----------------------------------------------------------------------------------------------------


def _csv_rows(chunks: Iterator[str]) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(chunks), newline="")))


def test_csv_export_equals_the_pages_and_is_chunked(journal: Journal, stored: list[JournalEvent]) -> None:
    f = AccessLogFilter(door="door-1", since=START + timedelta(days=1))
    chunks = list(journal.export_access_log_csv(f, chunk_rows=9))
    assert chunks[0] == ",".join(CSV_HEADER) + "\r\n"
    rows = _all_pages(journal, f, 50)
    assert len(chunks) == 1 + -(-len(rows) // 9)
    parsed = _csv_rows(iter(chunks))
    assert parsed[0] == CSV_HEADER
    assert parsed[1:] == [
        [str(r.seq), r.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", r.door or "",
         r.result or "", r.reason or "", r.credential or "", r.resident_id or ""]
        for r in rows
    ]
    assert all(datetime.fromisoformat(line[1]).tzinfo == UTC for line in parsed[1:])


def test_csv_export_escapes_and_neutralises_formulas(journal: Journal) -> None:
    nasty = [
        ("door,with,commas", "say \"hi\"\nthen leave", "=HYPERLINK(\"http://x\")"),
        ("+door", "-2+3", "@SUM(A1)"),
        ("\tdoor", "\rcr", "r-plain"),
    ]
    for door, reason, resident in nasty:
        journal.append(EventKind.DECISION, door=door, occurred_at=NOW,
                       payload={"result": "denied", "reason": reason, "credential_kind": "card",
                                "resident_id": resident})
    parsed = _csv_rows(journal.export_access_log_csv())
    assert parsed[0] == CSV_HEADER
    body = [(line[2], line[4], line[6]) for line in parsed[1:]]
    assert body == [
        ("'\tdoor", "'\rcr", "r-plain"),
        ("'+door", "'-2+3", "'@SUM(A1)"),
        ("door,with,commas", "say \"hi\"\nthen leave", "'=HYPERLINK(\"http://x\")"),
    ]


def test_csv_export_can_add_names(journal: Journal, stored: list[JournalEvent]) -> None:
    f = AccessLogFilter(resident_id="r-2", result="granted")
    parsed = _csv_rows(journal.export_access_log_csv(f, door_names={"door-1": "Main gate", "door-2": "=Garage"},
                                                      resident_names={"r-2": "Ana Li"}))
    assert parsed[0] == ["seq", "occurred_at", "door", "door_name", "result", "reason", "credential",
                         "resident_id", "resident_name"]
    expected = _expected(stored, f)
    assert [int(line[0]) for line in parsed[1:]] == [r.seq for r in expected]
    names = {"door-1": "Main gate", "door-2": "'=Garage", "door-3": ""}
    assert all(line[3] == names[line[2]] and line[8] == "Ana Li" for line in parsed[1:])


def test_csv_export_of_nothing_is_just_the_header(journal: Journal) -> None:
    assert list(journal.export_access_log_csv()) == [",".join(CSV_HEADER) + "\r\n"]
    journal.append_many([_decision(i) for i in range(3)])
    assert _csv_rows(journal.export_access_log_csv(AccessLogFilter(since=NOW + timedelta(days=30)))) == [CSV_HEADER]


def test_csv_export_holds_the_lock_per_chunk_only(journal: Journal, stored: list[JournalEvent]) -> None:
    chunks = journal.export_access_log_csv(chunk_rows=10)
    header = next(chunks)
    first = next(chunks)
    newest_before = int(next(csv.reader(io.StringIO(first)))[0])
    done = threading.Event()

    def append_elsewhere() -> None:  # the gate appending while the download is paused between chunks
        journal.append_many([_decision(i) for i in range(3)])
        done.set()

    writer = threading.Thread(target=append_elsewhere)
    writer.start()
    writer.join(timeout=10)
    assert done.is_set(), "the export kept the journal locked between chunks"
    rest: list[str] = []

    def pull() -> None:  # another executor thread pulls the remaining chunks
        rest.extend(chunks)

    reader = threading.Thread(target=pull)
    reader.start()
    reader.join(timeout=10)
    parsed = _csv_rows(iter([header, first, *rest]))
    seqs = [int(line[0]) for line in parsed[1:]]
    assert seqs[0] == newest_before  # rows appended after the export started are not in it
    assert seqs == [r.seq for r in _expected(stored, AccessLogFilter())]


# -- validation ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "message"), [
    ({"since": datetime(2026, 1, 1)}, "since must be timezone-aware"),
    ({"until": datetime(2026, 1, 1)}, "until must be timezone-aware"),
    ({"since": NOW, "until": NOW - timedelta(seconds=1)}, "is before since"),
    ({"result": "maybe"}, "result must be 'granted' or 'denied'"),
    ({"door": ""}, "door must be a non-empty string"),
    ({"resident_id": "  "}, "resident_id must be a non-empty string"),
])
def test_a_bad_filter_is_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        AccessLogFilter(**fields)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"limit": 0}, "limit must be an integer from 1 to 500"),
    ({"limit": 501}, "limit must be an integer from 1 to 500"),
    ({"limit": True}, "limit must be an integer"),
    ({"before": 0}, "before must be a positive integer"),
    ({"before": -5}, "before must be a positive integer"),
])
def test_a_bad_page_request_is_refused(journal: Journal, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        journal.access_log(AccessLogFilter(), **kwargs)


def test_a_bad_export_or_audit_request_is_refused(journal: Journal) -> None:
    with pytest.raises(InvalidInputError, match="chunk_rows"):
        journal.export_access_log_csv(chunk_rows=0)  # refused when called, not at the first chunk
    with pytest.raises(InvalidInputError, match="limit"):
        journal.audit.entries_desc(limit=0)
    with pytest.raises(InvalidInputError, match="before"):
        journal.audit.entries_desc(before=0)
    assert AccessLogFilter(since=NOW, until=NOW) == AccessLogFilter(since=NOW, until=NOW)  # empty, but allowed
    assert journal.access_log(AccessLogFilter(since=NOW, until=NOW)).rows == []


# -- the audit log, newest first ---------------------------------------------------------------------------------


def test_audit_entries_desc_pages_newest_first(journal: Journal) -> None:
    assert journal.audit.entries_desc() == []
    for i in range(7):
        journal.record_manager_action("alice", "door.rename", {"n": i})
    pages = []
    before = None
    while True:
        page = journal.audit.entries_desc(before=before, limit=3)
        if not page:
            break
        pages.append([e.seq for e in page])
        before = page[-1].seq
    assert pages == [[7, 6, 5], [4, 3, 2], [1]]
    newest = journal.audit.entries_desc(limit=1)[0]
    assert newest.details == {"n": 6} and newest == journal.audit.entries(after_seq=6)[0]
    assert journal.audit.verify().ok


# -- the benchmark ----------------------------------------------------------------------------------------------


def test_bench_accesslog_prints_json_last(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "accesslog", "--events", "3000", "--repeat", "2"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["events"] == 3000
    assert set(figures) >= {"page_ms_p50", "page_ms_max", "export_rows_per_s", "upgrade_s"}
    assert figures["export_rows"] > 0


def test_forgetting_a_resident_keeps_the_events_without_the_id(journal: Journal, tmp_path: Path) -> None:
    """Erasure: the resident's decisions stay in the journal, anonymous, and their snapshots go; manager actions
    never held the id (their audit pseudonym only); others are untouched."""
    mine = journal.append(EventKind.DECISION, door="gate-1",
                          payload={"result": "granted", "reason": "granted", "credential_kind": "card",
                                   "resident_id": "r-gone"})
    other = journal.append(EventKind.DECISION, door="gate-1",
                           payload={"result": "granted", "reason": "granted", "credential_kind": "card",
                                    "resident_id": "r-stays"})
    journal.add_snapshot(event_uuid=mine.uuid, data=b"\xff\xd8 the door camera's still")
    still = tmp_path / "still.jpg"
    still.write_bytes(b"\xff\xd8 a still kept as a file")
    journal.add_snapshot(event_uuid=mine.uuid, path=str(still))
    journal.add_snapshot(event_uuid=other.uuid, data=b"\xff\xd8 another still")
    journal.record_manager_action("manager", "resident.add", {"resident_id": "r-gone"})
    assert "r-gone" not in str([e.payload for e in journal.events(kind=EventKind.MANAGER_ACTION)])
    assert journal.forget_resident("r-gone") == 1
    assert journal.access_log(AccessLogFilter(resident_id="r-gone")).rows == []
    rows = {row.seq: row for row in journal.access_log().rows}
    assert rows[mine.seq].resident_id is None and rows[mine.seq].result == "granted"
    assert rows[other.seq].resident_id == "r-stays"
    assert "r-gone" not in str([e.payload for e in journal.events()])
    assert [r[0] for r in journal.connection.execute("SELECT event_uuid FROM snapshots")] == [other.uuid]
    assert not still.exists()
    assert journal.audit.verify().ok  # the audit log itself is append-only and unchanged
    with pytest.raises(InvalidInputError):
        journal.forget_resident("")
