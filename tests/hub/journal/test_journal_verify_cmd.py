"""``community-hub audit verify`` on a real database and key file: intact, then after an edit behind the hub's back,
then after a truncation only the county's copy of the head reveals."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from devkit.cli import main
from hub.journal import EventKind, Journal, open_journal_database
from hub.privacy.keys import KeyRing


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    folder = tmp_path / "keys"
    folder.mkdir()
    return folder / "entry.key"


def _drop_triggers(raw: sqlite3.Connection) -> None:
    for (trigger,) in raw.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        raw.execute(f"DROP TRIGGER {trigger}")


def test_verify_command_detects_an_edited_row(tmp_path: Path, key_file: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "community.db"
    conn = open_journal_database(db)
    journal = Journal(conn, "hub-1", audit_keys=KeyRing.load_or_create(key_file).audit)
    for i in range(3):
        journal.record_manager_action("manager", "resident.add", {"resident_id": f"r-{i}"})
    conn.close()
    assert main(["audit", "verify", "--db", str(db), "--key", str(key_file)]) == 0
    assert "intact: 3 entries" in capsys.readouterr().out

    raw = sqlite3.connect(db)
    # Someone with the file drops the append-only triggers and edits a row.
    _drop_triggers(raw)
    raw.execute("UPDATE audit_log SET details = ? WHERE rowid = 2", ('{"resident_id": "r-x"}',))
    raw.commit()
    raw.close()
    assert main(["audit", "verify", "--db", str(db), "--key", str(key_file)]) == 1
    assert "BROKEN" in capsys.readouterr().out
    assert main(["audit", "verify", "--db", str(tmp_path / "missing.db"), "--key", str(key_file)]) == 2
    assert main(["audit", "verify", "--db", str(db), "--key", str(tmp_path / "missing.key")]) == 2


def test_verify_command_with_the_countys_head_reports_a_truncation(
    tmp_path: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "community.db"
    conn = open_journal_database(db)
    journal = Journal(conn, "hub-1", audit_keys=KeyRing.load_or_create(key_file).audit)
    for i in range(4):
        journal.record_manager_action("manager", "door.mode", {"door_id": f"d-{i}"})
    head = journal.append(EventKind.DEVICE_STATUS, payload={"online": True}).payload["audit_head"]
    upstream = f"{head['seq']}:{head['hash']}"
    conn.close()
    args = ["audit", "verify", "--db", str(db), "--key", str(key_file), "--upstream-head", upstream]
    assert main(args) == 0
    assert "holds the county's head" in capsys.readouterr().out

    raw = sqlite3.connect(db)
    _drop_triggers(raw)
    kept = raw.execute("SELECT seq, hash FROM audit_log WHERE seq = 2").fetchone()
    raw.execute("DELETE FROM audit_log WHERE seq > 2")
    raw.execute("UPDATE audit_head SET last_seq = ?, last_hash = ?", kept)
    raw.commit()
    raw.close()
    # Without the county's head the truncated log looks intact; with it, it is not.
    assert main(["audit", "verify", "--db", str(db), "--key", str(key_file)]) == 0
    capsys.readouterr()
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "BROKEN at entry 4: truncated" in out
    assert json.loads(out.strip().splitlines()[-1])["upstream_matched"] is False
    assert main([*args[:-1], "4:not-a-hash"]) == 2
