"""Erasure removes everything about a resident, leaves a tombstone and returns a verifiable receipt."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from hub.access.config import AccessConfigStore
from hub.access.models import AccessRule, Door, FaceMatch, Side
from hub.access.service import AccessService
from hub.exceptions import InvalidInputError, NotFoundError
from hub.privacy.erasure import verify_receipt
from hub.residents.registry_hub import ResidentRegistry

NAME = "Zhou Xiaoyan-Unique"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _populate(registry: ResidentRegistry) -> tuple[np.ndarray, str]:
    config = AccessConfigStore(registry.conn)
    config.put_door("installer", Door("gate-in", "North gate in", gate_id="north", side=Side.IN, anti_passback=True))
    registry.residents.add_resident(
        "mgr", "victim", NAME, household="household-victim-9", building="9", unit="unit-902-victim"
    )
    registry.residents.add_resident("mgr", "other", "Someone Else")
    config.add_rule(
        "mgr", AccessRule("r-all", frozenset({"gate-in"}), resident_ids=frozenset({"victim", "other"})), name="Gate"
    )
    registry.consents.record_consent("mgr", "victim", scope="gates", given_at=START)
    template = np.random.default_rng(5).normal(size=128).astype(np.float32)
    registry.faces.enrol_templates("mgr", "victim", [template, template * 2])
    registry.faces.keep_enrolment_photo("mgr", "victim", b"\xff\xd8photo", "image/jpeg")
    registry.credentials.add_card("mgr", "victim", "1234567890")
    registry.credentials.set_pin("mgr", "victim", "285714")
    issued = registry.passes.issue_pass(
        "mgr", "victim", "Friend", ["gate-in"], valid_from=START, valid_until=START + timedelta(hours=3)
    )
    service = AccessService(registry.conn, registry.keys, timezone=ZoneInfo("Asia/Shanghai"))
    service.present_face("gate-in", FaceMatch("victim", 0.3, True), START + timedelta(minutes=1))
    service.present_pass("gate-in", issued.token, START + timedelta(minutes=2))
    return template, issued.visitor_pass.pass_id


def test_erasure_leaves_nothing_of_the_person(registry: ResidentRegistry, tmp_path: Path, audit_log: list[Any]) -> None:
    template, pass_id = _populate(registry)
    receipt = registry.remove_resident("dpo-li", "victim")
    assert receipt.erased == {
        "face_templates": 2,
        "enrolment_photos": 1,
        "cards": 1,
        "pins": 1,
        "visitor_passes": 1,
        "consents": 1,
        "access_attempts": 2,
        "rule_memberships": 1,
    }
    assert receipt.erased_at == START
    assert verify_receipt(registry.conn, receipt)
    assert not verify_receipt(registry.conn, replace(receipt, erased={**receipt.erased, "cards": 0}))
    assert registry.enrolled_face_count() == 0

    # Scan every column of every table for anything that named the person.
    # Needles long enough not to turn up by chance inside random ids and hashes.
    needles = ["victim", NAME, pass_id, "unit-902-victim", "household-victim-9"]
    for (table,) in registry.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        for row in registry.conn.execute(f'SELECT * FROM "{table}"'):
            for value in row:
                assert not any(n in str(value) for n in needles), (table, tuple(row))
    tombstone = registry.conn.execute("SELECT * FROM resident_tombstones").fetchone()
    assert tombstone["receipt_id"] == receipt.receipt_id
    assert tombstone["receipt_hash"] == receipt.receipt_hash

    # Not even in free pages or the WAL of the file.
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("hub.db*"))
    assert NAME.encode() not in raw
    assert template.astype("<f4").tobytes()[:16] not in raw

    # The audit hook got the action without the resident id (the audit log is append-only).
    actor, action, details = audit_log[-1]
    assert (actor, action) == ("dpo-li", "resident.erase")
    assert "victim" not in str(details)
    assert details["receipt_id"] == receipt.receipt_id

    # The other resident is untouched; the erased id cannot be reused.
    assert registry.residents.get_resident("other").full_name == "Someone Else"
    with pytest.raises(InvalidInputError, match="erased"):
        registry.residents.add_resident("mgr", "victim", "New Person")


def test_erasing_an_unknown_resident(registry: ResidentRegistry) -> None:
    with pytest.raises(NotFoundError):
        registry.remove_resident("mgr", "nobody")
    with pytest.raises(InvalidInputError, match="actor"):
        registry.remove_resident("", "nobody")
    assert registry.conn.execute("SELECT COUNT(*) FROM resident_tombstones").fetchone()[0] == 0
