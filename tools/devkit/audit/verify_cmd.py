"""``community-hub audit verify --db FILE --key FILE [--upstream-head SEQ:HASH]``: check the audit log's keyed hash
chain; exit 1 if a row was edited, inserted or deleted, or if the log lacks the head the county holds."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``community-hub audit verify``."""
    parser.add_argument("--db", type=Path, required=True,
                        help="the community database (Home Assistant: .storage/smart_community/<entry id>.db)")
    parser.add_argument("--key", type=Path, required=True,
                        help="the community's key file, which keys the chain (Home Assistant:"
                             " .storage/smart_community/keys/<entry id>.key)")
    parser.add_argument("--upstream-head", metavar="SEQ:HASH", default=None,
                        help="the audit head the county received last (the audit_head field of the hub's health"
                             " events): the log must still hold that entry with that hash")


def run(args: argparse.Namespace) -> int:
    """Verify the chain and print the result (a sentence, then one JSON line)."""
    from hub.exceptions import InvalidInputError
    from hub.journal.audit import AuditHead, AuditLog
    from hub.journal.store import open_journal_database
    from hub.privacy.errors import KeyFileError
    from hub.privacy.keys import KeyRing

    for path in (args.db, args.key):
        if not path.is_file():
            print(f"error: {path} does not exist")
            return 2
    try:
        upstream = AuditHead.parse(args.upstream_head) if args.upstream_head is not None else None
        keys = KeyRing.load_or_create(args.key)
    except (InvalidInputError, KeyFileError) as err:
        print(f"error: {err}")
        return 2
    conn = open_journal_database(args.db)
    try:
        result = AuditLog(conn, hub_id="verify", keys=keys.audit).verify(upstream)
    finally:
        conn.close()
    if result.ok:
        against = " and it holds the county's head" if result.upstream_matched else ""
        print(f"audit log intact: {result.checked} entries checked{against}")
    else:
        print(f"audit log BROKEN at entry {result.first_bad_seq}: {result.problem}")
    print(json.dumps({"ok": result.ok, "checked": result.checked, "first_bad_seq": result.first_bad_seq,
                      "problem": result.problem, "upstream_matched": result.upstream_matched}))
    return 0 if result.ok else 1
