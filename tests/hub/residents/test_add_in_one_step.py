"""Adding a resident in one step (the panel's "Add resident" flow): a generated id unless one is typed, ids refused
in words, the community's consent texts (versioned; a consent keeps the exact text signed), and the record, card,
PIN and consent written all or nothing, audited with who did it. A real Community on a real SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.community import Community
from hub.events import ManagerActionEvent
from hub.exceptions import InvalidInputError, NotFoundError
from hub.residents.onboarding import NewResident, add_in_one_step
from hub.residents.registry_hub import ResidentRegistry

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
TEXT_V1 = "Face recognition at the community gates. Templates are kept while you live here."
TEXT_V2 = "Face recognition at the gates and the car park. Templates are deleted when you withdraw."


@pytest.fixture
def community(tmp_path: Path) -> Iterator[Community]:
    c = Community(tmp_path / "c.db", tmp_path / "keys" / "k.key", timezone=ZoneInfo("Europe/Berlin"))
    yield c
    c.close()


def _actions(community: Community) -> list[tuple[str, str, dict[str, object]]]:
    seen: list[tuple[str, str, dict[str, object]]] = []
    community.events.subscribe(ManagerActionEvent, lambda e: seen.append((e.actor, e.action, dict(e.details))))
    return seen


def _rows(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def test_an_id_is_generated_unless_one_is_typed(registry: ResidentRegistry) -> None:
    first = registry.residents.add_resident("mgr", None, "Anna Berg")
    second = registry.residents.add_resident("mgr", "", "Bo Chen")
    typed = registry.residents.add_resident("mgr", "A-1203-01", "Chris Dale")
    assert first.resident_id.startswith("R-") and len(first.resident_id) == 8
    assert second.resident_id.startswith("R-") and second.resident_id != first.resident_id
    assert typed.resident_id == "A-1203-01"
    assert registry.residents.get_resident(first.resident_id).full_name == "Anna Berg"


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("Anna Berg", "contains a space: an id is one word"),
        ("anna/berg", "contains /: an id may use only letters, digits and . _ : @ -"),
        ("-anna", "must start with a letter or a digit"),
        ("x" * 65, "an id has at most 64"),
    ],
)
def test_a_bad_id_is_refused_in_words_and_changes_nothing(registry: ResidentRegistry, typed: str, words: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        registry.residents.add_resident("mgr", typed, "Anna Berg")
    message = str(refused.value)
    assert message.startswith("resident_id ") and words in message
    assert "[A-Za-z" not in message and "._:@-" not in message  # no pattern, no regex-style run of characters
    assert registry.residents.count_residents() == 0


def test_consent_texts_are_versioned_and_a_consent_keeps_the_text_signed(
    registry: ResidentRegistry, audit_log: list[tuple[str, str, dict[str, object]]]
) -> None:
    texts = registry.consent_texts
    v1 = texts.save_template("Mia (u1)", None, title="Gate face recognition", body=TEXT_V1)
    registry.residents.add_resident("mgr", "r1", "Anna Berg")
    registry.consents.record_consent_on_template("Mia (u1)", "r1", template_id=v1.template_id, given_at=NOW)
    v2 = texts.save_template("Mia (u1)", v1.template_id, title="Gate face recognition", body=TEXT_V2)
    assert (v1.version, v2.version) == (1, 2)
    assert [t.body for t in texts.list_templates()] == [TEXT_V2]  # the newest version is offered
    assert texts.get_template(v1.template_id, 1).body == TEXT_V1  # the old one stays
    consent = registry.consents.active_consent("r1")
    assert consent is not None
    assert (consent.scope, consent.template_id, consent.template_version) == (TEXT_V1, v1.template_id, 1)
    with pytest.raises(InvalidInputError, match="unchanged"):
        texts.save_template("Mia (u1)", v1.template_id, title="Gate face recognition", body=TEXT_V2)
    with pytest.raises(NotFoundError, match="no consent text"):
        registry.consents.record_consent_on_template("mgr", "r1", template_id="nope", given_at=NOW)
    saved = [d for actor, action, d in audit_log if action == "consent_text.save" and actor == "Mia (u1)"]
    assert [d["version"] for d in saved] == [1, 2]
    recorded = [d for _, action, d in audit_log if action == "consent.record"]
    assert recorded[0]["template_version"] == 1


def test_record_card_pin_and_consent_in_one_step(community: Community) -> None:
    seen = _actions(community)
    text = community.call(community.registry.consent_texts.save_template, "Mia (u1)", None, title="Gates",
                          body=TEXT_V1)
    done = add_in_one_step(community, "Mia (u1)", NewResident(
        full_name="Anna Berg", details={"building": "3", "unit": "301"}, card_number="12345678", pin="482913",
        consent_text_id=text.template_id,
    ), now=NOW)
    rid = done.resident.resident_id
    assert rid.startswith("R-") and done.keypad_code is not None
    registry = community.registry
    assert [c.hint for c in registry.credentials.list_cards(rid)] == ["5678"]
    assert registry.credentials.has_pin(rid)
    consent = registry.consents.active_consent(rid)
    assert consent is not None and consent.scope == TEXT_V1
    actions = [action for actor, action, _ in seen if actor == "Mia (u1)"]
    assert actions == ["consent_text.save", "resident.add", "card.add", "pin.set", "consent.record"]


def test_a_refused_part_leaves_no_resident_and_no_audit_entry(community: Community, tmp_path: Path) -> None:
    first = add_in_one_step(community, "mgr", NewResident(full_name="Anna Berg", card_number="12345678"), now=NOW)
    seen = _actions(community)
    with pytest.raises(InvalidInputError, match="card ending 5678 is already registered"):
        add_in_one_step(community, "mgr", NewResident(full_name="Bo Chen", card_number="12345678"), now=NOW)
    with pytest.raises(NotFoundError, match="no consent text"):
        add_in_one_step(community, "mgr", NewResident(full_name="Bo Chen", consent_text_id="gone"), now=NOW)
    assert _rows(tmp_path / "c.db", "residents") == 1
    assert [r.resident_id for r in community.registry.residents.list_residents()] == [first.resident.resident_id]
    assert seen == []


def test_a_minors_consent_in_one_step_is_the_guardians(community: Community) -> None:
    text = community.call(community.registry.consent_texts.save_template, "mgr", None, title="Gates", body=TEXT_V1)
    done = add_in_one_step(community, "mgr", NewResident(
        full_name="Ella Berg", details={"is_minor": True, "guardian": "Anna Berg"}, consent_text_id=text.template_id,
    ), now=NOW)
    consent = community.registry.consents.active_consent(done.resident.resident_id)
    assert consent is not None and consent.guardian == "Anna Berg" and consent.given_by == "Anna Berg"
    with pytest.raises(InvalidInputError, match="not the guardian recorded"):
        add_in_one_step(community, "mgr", NewResident(
            full_name="Finn Berg", details={"is_minor": True, "guardian": "Anna Berg"},
            consent_text_id=text.template_id, consent_guardian="Someone Else",
        ), now=NOW)
