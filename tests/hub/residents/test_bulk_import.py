"""Bulk import of residents from a CSV file and checked photos: every problem reported, all or nothing.

Real SQLite files under tmp_path and real Community objects. The face templates are random unit float32 vectors:
they stand in for the face encoder's output, which the Home Assistant tests exercise with real photos.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from hub.community import Community, PendingAudit
from hub.events import ManagerActionEvent
from hub.exceptions import StorageError
from hub.residents import bulk_import
from hub.residents.bulk_import import IMPORT_ACTION, ImportReport, PhotoCheck, import_residents
from hub.residents.credentials import CredentialStore, find_card
from hub.residents.store import transaction

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SCOPE = "Face verification at the gates; template kept until withdrawal or move-out."

Snapshot = Callable[[sqlite3.Connection], dict[str, list[tuple[object, ...]]]]


def _template(seed: int) -> np.ndarray:
    # Stands in for the face encoder's output (a 128-d float32 unit vector); the HA tests use real photos.
    vector = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def _accepted(name: str, seed: int) -> PhotoCheck:
    return PhotoCheck(filename=name, accepted=True, reason=None, template=_template(seed))


def _refused(name: str, reason: str) -> PhotoCheck:
    return PhotoCheck(filename=name, accepted=False, reason=reason, template=None)


PHOTOS = {
    "anna1.jpg": _accepted("anna1.jpg", 1),
    "anna2.jpg": _accepted("anna2.jpg", 2),
    "ben.jpg": _accepted("ben.jpg", 3),
    "kid.png": _accepted("kid.png", 4),
    "blurry.jpg": _refused("blurry.jpg", "face too small"),
}

GOOD_CSV = (
    "resident_id,full_name,household,building,unit,valid_from,valid_until,is_minor,guardian,consent_scope,"
    "card_number,photos\n"
    f"r-1,Anna Li,Li,B2,1201,2026-01-01,,no,,{SCOPE},1234-5678,anna1.jpg;anna2.jpg\n"
    f"r-2,Ben Wu,Wu,B2,1202,,2027-06-30T18:00,,,{SCOPE},ABCD9876,uploads/ben.jpg\n"
    f"r-3,Xiao Li,Li,B2,1201,,,yes,Anna Li,{SCOPE},,kid.png\n"
    "r-4,Carl Zhou,,,,,,false,,,,\n"
)


class AuditSpy:
    """An audit listener that notes, for each call, what a second connection (committed data only) sees."""

    def __init__(self, community: Community, db_path: Path) -> None:
        self.calls: list[tuple[str, str, dict[str, object]]] = []
        self.committed_residents_seen: list[int] = []
        self.in_transaction_seen: list[bool] = []
        self._community = community
        self._db_path = db_path

    def __call__(self, actor: str, action: str, details: Mapping[str, object]) -> None:
        self.calls.append((actor, action, dict(details)))
        self.in_transaction_seen.append(self._community.registry.conn.in_transaction)
        other = sqlite3.connect(self._db_path)
        try:
            self.committed_residents_seen.append(other.execute("SELECT COUNT(*) FROM residents").fetchone()[0])
        finally:
            other.close()

    @property
    def actions(self) -> list[str]:
        return [action for _, action, _ in self.calls]


@pytest.fixture
def community(tmp_path: Path) -> Iterator[Community]:
    c = Community(tmp_path / "community.db", tmp_path / "keys" / "hub.key", timezone=ZONE)
    yield c
    c.close()


@pytest.fixture
def spy(community: Community, tmp_path: Path) -> AuditSpy:
    listener = AuditSpy(community, tmp_path / "community.db")
    community.events.subscribe(ManagerActionEvent, lambda e: listener(e.actor, e.action, e.details))
    return listener


def _import(community: Community, csv_text: str, photos: Mapping[str, PhotoCheck] = PHOTOS,
            **kwargs: Any) -> ImportReport:
    return community.call(import_residents, community, "mgr", csv_text, photos, now=NOW, **kwargs)


def _rows(report: ImportReport) -> dict[int, list[str]]:
    return {r.row: r.errors for r in report.rows}


def test_good_file_imports_everyone_with_consents_cards_and_templates(community: Community, spy: AuditSpy) -> None:
    report = _import(community, GOOD_CSV)

    assert report.imported and report.valid and report.errors == []
    assert [(r.row, r.resident_id, r.ok, r.photos) for r in report.rows] == [
        (2, "r-1", True, 2), (3, "r-2", True, 1), (4, "r-3", True, 1), (5, "r-4", True, 0),
    ]
    reg = community.registry
    assert [r.resident_id for r in reg.residents.list_residents()] == ["r-1", "r-2", "r-3", "r-4"]
    anna = reg.residents.get_resident("r-1")
    assert (anna.full_name, anna.household, anna.building, anna.unit) == ("Anna Li", "Li", "B2", "1201")
    assert anna.valid_from == datetime(2026, 1, 1, tzinfo=ZONE)  # a date is the start of that local day
    assert reg.residents.get_resident("r-2").valid_until == datetime(2027, 6, 30, 18, 0, tzinfo=ZONE)
    kid = reg.residents.get_resident("r-3")
    assert kid.is_minor and kid.guardian == "Anna Li"
    kid_consent = reg.consents.active_consent("r-3")
    assert kid_consent is not None and kid_consent.given_by == "Anna Li" and kid_consent.given_at == NOW
    anna_consent = reg.consents.active_consent("r-1")
    assert anna_consent is not None and anna_consent.scope == SCOPE and anna_consent.given_by == "resident"
    assert reg.consents.active_consent("r-4") is None
    assert [c.hint for c in reg.credentials.list_cards("r-1")] == ["5678"]
    assert find_card(reg.conn, reg.keys, "abcd 9876").card is not None
    assert reg.faces.template_count("r-1") == 2 and reg.faces.template_count("r-3") == 1
    gallery = reg.faces.load_gallery()
    assert sorted(gallery.resident_ids) == ["r-1", "r-1", "r-2", "r-3"]
    row = list(gallery.resident_ids).index("r-2")
    assert np.allclose(gallery.templates[row], PHOTOS["ben.jpg"].template)

    # The listeners heard of every write, in order, and only once the whole import had committed.
    assert spy.actions == [
        "resident.add", "consent.record", "card.add", "face.enrol",
        "resident.add", "consent.record", "card.add", "face.enrol",
        "resident.add", "consent.record", "face.enrol",
        "resident.add",
        IMPORT_ACTION,
    ]
    assert spy.committed_residents_seen == [4] * len(spy.calls)
    assert not any(spy.in_transaction_seen)
    assert all(actor == "mgr" for actor, _, _ in spy.calls)
    summary = spy.calls[-1][2]
    assert summary == {"residents": 4, "consents": 3, "cards": 2, "templates": 4, "at": NOW.isoformat()}

    # Later single-record calls are audited immediately, as before.
    community.call(community.registry.residents.add_resident, "mgr", "r-5", "Dan")
    assert spy.actions[-1] == "resident.add" and spy.committed_residents_seen[-1] == 5


def test_community_method_holds_lock_and_imports(community: Community, spy: AuditSpy) -> None:
    report = community.import_residents("mgr", GOOD_CSV, PHOTOS)
    assert report.imported
    assert community.summary() == {"residents": 4, "enrolled_faces": 3, "doors": 0}
    assert spy.actions[-1] == IMPORT_ACTION
    assert json.loads(json.dumps(report.to_dict()))["rows"][0] == {
        "row": 2, "resident_id": "r-1", "ok": True, "errors": [], "photos": 2,
    }


def test_the_gates_are_not_held_up_while_the_audit_log_catches_up(community: Community) -> None:
    """The audit calls of a committed import are emitted one writer job each: a gate's decision submitted while
    the first is written runs before the second, not after all of them."""
    heard: list[str] = []
    gate_ran_after: list[int] = []
    gate: list[threading.Thread] = []

    def listener(actor: str, action: str, details: Mapping[str, object]) -> None:
        heard.append(action)
        if len(heard) == 1:
            # A gate's decision arrives while the first audit call is being written (on the writer thread).
            gate.append(threading.Thread(target=lambda: community.call(lambda: gate_ran_after.append(len(heard)))))
            gate[0].start()
            time.sleep(0.2)  # let the gate's job reach the writer's queue before this call finishes

    community.events.subscribe(ManagerActionEvent, lambda e: listener(e.actor, e.action, e.details))
    assert community.import_residents("mgr", GOOD_CSV, PHOTOS).imported
    gate[0].join(timeout=5)
    assert len(heard) > 2
    assert gate_ran_after == [1]


def test_one_bad_row_among_good_ones_imports_nothing_and_reports_every_row(
    community: Community, spy: AuditSpy, snapshot: Snapshot
) -> None:
    before = snapshot(community.registry.conn)
    csv_text = (
        "resident_id,full_name,valid_from,valid_until,is_minor,guardian,consent_scope,card_number,photos\n"
        f"r-1,Anna Li,,,,,{SCOPE},,anna1.jpg\n"
        ",,2026-05-01,2026-04-01,maybe,,,12,anna2.jpg|missing.jpg\n"
        "r-3,Ben Wu,,,,,,,\n"
    )
    report = _import(community, csv_text)

    assert not report.imported and not report.valid
    assert report.errors == ["1 of 3 rows have problems, so nothing was imported: correct them and try again"]
    rows = _rows(report)
    assert rows[2] == [] and rows[4] == []
    assert rows[3] == [
        "resident_id is empty",
        "full_name is empty",
        "valid_until must be after valid_from",
        "is_minor must be yes or no, not 'maybe'",
        "card_number '12' is invalid: use 4-32 digits or letters A-F (spaces and dashes are ignored)",
        "photos listed but no consent_scope: face verification needs consent",
        "photo missing.jpg was not uploaded",
    ]
    assert [r.ok for r in report.rows] == [True, False, True]
    assert report.rows[0].photos == 1
    assert snapshot(community.registry.conn) == before
    assert spy.calls == []


def test_duplicate_resident_id_in_the_file_and_in_the_database(community: Community, spy: AuditSpy) -> None:
    community.call(community.registry.residents.add_resident, "mgr", "r-7", "Already Here")
    spy.calls.clear()
    csv_text = (
        "resident_id,full_name\n"
        "r-7,Someone\n"
        "r-8,First\n"
        "r-9,Other\n"
        "r-8,Second\n"
    )
    report = _import(community, csv_text)

    assert not report.imported
    assert _rows(report) == {
        2: ["resident r-7 already exists"],
        3: ["resident_id r-8 appears again on row 5"],
        4: [],
        5: ["resident_id r-8 already appears on row 3"],
    }
    assert [r.resident_id for r in community.registry.residents.list_residents()] == ["r-7"]
    assert spy.calls == []


def test_erased_resident_id_cannot_be_reused(community: Community) -> None:
    community.call(community.registry.residents.add_resident, "mgr", "r-gone", "Left Us")
    community.call(community.registry.remove_resident, "mgr", "r-gone")
    report = _import(community, "resident_id,full_name\nr-gone,New Person\n")
    assert _rows(report) == {2: ["resident_id r-gone belonged to a resident who was erased: use a new id"]}


def test_refused_missing_and_reused_photos(community: Community, spy: AuditSpy) -> None:
    photos = {**PHOTOS, "dup/ben.jpg": _accepted("dup/ben.jpg", 9)}
    csv_text = (
        "resident_id,full_name,consent_scope,photos\n"
        f"r-1,Anna,{SCOPE},anna1.jpg;anna2.jpg;anna2.jpg\n"
        f"r-2,Bob,{SCOPE},blurry.jpg ; nothere.jpg\n"
        f"r-3,Cid,{SCOPE},anna1.jpg\n"
        f"r-4,Dee,{SCOPE},ben.jpg\n"
        f"r-5,Eve,{SCOPE},Kid.png\n"
    )
    report = _import(community, csv_text, photos)

    assert not report.imported
    assert _rows(report) == {
        2: ["photo anna2.jpg is listed twice", "photo anna1.jpg is also listed on row 4"],
        3: ["photo blurry.jpg refused: face too small", "photo nothere.jpg was not uploaded"],
        4: ["photo anna1.jpg is also listed on row 2"],
        5: ["photo ben.jpg matches 2 uploaded files: give the photos distinct names"],
        6: ["photo Kid.png was not uploaded"],  # names are case-sensitive
    }
    assert community.registry.residents.list_residents() == []
    assert spy.calls == []


def test_too_many_photos_and_a_broken_template(community: Community) -> None:
    photos = {f"p{i}.jpg": _accepted(f"p{i}.jpg", i) for i in range(21)}
    photos["bad.jpg"] = PhotoCheck("bad.jpg", accepted=True, reason=None, template=np.zeros(5, dtype=np.float32))
    names = ";".join(photos)
    report = _import(community, f"resident_id,full_name,consent_scope,photos\nr-1,Anna,{SCOPE},\"{names}\"\n", photos)
    assert _rows(report)[2] == [
        "22 photos listed: at most 20 per resident",
        "photo bad.jpg has no usable face template: check the photo again",
    ]


def test_minor_without_guardian(community: Community, spy: AuditSpy) -> None:
    csv_text = (
        "resident_id,full_name,is_minor,guardian,consent_scope,photos\n"
        f"kid-1,Xiao Hua,yes,,{SCOPE},kid.png\n"
        "kid-2,Xiao Ming,TRUE,,,\n"
        "kid-3,Xiao Mei,1,Zhao Lei,,\n"
    )
    report = _import(community, csv_text)

    assert not report.imported
    assert _rows(report) == {
        2: ["is_minor is yes but guardian is empty: a minor must have a guardian",
            "a minor's face consent needs a guardian"],
        3: ["is_minor is yes but guardian is empty: a minor must have a guardian"],
        4: [],
    }
    assert community.registry.residents.list_residents() == []
    assert spy.calls == []


def test_card_numbers_in_the_file_and_on_the_hub(community: Community) -> None:
    community.call(community.registry.residents.add_resident, "mgr", "r-0", "Card Holder")
    community.call(community.registry.credentials.add_card, "mgr", "r-0", "11112222")
    csv_text = (
        "resident_id,full_name,card_number\n"
        "r-1,Anna,1111 2222\n"
        "r-2,Ben,aaaa-3333\n"
        "r-3,Cid,AAAA3333\n"
        "r-4,Dee,not-a-card\n"
    )
    report = _import(community, csv_text)
    assert _rows(report) == {
        2: ["card ending 2222 already belongs to someone on the hub"],
        3: ["card ending 3333 is also on row 4"],
        4: ["card ending 3333 is also on row 3"],
        5: ["card_number 'not-a-card' is invalid: use 4-32 digits or letters A-F (spaces and dashes are ignored)"],
    }


def test_unknown_duplicate_and_missing_columns_fail_the_header(community: Community, spy: AuditSpy) -> None:
    report = _import(community, "Resident_ID,email,Household,household\nr-1,a@b.c,x,y\n")
    assert not report.imported
    assert report.errors == ["the header (row 1) has problems, so nothing was imported: correct it and try again"]
    assert len(report.rows) == 1
    header = report.rows[0]
    assert (header.row, header.resident_id, header.ok) == (1, None, False)
    assert header.errors == [
        "unknown column 'email': the columns are resident_id, full_name, household, building, unit, valid_from,"
        " valid_until, is_minor, guardian, consent_scope, card_number, photos",
        "column household appears more than once in the header",
        "required column full_name is missing from the header",
    ]
    assert community.registry.residents.list_residents() == [] and spy.calls == []


def test_bom_semicolons_crlf_and_empty_lines(community: Community) -> None:
    csv_text = (
        "\ufeff Resident_ID ; FULL_NAME ;photos;consent_scope\r\n"
        "\r\n"
        f"r-1;Anna Li;\"anna1.jpg;anna2.jpg\";\"{SCOPE}\"\r\n"  # the scope has a ';' in it: quoted
        " ; ; ; \r\n"
        f"r-2;\"Wu; Ben\";ben.jpg|;\"{SCOPE}\"\r\n"
    )
    report = _import(community, csv_text)
    assert report.imported, report.to_dict()
    assert [(r.row, r.resident_id, r.photos) for r in report.rows] == [(3, "r-1", 2), (5, "r-2", 1)]
    assert community.registry.residents.get_resident("r-2").full_name == "Wu; Ben"
    assert community.registry.faces.template_count() == 3


def test_dates_are_in_the_community_timezone(community: Community) -> None:
    csv_text = (
        "resident_id,full_name,valid_from,valid_until\n"
        "r-1,Anna,2026-01-31,2026-02-01T08:30\n"
        "r-2,Ben,2026-01-31T00:00:00+00:00,2026-01-31T09:00Z\n"
        "r-3,Cid,31/01/2026,2026-01-01\n"
        "r-4,Dee,2026-02-01,2026-02-01\n"
    )
    report = _import(community, csv_text)
    assert _rows(report) == {
        2: [],
        3: [],
        4: ["valid_from '31/01/2026' is not a date: use 2026-01-31 or 2026-01-31T08:00"],
        5: ["valid_until must be after valid_from"],
    }
    ok = _import(community, "\n".join(csv_text.splitlines()[:3]) + "\n")
    assert ok.imported
    anna = community.registry.residents.get_resident("r-1")
    assert anna.valid_from == datetime(2026, 1, 30, 16, 0, tzinfo=UTC)  # midnight in Shanghai (UTC+8)
    assert anna.valid_until == datetime(2026, 2, 1, 0, 30, tzinfo=UTC)
    assert community.registry.residents.get_resident("r-2").valid_until == datetime(2026, 1, 31, 9, 0, tzinfo=UTC)


def test_file_level_problems(community: Community, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _import(community, "").errors == ["the file is empty"]
    assert _import(community, "\ufeff\n  \n").errors == ["the file is empty"]
    assert _import(community, "resident_id,full_name\n\n").errors == ["the file has a header but no residents"]
    unnamed = _import(community, "resident_id,full_name,\nr-1,Anna,\nr-2,Ben,oops\n")
    assert _rows(unnamed) == {2: [], 3: ["values in column 3, which has no name in the header"]}

    monkeypatch.setattr(bulk_import, "MAX_ROWS", 3)
    too_many = _import(community, "resident_id,full_name\n" + "".join(f"r-{i},P{i}\n" for i in range(4)))
    assert too_many.errors == ["the file has more than 3 residents: split it into smaller files"]
    assert not too_many.imported and too_many.rows == []
    assert community.registry.residents.list_residents() == []


def test_dry_run_writes_nothing_but_reports(community: Community, spy: AuditSpy, snapshot: Snapshot) -> None:
    before = snapshot(community.registry.conn)
    report = community.import_residents("mgr", GOOD_CSV, PHOTOS, dry_run=True)
    assert report.dry_run and report.valid and not report.imported and report.errors == []
    assert [(r.resident_id, r.ok, r.photos) for r in report.rows] == [
        ("r-1", True, 2), ("r-2", True, 1), ("r-3", True, 1), ("r-4", True, 0),
    ]
    assert report.to_dict()["valid"] is True
    bad = community.import_residents("mgr", GOOD_CSV.replace("kid.png", "blurry.jpg"), PHOTOS, dry_run=True)
    assert not bad.valid and _rows(bad)[4] == ["photo blurry.jpg refused: face too small"]
    assert snapshot(community.registry.conn) == before
    assert spy.calls == []


def test_failure_during_the_write_leaves_the_database_exactly_as_before(
    community: Community, spy: AuditSpy, snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    community.call(community.registry.residents.add_resident, "mgr", "r-0", "Already Here")
    spy.calls.clear()
    before = snapshot(community.registry.conn)
    real_add_card = CredentialStore.add_card
    calls = {"n": 0}

    def failing_add_card(self: CredentialStore, actor: str, resident_id: str, card_number: str) -> Any:
        # Simulates a disk error on the third card, after two rows (and parts of the third) were written.
        calls["n"] += 1
        if calls["n"] == 3:
            raise StorageError("database error: disk I/O error")
        return real_add_card(self, actor, resident_id, card_number)

    monkeypatch.setattr(CredentialStore, "add_card", failing_add_card)
    csv_text = (
        "resident_id,full_name,consent_scope,card_number,photos\n"
        f"r-1,Anna,{SCOPE},10000001,anna1.jpg\n"
        f"r-2,Ben,{SCOPE},10000002,ben.jpg\n"
        f"r-3,Cid,{SCOPE},10000003,kid.png\n"
        "r-4,Dee,,10000004,\n"
    )
    report = community.import_residents("mgr", csv_text, PHOTOS)

    assert not report.imported
    assert report.errors == [
        "saving row 4 (resident r-3) failed: database error: disk I/O error;"
        " nothing was imported and the hub is unchanged"
    ]
    assert [r.ok for r in report.rows] == [True, True, False, True]
    assert report.rows[2].errors == ["saving row 4 (resident r-3) failed: database error: disk I/O error"]
    assert snapshot(community.registry.conn) == before
    assert not community.registry.conn.in_transaction
    assert spy.calls == []  # the held audit calls of the rolled-back writes were dropped

    # The community works normally afterwards, and audits immediately again.
    monkeypatch.setattr(CredentialStore, "add_card", real_add_card)
    assert community.import_residents("mgr", csv_text, PHOTOS).imported
    assert spy.actions.count("card.add") == 4 and spy.actions[-1] == IMPORT_ACTION


def test_failed_commit_is_reported_and_rolled_back(
    community: Community, spy: AuditSpy, snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(community.registry.conn)
    real_write = bulk_import._write
    written: list[str] = []

    def write_then_break_commit(registry: Any, actor: str, plan: Any, now: datetime) -> None:
        real_write(registry, actor, plan, now)
        written.append(plan.resident_id)
        if len(written) == 2:
            # A deferred foreign key that is violated only fails at COMMIT: simulates a commit that cannot land.
            registry.conn.execute("PRAGMA defer_foreign_keys = ON")
            registry.conn.execute(
                "INSERT INTO consents (consent_id, resident_id, scope, given_by, given_at, recorded_by)"
                " VALUES ('c-x', 'nobody', 's', 'resident', '2026-01-01T00:00:00.000000Z', 'mgr')"
            )

    monkeypatch.setattr(bulk_import, "_write", write_then_break_commit)
    report = _import(community, "resident_id,full_name\nr-1,Anna\nr-2,Ben\n")
    assert written == ["r-1", "r-2"]
    assert not report.imported and all(r.ok for r in report.rows)
    assert len(report.errors) == 1 and report.errors[0].startswith("saving the import failed: could not commit")
    assert not community.registry.conn.in_transaction
    assert snapshot(community.registry.conn) == before
    assert spy.calls == []


def test_unexpected_duplicate_during_the_write_rolls_back(
    community: Community, spy: AuditSpy, snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(community.registry.conn)
    real_finish = bulk_import._Checker.finish

    def check_then_race(self: Any) -> Any:
        # A manager adds r-2 between the checks and the writes (they are separate writer jobs): the single-record
        # paths refuse the duplicate, and the import is undone.
        result = real_finish(self)
        community.registry.conn.execute(
            "INSERT INTO residents (resident_id, full_name, status, is_minor, created_at, updated_at)"
            " VALUES ('r-2', 'Racer', 'active', 0, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')"
        )
        return result

    monkeypatch.setattr(bulk_import._Checker, "finish", check_then_race)
    report = _import(community, "resident_id,full_name\nr-1,Anna\nr-2,Ben\nr-3,Cid\n")
    assert not report.imported
    assert report.errors == [
        "saving row 3 (resident r-2) failed: resident_id 'r-2' already exists;"
        " nothing was imported and the hub is unchanged"
    ]
    community.registry.conn.execute("DELETE FROM residents WHERE resident_id = 'r-2'")
    assert snapshot(community.registry.conn) == before
    assert spy.calls == []


def test_deferred_audit_blocks_do_not_nest_and_always_reset(community: Community, spy: AuditSpy) -> None:
    with pytest.raises(RuntimeError, match="inside a writer job"), community.deferred_audit():
        pass

    def held() -> PendingAudit:
        with community.deferred_audit() as pending:
            community.record_action("mgr", "x.held", {})
            with pytest.raises(RuntimeError, match="do not nest"), community.deferred_audit():
                pass
        return pending

    pending = community.call(held)
    assert spy.calls == [] and [c[1] for c in pending.calls] == ["x.held"]
    assert pending.emit() == 1 and spy.actions == ["x.held"]

    def fails() -> None:
        with community.deferred_audit():
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        community.call(fails)
    community.record_action("mgr", "x.now", {})
    assert spy.actions == ["x.held", "x.now"]


def _count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM t").fetchone()[0])


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    c = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    c.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
    yield c
    c.close()


def _inner_step_that_fails(conn: sqlite3.Connection) -> None:
    with transaction(conn):
        conn.execute("INSERT INTO t VALUES (2)")
        conn.execute("INSERT INTO t VALUES (1)")  # fails: the inner step undoes row 2 only


def test_nested_transaction_inner_failure_rolls_back_to_its_savepoint(conn: sqlite3.Connection) -> None:
    with transaction(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(StorageError, match="UNIQUE"):
            _inner_step_that_fails(conn)
        assert conn.in_transaction and _count(conn) == 1
        with transaction(conn):
            conn.execute("INSERT INTO t VALUES (3)")
    assert not conn.in_transaction
    assert [r[0] for r in conn.execute("SELECT x FROM t ORDER BY x")] == [1, 3]


def _outer_that_fails_after_inner_succeeded(conn: sqlite3.Connection) -> None:
    with transaction(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        with transaction(conn):
            conn.execute("INSERT INTO t VALUES (2)")  # released into the outer transaction, not committed
        assert _count(conn) == 2
        raise KeyError("outer fails")


def test_nested_transaction_outer_rollback_undoes_everything(conn: sqlite3.Connection) -> None:
    with pytest.raises(KeyError):
        _outer_that_fails_after_inner_succeeded(conn)
    assert not conn.in_transaction and _count(conn) == 0


def _inner_step_with_bad_input(conn: sqlite3.Connection) -> None:
    with transaction(conn):
        conn.execute("INSERT INTO t VALUES (5)")
        raise ValueError("bad input")


def test_nested_transaction_non_database_error_and_commit_paths(conn: sqlite3.Connection) -> None:
    with transaction(conn):
        with pytest.raises(ValueError, match="bad input"):
            _inner_step_with_bad_input(conn)
        assert _count(conn) == 0
        conn.execute("INSERT INTO t VALUES (6)")
    with transaction(conn):
        conn.execute("INSERT INTO t VALUES (7)")
    assert [r[0] for r in conn.execute("SELECT x FROM t ORDER BY x")] == [6, 7]
    assert not conn.in_transaction


def _people(n: int, start: int = 0) -> str:
    return "resident_id,full_name,card_number\n" + "".join(
        f"r-{i},Person {i},{20_000_000 + i}\n" for i in range(start, start + n))


def _rows_in(db: Path, table: str) -> int:
    with contextlib.closing(sqlite3.connect(db)) as other:
        return int(other.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def test_a_failure_in_a_later_chunk_takes_the_earlier_chunks_out_again(
    community: Community, spy: AuditSpy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of 3: the first two commit (their residents are in force), the third fails; what the first two
    wrote is taken out, the ids stay free, and the audit says so without naming anyone."""
    db = tmp_path / "community.db"
    real_add_card = CredentialStore.add_card

    def failing_add_card(self: CredentialStore, actor: str, resident_id: str, card_number: str) -> Any:
        if resident_id == "r-7":
            raise StorageError("database error: disk I/O error")
        return real_add_card(self, actor, resident_id, card_number)

    monkeypatch.setattr(CredentialStore, "add_card", failing_add_card)
    report = import_residents(community, "mgr", _people(10), {}, now=NOW, chunk=3)
    assert not report.imported
    assert report.errors == ["saving row 9 (resident r-7) failed: database error: disk I/O error;"
                             " nothing was imported and the hub is unchanged"]
    assert max(spy.committed_residents_seen) == 6  # two chunks had committed before the third failed
    assert _rows_in(db, "residents") == 0 and _rows_in(db, "cards") == 0
    assert _rows_in(db, "resident_imports") == 0 and _rows_in(db, "resident_import_members") == 0
    removals = [d for _, action, d in spy.calls if action == "resident.remove_import"]
    assert sum(int(str(d["residents"])) for d in removals) == 6
    assert all(set(d) == {"import_id", "residents", "at"} for d in removals)
    assert _rows_in(db, "resident_tombstones") == 0  # never finished: the corrected file may use the same ids
    monkeypatch.setattr(CredentialStore, "add_card", real_add_card)
    assert import_residents(community, "mgr", _people(10), {}, now=NOW, chunk=3).imported
    assert _rows_in(db, "residents") == 10 and _rows_in(db, "resident_imports") == 0


