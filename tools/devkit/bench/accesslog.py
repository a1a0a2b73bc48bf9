"""``community-hub bench accesslog``: access-log page and CSV export speed over a journal of N decisions.

Builds a temporary community database the way an upgraded hub has it: the V1 journal schema, N decision events
spread over 90 days (40 doors, 2,000 residents, about 10% denied) loaded in one transaction, then the V2
migration (the access-log indexes) applied and timed. Then times pages through :meth:`Journal.access_log`,
unfiltered, deep behind the cursor and under each filter, and one door's full CSV export. Prints a table and,
as its last line, one JSON object.
"""

from __future__ import annotations

import argparse
import sqlite3
from collections.abc import Iterator
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``community-hub bench accesslog``."""
    parser.add_argument("--events", type=int, default=1_000_000, help="decision events (default 1000000)")
    parser.add_argument("--page", type=int, default=50, help="rows per page (default 50)")
    parser.add_argument("--doors", type=int, default=40, help="doors (default 40)")
    parser.add_argument("--residents", type=int, default=2000, help="residents (default 2000)")
    parser.add_argument("--days", type=int, default=90, help="days the events are spread over (default 90)")
    parser.add_argument("--repeat", type=int, default=15, help="timed runs of each page query (default 15)")
    parser.add_argument("--seed", type=int, default=0)


_DENIALS = [("face", "unknown_face", False), ("face", "not_live", False), ("card", "unknown_card", False),
            ("card", "outside_hours", True), ("pin", "wrong_pin", False), ("face", "no_access_to_door", True),
            ("pass", "pass_used_up", False)]


def build(conn: sqlite3.Connection, *, events: int, doors: int, residents: int, days: int, seed: int) -> None:
    """Load ``events`` decisions straight into ``events`` (one transaction, ``executemany``)."""
    import json
    import random
    import uuid
    from datetime import timedelta

    from hub.journal.models import to_text, utc_now

    rng = random.Random(seed)
    end = utc_now().replace(microsecond=0)
    start = end - timedelta(days=days)
    step = timedelta(days=days) / max(events, 1)
    kinds = ["face"] * 6 + ["card"] * 3 + ["pin"]

    def rows() -> Iterator[tuple[str, ...]]:
        for i in range(events):
            occurred = start + step * i + timedelta(milliseconds=rng.randrange(2000))  # a little out of order
            door = f"door-{rng.randrange(doors):02d}"
            resident: str | None = f"r-{rng.randrange(residents):04d}"
            if rng.random() < 0.10:
                kind, reason, known = _DENIALS[rng.randrange(len(_DENIALS))]
                result = "denied"
                if not known:
                    resident = None
            else:
                kind = kinds[rng.randrange(len(kinds))]
                reason, result = "granted", "granted"
            payload = json.dumps({"credential_kind": kind, "reason": reason, "released": result == "granted",
                                  "resident_id": resident, "result": result}, separators=(",", ":"), sort_keys=True)
            text = to_text(occurred)
            yield (str(uuid.UUID(int=i + 1)), "hub-bench", "decision", door, text, text, payload)

    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO events (uuid, hub_id, kind, door, occurred_at, recorded_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows(),
    )
    conn.execute("COMMIT")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def measure(*, events: int, page: int, doors: int = 40, residents: int = 2000, days: int = 90, repeat: int = 15,
            seed: int = 0) -> dict[str, Any]:
    """Run the benchmark in a temporary folder; returns the figures."""
    import tempfile
    import time
    from datetime import timedelta
    from pathlib import Path

    from hub.db import migrate, open_database
    from hub.journal import schema
    from hub.journal.query import AccessLogFilter
    from hub.journal.store import Journal

    with tempfile.TemporaryDirectory(prefix="bench-accesslog-") as folder:
        path = Path(folder) / "hub.db"
        conn = open_database(path, components=[])
        conn.execute("PRAGMA cache_size=-262144")  # 256 MiB, as much as the load wants; the hub keeps defaults
        conn.execute("BEGIN IMMEDIATE")
        schema._apply_v1(conn)
        conn.execute("INSERT INTO schema_migrations (component, version) VALUES (?, 1)", (schema.COMPONENT,))
        conn.execute("COMMIT")
        started = time.perf_counter()
        build(conn, events=events, doors=doors, residents=residents, days=days, seed=seed)
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        migrate(conn, schema.COMPONENT)  # V2 on a full journal: what an upgrading hub pays once
        upgrade_s = time.perf_counter() - started
        conn.close()

        conn = open_database(path, components=[schema.COMPONENT])  # a fresh connection: default cache
        journal = Journal(conn, "hub-bench")
        newest = journal.access_log(limit=1).rows[0].occurred_at
        day = newest - timedelta(days=days / 2)
        day_end = day + timedelta(days=1)
        oldest, oldest_end = newest - timedelta(days=days), newest - timedelta(days=days - 1)
        cursor: int | None = None
        for _ in range(999):  # follow the cursor as the panel does
            next_before = journal.access_log(before=cursor, limit=page).next_before
            if next_before is None:
                break
            cursor = next_before
        deep = cursor
        cases: list[tuple[str, AccessLogFilter, int | None]] = [
            ("first page, no filter", AccessLogFilter(), None),
            ("page 1000 by cursor", AccessLogFilter(), deep),
            ("door", AccessLogFilter(door="door-07"), None),
            ("resident", AccessLogFilter(resident_id="r-0042"), None),
            ("result denied", AccessLogFilter(result="denied"), None),
            ("one-day window", AccessLogFilter(since=day, until=day_end), None),
            ("door + denied + one day", AccessLogFilter(door="door-07", result="denied", since=day, until=day_end),
             None),
            ("resident + door", AccessLogFilter(resident_id="r-0042", door="door-07"), None),
            ("oldest day", AccessLogFilter(since=oldest, until=oldest_end), None),
        ]
        table: list[tuple[str, int, float, float]] = []
        all_ms: list[float] = []
        for name, log_filter, before in cases:
            journal.access_log(log_filter, before=before, limit=page)  # warm-up
            times = []
            rows = 0
            for _ in range(repeat):
                started = time.perf_counter()
                rows = len(journal.access_log(log_filter, before=before, limit=page).rows)
                times.append((time.perf_counter() - started) * 1000)
            all_ms.extend(times)
            table.append((name, rows, _percentile(times, 0.5), max(times)))

        started = time.perf_counter()
        exported = 0
        size = 0
        for chunk in journal.export_access_log_csv(AccessLogFilter(door="door-07")):
            exported += chunk.count("\r\n")
            size += len(chunk)
        export_s = time.perf_counter() - started
        exported -= 1  # the header
        db_mb = path.stat().st_size / 1e6
        journal.close()

    print(f"access log over {events} decisions ({doors} doors, {residents} residents, {days} days), "
          f"{page} rows per page")
    print(f"  load {load_s:.1f} s, V2 upgrade {upgrade_s:.1f} s, database {db_mb:.0f} MB")
    print(f"  {'query':<26} {'rows':>5} {'p50 ms':>8} {'max ms':>8}")
    for name, rows, p50, worst in table:
        print(f"  {name:<26} {rows:>5} {p50:>8.2f} {worst:>8.2f}")
    rate = exported / export_s if export_s > 0 else 0.0
    print(f"  CSV export of door-07: {exported} rows, {size / 1e6:.1f} MB in {export_s:.2f} s ({rate:,.0f} rows/s)")
    return {
        "events": events,
        "page": page,
        "load_s": round(load_s, 2),
        "upgrade_s": round(upgrade_s, 2),
        "db_mb": round(db_mb, 1),
        "page_ms_p50": round(_percentile(all_ms, 0.5), 3),
        "page_ms_max": round(max(all_ms), 3),
        "pages_ms": {name: round(p50, 3) for name, _, p50, _ in table},
        "export_rows": exported,
        "export_rows_per_s": round(rate),
    }


def run(args: argparse.Namespace) -> int:
    """Run once and print the figures (a table, then one JSON line)."""
    import json

    if args.events < 1 or args.page < 1 or args.page > 500 or args.doors < 8 or args.residents < 43:
        print("error: need --events >= 1, --page 1..500, --doors >= 8 and --residents >= 43")
        return 2
    figures = measure(events=args.events, page=args.page, doors=args.doors, residents=args.residents,
                      days=args.days, repeat=max(args.repeat, 1), seed=args.seed)
    print(json.dumps(figures))
    return 0
