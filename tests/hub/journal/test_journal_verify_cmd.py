"""``community-hub audit verify`` on a real database: intact, then after an edit behind the hub's back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from devkit.cli import main
from hub.journal import Journal, open_journal_database


def test_verify_command_detects_an_edited_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "community.db"
    conn = open_journal_database(db)
    journal = Journal(conn, "hub-1")
    for i in range(3):
        journal.record_manager_action("manager", "resident.add", {"resident_id": f"r-{i}"})
    conn.close()
    assert main(["audit", "verify", "--db", str(db)]) == 0
    assert "intact: 3 entries" in capsys.readouterr().out

    raw = sqlite3.connect(db)
    table = next(name for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")
                 if "audit" in name)
    columns = [row[1] for row in raw.execute(f"PRAGMA table_info({table})")]
    text_column = next(c for c in columns if c in ("details", "details_json", "action"))
    # Someone with the file drops the append-only triggers and edits a row.
    for (trigger,) in raw.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        raw.execute(f"DROP TRIGGER {trigger}")
    raw.execute(f"UPDATE {table} SET {text_column} = ? WHERE rowid = 2", ('{"resident_id": "r-x"}',))
    raw.commit()
    raw.close()
    assert main(["audit", "verify", "--db", str(db)]) == 1
    assert "BROKEN" in capsys.readouterr().out
    assert main(["audit", "verify", "--db", str(tmp_path / "missing.db")]) == 2