def test_a_gate_decision_waits_for_one_chunk_not_the_whole_import(
    community: Community, tmp_path: Path
) -> None:
    """A card read queued while a 1,000-row import runs is decided after the chunk under way, before the rest.

    Deterministic, no timing: an audit subscriber holds the writer after the first chunk's first audit call
    until the decision is queued; the writer runs jobs in the order they were queued.
    """
    db = tmp_path / "community.db"
    community.ensure_door("gate-1", "North gate")
    community.call(community.registry.residents.add_resident, "mgr", "r-card", "Card Holder")
    community.call(community.registry.credentials.add_card, "mgr", "r-card", "99999999")
    seen, queued = threading.Event(), threading.Event()

    def hold_once(event: ManagerActionEvent) -> None:
        if event.action == "resident.add" and not seen.is_set():
            seen.set()
            assert queued.wait(10)

    community.events.subscribe(ManagerActionEvent, hold_once)
    importing = threading.Thread(
        target=lambda: community.import_residents("mgr", _people(1_000), {}), name="import")
    importing.start()
    assert seen.wait(10)
    decision = community.submit(community.access.present_card, "gate-1", "99999999", NOW)
    queued.set()
    assert decision.result(10).door_id == "gate-1"  # decided (no rule grants it: the outcome is not the point)
    written_when_decided = _rows_in(db, "residents") - 1
    importing.join(30)
    assert written_when_decided == bulk_import.IMPORT_CHUNK  # one chunk, of ten
    assert _rows_in(db, "residents") == 1_001


