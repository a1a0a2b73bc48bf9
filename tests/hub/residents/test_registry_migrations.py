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
        "doors",
        "access_rules",
        "holidays",
        "access_attempts",
        "passback_state",
    } <= tables
    versions = dict(reg.conn.execute("SELECT component, MAX(version) FROM schema_migrations GROUP BY component"))
    assert versions["residents"] == 2
    assert versions["access"] == 1
    reg.conn.close()


def test_reopen_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    reg = ResidentRegistry.open(tmp_path / "hub.db", tmp_path / "k.key")
    reg.residents.add_resident("manager", "r1", "Li Wei", building="3", unit="301")
    reg.conn.close()
    again = ResidentRegistry.open(tmp_path / "hub.db", tmp_path / "k.key")
    assert again.residents.get_resident("r1").full_name == "Li Wei"
    rows = again.conn.execute("SELECT COUNT(*) FROM schema_migrations WHERE component = 'residents'").fetchone()
    assert rows[0] == 2
    again.conn.close()


def test_a_database_of_the_first_release_gains_the_import_tables(tmp_path: Path) -> None:
    """A hub upgraded from residents schema 1 keeps its residents and gains the tables bulk imports use."""
    reg = ResidentRegistry.open(tmp_path / "hub.db", tmp_path / "k.key")
    reg.residents.add_resident("manager", "r1", "Li Wei")
    reg.conn.executescript(
        "DROP TABLE resident_import_members; DROP TABLE resident_imports;"
        " DELETE FROM schema_migrations WHERE component = 'residents' AND version = 2;"
    )
    reg.conn.close()
    again = ResidentRegistry.open(tmp_path / "hub.db", tmp_path / "k.key")
    assert again.residents.get_resident("r1").full_name == "Li Wei"
    assert again.unfinished_imports() == []
    again.conn.close()
