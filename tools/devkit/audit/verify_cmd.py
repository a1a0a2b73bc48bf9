"""``community-hub audit verify --db FILE``: check the audit log's hash chain; exit 1 if a row was edited or
deleted."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``community-hub audit verify``."""
    parser.add_argument("--db", type=Path, required=True,
                        help="the community database (Home Assistant: .storage/smart_community/<entry id>.db)")


def run(args: argparse.Namespace) -> int:
    """Verify the chain and print the result (a sentence, then one JSON line)."""
    from hub.journal.audit import AuditLog
    from hub.journal.store import open_journal_database

    if not args.db.is_file():
        print(f"error: {args.db} does not exist")
        return 2
    conn = open_journal_database(args.db)
    try:
        result = AuditLog(conn, hub_id="verify").verify()
    finally:
        conn.close()
    if result.ok:
        print(f"audit log intact: {result.checked} entries checked")
    else:
        print(f"audit log BROKEN at entry {result.first_bad_seq}: {result.problem}")
    print(json.dumps({"ok": result.ok, "checked": result.checked, "first_bad_seq": result.first_bad_seq,
                      "problem": result.problem}))
    return 0 if result.ok else 1
