"""Migrations apply to a fresh file and are idempotent when the file is opened again."""

from __future__ import annotations

from pathlib import Path

from hub.residents.registry_hub import ResidentRegistry


def test_fresh_file_gets_all_tables(tmp_path: Path) -> None:
    reg = ResidentRegistry.open(tmp_path / "fresh.db", tmp_path / "k.key")
    tables = {r[0] for r in reg.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {
        "residents",
        "consents",
        "face_templates",
        "enrolment_photos",
        "cards",
        "pins",
        "visitor_passes",
        "pass_doors",
        "resident_tombstones",
        "resident_imports",
        "resident_import_members",
        "consent_templates",
        "resident_counts",
        "doors",
        "access_rules",
        "holidays",
        "access_attempts",
        "passback_state",
        "keypad_codes",
        "pin_throttle",
    } <= tables
    versions = dict(reg.conn.execute("SELECT component, MAX(version) FROM schema_migrations GROUP BY component"))
    assert versions["residents"] == 5  # 5: consent texts
    assert versions["access"] == 3  # 3: face assurance per door
    reg.conn.close()


def test_reopen_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    reg = ResidentRegistry.open(tmp_path / "hub.db", tmp_path / "k.key")
    reg.residents.add_resident("manager", "r1", "Li Wei", building="3", unit="301")
    reg.conn.close()
    again = ResidentRegistry.open(tmp_path / "hub.db", tmp_path / "k.key")
    assert again.residents.get_resident("r1").full_name == "Li Wei"
    rows = again.conn.execute("SELECT COUNT(*) FROM schema_migrations WHERE component = 'residents'").fetchone()
    assert rows[0] == 5
    again.conn.close()


def test_pins_of_schema_3_keep_working_behind_a_new_keypad_code(tmp_path: Path) -> None:
    """A hub upgraded from community-wide PINs: each resident with a PIN gets a keypad code, and their PIN (of
    any length the old rules allowed) works after it; the old community-wide PIN index is gone."""
    from hub.residents import secrets
    from hub.residents.credentials import find_pin_account

    reg = ResidentRegistry.open(tmp_path / "hub.db", tmp_path / "k.key")
    reg.residents.add_resident("manager", "r1", "Li Wei")
    reg.residents.add_resident("manager", "r2", "Wu Min")
    salt = secrets.new_salt()
    reg.conn.executescript(
        "DROP TABLE keypad_codes; DROP TABLE pins;"
        " CREATE TABLE pins (resident_id TEXT PRIMARY KEY REFERENCES residents (resident_id) ON DELETE CASCADE,"
        " pin_index BLOB NOT NULL UNIQUE, salt BLOB NOT NULL, pin_hash BLOB NOT NULL, set_at TEXT NOT NULL);"
" DROP TABLE consent_templates; ALTER TABLE consents DROP COLUMN template_id;"
        " ALTER TABLE consents DROP COLUMN template_version;"
        " DELETE FROM schema_migrations WHERE component = 'residents' AND version >= 4;"
    )
    reg.conn.execute(
        "INSERT INTO pins VALUES ('r1', ?, ?, ?, '2026-01-01T00:00:00.000000Z')",
        (bytes(32), salt, secrets.slow_hash("4802", salt)),  # the old index column: any bytes
    )
    reg.conn.commit()
    reg.conn.close()
    again = ResidentRegistry.open(tmp_path / "hub.db", tmp_path / "k.key")
    code = again.credentials.keypad_code("r1")
    assert code is not None and len(code) == 6
    assert again.credentials.keypad_code("r2") is None  # no PIN, no code
    account = find_pin_account(again.conn, code)
    assert account is not None and account.resident_id == "r1" and account.check("4802")
    columns = {r[1] for r in again.conn.execute("PRAGMA table_info(pins)")}
    assert "pin_index" not in columns
    again.conn.close()


def test_a_database_of_the_first_release_gains_the_import_tables(tmp_path: Path) -> None:
    """A hub upgraded from residents schema 1 keeps its residents and gains the tables bulk imports use."""
    reg = ResidentRegistry.open(tmp_path / "hub.db", tmp_path / "k.key")
    reg.residents.add_resident("manager", "r1", "Li Wei")
    reg.conn.executescript(
        "DROP TABLE resident_import_members; DROP TABLE resident_imports; DROP TABLE resident_counts;"
        " DROP TRIGGER resident_counts_add; DROP TRIGGER resident_counts_remove;"
        " DROP TRIGGER resident_counts_first_template; DROP TRIGGER resident_counts_last_template;"
        " DROP TABLE keypad_codes;"
" DROP TABLE consent_templates; ALTER TABLE consents DROP COLUMN template_id;"
        " ALTER TABLE consents DROP COLUMN template_version;"
        " DELETE FROM schema_migrations WHERE component = 'residents' AND version >= 2;"
    )
    reg.conn.close()
    again = ResidentRegistry.open(tmp_path / "hub.db", tmp_path / "k.key")
    assert again.residents.get_resident("r1").full_name == "Li Wei"
    assert again.unfinished_imports() == []
    assert again.residents.count_residents() == 1  # the kept count starts from what the file held
    again.conn.close()


def test_consents_of_schema_4_stay_as_given_and_gain_no_consent_text(tmp_path: Path) -> None:
    """A hub upgraded from schema 4: its consents keep their scope (on no consent text) and consent texts can be
    saved and used from then on."""
    from datetime import UTC, datetime

    reg = ResidentRegistry.open(tmp_path / "hub.db", tmp_path / "k.key")
    reg.residents.add_resident("manager", "r1", "Li Wei")
    reg.residents.add_resident("manager", "r2", "Wu Min")
    reg.consents.record_consent("manager", "r1", scope="Gates, typed by hand",
                                given_at=datetime(2026, 1, 1, tzinfo=UTC))
    reg.conn.executescript(
        "DROP TABLE consent_templates; ALTER TABLE consents DROP COLUMN template_id;"
        " ALTER TABLE consents DROP COLUMN template_version;"
        " DELETE FROM schema_migrations WHERE component = 'residents' AND version >= 5;"
    )
    reg.conn.close()
    again = ResidentRegistry.open(tmp_path / "hub.db", tmp_path / "k.key")
    old = again.consents.active_consent("r1")
    assert old is not None and old.scope == "Gates, typed by hand" and old.template_id is None
    text = again.consent_texts.save_template("manager", None, title="Gates", body="Face recognition at the gates.")
    again.consents.record_consent_on_template("manager", "r2", template_id=text.template_id,
                                              given_at=datetime(2026, 2, 1, tzinfo=UTC))
    new = again.consents.active_consent("r2")
    assert new is not None and (new.template_id, new.template_version) == (text.template_id, 1)
    again.conn.close()


def test_the_kept_counts_follow_every_change_and_match_a_recount(tmp_path: Path) -> None:
    """Residents and enrolled people are counted by triggers as rows come and go (adds, a second template, a
    template deletion, an erasure with its cascade), never recounted: each step checked against COUNT(*)."""
    from datetime import UTC, datetime

    import numpy as np

    reg = ResidentRegistry.open(tmp_path / "hub.db", tmp_path / "k.key")
    now = datetime(2026, 6, 1, tzinfo=UTC)
    rng = np.random.default_rng(3)

    def template() -> np.ndarray:
        v = rng.normal(size=128)
        return (v / np.linalg.norm(v)).astype(np.float32)

    def check() -> None:
        residents = reg.conn.execute("SELECT COUNT(*) FROM residents").fetchone()[0]
        enrolled = reg.conn.execute("SELECT COUNT(DISTINCT resident_id) FROM face_templates").fetchone()[0]
        assert (reg.residents.count_residents(), reg.enrolled_face_count()) == (residents, enrolled)

    for rid in ("r1", "r2", "r3"):
        reg.residents.add_resident("manager", rid, f"Person {rid}")
        reg.consents.record_consent("manager", rid, scope="gate", given_at=now)
    check()
    reg.faces.enrol_templates("manager", "r1", [template()])
    reg.faces.enrol_templates("manager", "r1", [template()])  # a second template: still one person
    reg.faces.enrol_templates("manager", "r2", [template(), template()])
    check()
    assert reg.enrolled_face_count() == 2
    reg.faces.delete_templates("manager", "r2")
    check()
    reg.remove_resident("manager", "r1")  # erasure: templates and resident go
    check()
    assert (reg.residents.count_residents(), reg.enrolled_face_count()) == (2, 0)
    reg.conn.close()


def test_database_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    """The community database holds personal data: the file, its -wal and -shm are 0600 whatever the umask, and a
    file an earlier release left group-readable is tightened on open."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        reg = ResidentRegistry.open(tmp_path / "hub.db", tmp_path / "k.key")
        reg.residents.add_resident("manager", "r1", "Li Wei")
        for suffix in ("", "-wal", "-shm"):
            assert stat.S_IMODE(os.stat(f"{tmp_path / 'hub.db'}{suffix}").st_mode) == 0o600, suffix
        reg.conn.close()
        os.chmod(tmp_path / "hub.db", 0o644)
        again = ResidentRegistry.open(tmp_path / "hub.db", tmp_path / "k.key")
        assert stat.S_IMODE(os.stat(tmp_path / "hub.db").st_mode) == 0o600
        again.conn.close()
    finally:
        os.umask(old)