_KILLED_IMPORT = r"""
import sys
from datetime import UTC
from pathlib import Path
from hub.community import Community
folder = Path(sys.argv[1])
community = Community(folder / "community.db", folder / "keys" / "hub.key", timezone=UTC)
rows = "resident_id,full_name,card_number\n" + "".join(f"r-{i},Person {i},{30_000_000 + i}\n" for i in range(5_000))
print("importing", flush=True)
community.import_residents("mgr", rows, {})
print("finished", flush=True)
"""


def test_an_import_cut_off_by_kill_9_is_taken_out_when_the_community_opens(tmp_path: Path) -> None:
    """A real process, a real SIGKILL half-way through a 5,000-row import: the next open takes out what it
    wrote (all or nothing across a crash) and the same file then imports whole."""
    db = tmp_path / "community.db"
    child = subprocess.Popen([sys.executable, "-c", _KILLED_IMPORT, str(tmp_path)], stdout=subprocess.PIPE,
                             text=True, cwd=Path(__file__).resolve().parents[3])
    assert child.stdout is not None and child.stdout.readline().strip() == "importing"
    deadline = time.monotonic() + 60
    while _rows_in(db, "resident_import_members") < 3 * bulk_import.IMPORT_CHUNK:
        assert time.monotonic() < deadline and child.poll() is None, "the import finished before it was killed"
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    written = _rows_in(db, "residents")
    assert 0 < written < 5_000
    reopened = Community(db, tmp_path / "keys" / "hub.key", timezone=ZONE)
    try:
        assert _rows_in(db, "residents") == 0 and _rows_in(db, "resident_imports") == 0
        rows = "resident_id,full_name\n" + "".join(f"r-{i},Person {i}\n" for i in range(5_000))
        assert reopened.import_residents("mgr", rows, {}).imported
        assert _rows_in(db, "residents") == 5_000
    finally:
        reopened.close()
