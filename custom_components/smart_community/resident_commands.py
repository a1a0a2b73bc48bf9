"""The panel's "Add resident" flow and a resident's page, in the command table (``commands.py`` appends these to
``COMMANDS``): adding a resident with a card, a PIN and consent in one step, the community's consent texts, consent
on one of them, and what a resident may use (doors and hours), with their recent access and vehicles.

Every one is admin-only and audited by the registry (consent texts hold no personal data; the others do). Photos
are not here: the panel checks them with ``faces/check`` and enrols them with ``faces/enrol`` (enrolment's own
commands) once the resident exists with consent.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import VolDictType
from homeassistant.util import dt as dt_util

from hub.access.models import AccessRule
from hub.journal import AccessLogFilter
from hub.residents.models import ConsentTemplate
from hub.residents.onboarding import NewResident, add_in_one_step

from .commands import (
    RESIDENT_FIELDS,
    WEEKDAYS,
    Command,
    CommandContext,
    Fields,
    Result,
    _ha_places,
    aware,
    resident_dict,
)
from .places import resolve_places

# The table's validators, made here again (commands.py imports this module at its end: see vehicle_commands.py).
AWARE_DATETIME = vol.All(cv.datetime, aware)
OPTIONAL_DATETIME = vol.Any(None, AWARE_DATETIME)
OPTIONAL_TEXT = vol.Any(None, cv.string)
RECENT_ACCESS = 10

_DETAIL_KEYS = ("household", "building", "unit", "valid_from", "valid_until", "is_minor", "guardian")


def _text_dict(text: ConsentTemplate) -> dict[str, Any]:
    return {"template_id": text.template_id, "version": text.version, "title": text.title, "body": text.body,
            "saved_at": text.created_at.isoformat()}


def _create(ctx: CommandContext, data: Fields) -> Result:
    """Add a resident with what came in the same form (blocking, off the writer: the writes are one writer job)."""
    new = NewResident(
        full_name=data["full_name"],
        resident_id=data.get("resident_id") or None,
        details={key: data[key] for key in _DETAIL_KEYS if key in data},
        card_number=data.get("card_number") or None,
        pin=data.get("pin") or None,
        keypad_code=data.get("keypad_code") or None,
        consent_text_id=data.get("consent_text_id") or None,
        consent_guardian=data.get("consent_guardian") or None,
    )
    done = add_in_one_step(ctx.community, ctx.actor, new, now=dt_util.utcnow())
    community = ctx.community
    return community.call(lambda: resident_dict(ctx, community.registry.residents.get_resident(
        done.resident.resident_id)))


def _texts_list(ctx: CommandContext, data: Fields) -> Result:
    return {"texts": [_text_dict(t) for t in ctx.reads.registry.consent_texts.list_templates()]}


def _texts_save(ctx: CommandContext, data: Fields) -> Result:
    text = ctx.community.registry.consent_texts.save_template(
        ctx.actor, data.get("template_id") or None, title=data["title"], body=data["body"]
    )
    return _text_dict(text)


def _consent_on_text(ctx: CommandContext, data: Fields) -> Result:
    registry = ctx.community.registry
    registry.consents.record_consent_on_template(
        ctx.actor, data["resident_id"], template_id=data["template_id"], given_at=dt_util.utcnow(),
        guardian=data.get("guardian") or None,
    )
    return resident_dict(ctx, registry.residents.get_resident(data["resident_id"]))


def _applies(rule: AccessRule, resident_id: str, building: str | None) -> str | None:
    """Why the rule covers the resident ("everyone", "building", "named"), or None when it does not."""
    if rule.applies_to_all:
        return "everyone"
    if resident_id in rule.resident_ids:
        return "named"
    if building is not None and building in rule.buildings:
        return "building"
    return None


def _resident_access(ctx: CommandContext, data: Fields) -> Result:
    """Which doors the resident may use, when, and on holidays (from the access rules that cover them), their
    recent access decisions, and how many vehicles they have registered (blocking: the registry on the read
    connection, the access log from the journal)."""
    community = ctx.community
    result: dict[str, Any] = community.read(_rules_part, ctx, data)
    journal = ctx.runtime.uplink.journal
    recent: list[dict[str, Any]] = []
    if journal is not None:
        page = journal.access_log(AccessLogFilter(resident_id=data["resident_id"]), before=None, limit=RECENT_ACCESS)
        hub_names = {d.door_id: d.name for d in community.read(community.reads.access_config.list_doors)}
        places = resolve_places(data.get("_places", {}), hub_names, {r.door for r in page.rows if r.door})
        recent = [{"occurred_at": r.occurred_at.isoformat(), "door": r.door,
                   "door_name": places[r.door].name if r.door else None, "result": r.result, "reason": r.reason,
                   "credential": r.credential} for r in page.rows]
    return {**result, "recent_access": recent}


def _rules_part(ctx: CommandContext, data: Fields) -> dict[str, Any]:
    reads = ctx.community.reads
    resident = reads.registry.residents.get_resident(data["resident_id"])
    config = reads.access_config
    hub_names = {d.door_id: d.name for d in config.list_doors()}
    places = resolve_places(data.get("_places", {}), hub_names)
    names = config.rule_names()
    rules = []
    doors: dict[str, dict[str, Any]] = {}
    for rule in config.list_rules():
        why = _applies(rule, resident.resident_id, resident.building)
        if why is None:
            continue
        door_list = [places[d].as_dict() if d in places else {"id": d, "name": d, "area": None}
                     for d in sorted(rule.door_ids, key=lambda d: places[d].name if d in places else d)]
        hours = "all day" if rule.start == rule.end else f"{rule.start:%H:%M}–{rule.end:%H:%M}"
        entry = {
            "rule_id": rule.rule_id, "name": names.get(rule.rule_id, rule.rule_id), "why": why,
            "weekdays": [WEEKDAYS[d] for d in sorted(rule.weekdays)], "start": f"{rule.start:%H:%M}",
            "end": f"{rule.end:%H:%M}", "all_day": rule.start == rule.end, "hours": hours,
            "on_holidays": rule.on_holidays,
            "doors": door_list,
        }
        rules.append(entry)
        for door in door_list:
            doors.setdefault(str(door["id"]), {**door, "rules": []})["rules"].append(entry["name"])
    return {
        "resident_id": resident.resident_id,
        "doors": sorted(doors.values(), key=lambda d: str(d["name"]).casefold()),
        "rules": rules,
        "holidays": [{"day": day.isoformat(), "name": name} for day, name in sorted(config.list_holidays().items())],
        "vehicles": len(reads.vehicles.resident_vehicles(resident.resident_id)),
    }


_RESIDENT_ID: VolDictType = {vol.Required("resident_id"): cv.string}

RESIDENT_COMMANDS: tuple[Command, ...] = (
    Command(websocket="residents/create", run=_create, locked=False, changes=True, fields={
        vol.Optional("resident_id"): OPTIONAL_TEXT,
        vol.Required("full_name"): cv.string,
        **RESIDENT_FIELDS,
        vol.Optional("card_number"): OPTIONAL_TEXT,
        vol.Optional("pin"): OPTIONAL_TEXT,
        vol.Optional("keypad_code"): OPTIONAL_TEXT,
        vol.Optional("consent_text_id"): OPTIONAL_TEXT,
        vol.Optional("consent_guardian"): OPTIONAL_TEXT,
    }),
    Command(websocket="consent_texts/list", fields={}, run=_texts_list, reads=True),
    Command(websocket="consent_texts/save", run=_texts_save, fields={
        vol.Optional("template_id"): OPTIONAL_TEXT,
        vol.Required("title"): cv.string,
        vol.Required("body"): cv.string,
    }),
    Command(websocket="consent/record_text", run=_consent_on_text, changes=True, fields={
        **_RESIDENT_ID, vol.Required("template_id"): cv.string, vol.Optional("guardian"): OPTIONAL_TEXT,
    }),
    Command(websocket="residents/access", fields=_RESIDENT_ID, run=_resident_access, locked=False,
            prepare=_ha_places),
)
