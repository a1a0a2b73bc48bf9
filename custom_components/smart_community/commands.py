"""The integration's admin operations, each defined once: the command table behind the actions and the panel.

A :class:`Command` names its Home Assistant action and/or its panel websocket type, its input schema (voluptuous,
which also normalises: times without an offset mean Home Assistant's time zone), whether only administrators may
run it, how it runs (blocking work in the executor, under the community's lock unless it takes its own), whether
entities refresh afterwards, and what it returns. ``services.py`` and ``websocket_api.py`` only adapt
:data:`COMMANDS` to their transport (who is calling, how an error is sent); the operations themselves are in the
hub library, and the functions here only translate fields to library calls and records to responses.

Errors are Home Assistant's: a library refusal becomes a ``ServiceValidationError`` with the ``invalid_input`` or
``not_found`` translation key (the library validates before it writes, so a refused command changes nothing). The
manager's name and user id (``Name (id)``) go to the audit log; an automation or script acts as ``system``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import voluptuous as vol
from homeassistant.auth.models import User
from homeassistant.components.http.auth import async_sign_path
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.typing import VolDictType
from homeassistant.util import dt as dt_util
from yarl import URL

from hub.access.assurance import FACE_ALONE_RISK
from hub.access.models import AccessRule, FaceAssurance
from hub.community import Community, CommunityReads
from hub.exceptions import HubError, InvalidInputError, NotFoundError
from hub.health import Problem
from hub.journal import AccessLogFilter, AuditHead
from hub.journal.audit import RESIDENT_KEYS, RESIDENT_REF_PREFIX
from hub.residents.bulk_import import PhotoCheck
from hub.residents.models import Resident, ResidentStatus
from hub.residents.registry_hub import ResidentRegistry

from .community import CommunityRuntimeData, erase_resident, loaded_community
from .const import DOMAIN, SIGNAL_COMMUNITY_CHANGED
from .gates import (
    CONF_FACE_ASSURANCE,
    CONF_FACE_WINDOWS,
    CONF_GATES,
    CONF_LOCK,
    FACE_ASSURANCE_LEVELS,
    Gate,
    async_run_gate,
    door_id_of_lock,
    window_options,
)
from .health import CONF_TARGET, DEFAULT_TARGET, lane_name
from .health import percent as _percent
from .places import async_ha_places, async_reason_texts, display_names, place_name, reason_text, resolve_places
from .uplink import CONF_UPLINK_PROFILE, CONF_UPLINK_URL, PROFILE_JSON, field_policy

SYSTEM_ACTOR = "system"
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MAX_PHOTO_BYTES = 3 * 1024 * 1024
EXPORT_URL = "/api/smart_community/access_log.csv"
PASS_LINK_URL = "/api/smart_community/pass"
EXPORT_VALID_FOR = timedelta(minutes=5)
FILTER_FIELDS = ("since", "until", "door", "resident_id", "result")


# -- the table's types -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommandContext:
    """Who runs a command on which community. ``user`` is None for the system (an automation or a script)."""

    hass: HomeAssistant
    entry: ConfigEntry[CommunityRuntimeData]
    user: User | None
    refresh_token_id: str | None = None

    @property
    def runtime(self) -> CommunityRuntimeData:
        """The loaded community's runtime data."""
        return self.entry.runtime_data

    @property
    def community(self) -> Community:
        """The hub library's community."""
        return self.entry.runtime_data.community

    @property
    def reads(self) -> CommunityReads:
        """The community's read connection (for commands marked ``reads``)."""
        return self.entry.runtime_data.community.reads

    @property
    def actor(self) -> str:
        """Who did it, for the audit log: the Home Assistant user's name and id."""
        return SYSTEM_ACTOR if self.user is None else f"{self.user.name} ({self.user.id})"

    @property
    def owner(self) -> str:
        """Whose staged uploads these are (a checked photo is for the user who checked it only)."""
        return SYSTEM_ACTOR if self.user is None else self.user.id


type Fields = dict[str, Any]
type Result = dict[str, Any] | None
type BlockingRun = Callable[[CommandContext, Fields], Result]
type AsyncRun = Callable[[CommandContext, Fields], Awaitable[Result]]
type Prepare = Callable[[HomeAssistant, Fields], Fields]


@dataclass(frozen=True, kw_only=True)
class Command:
    """One admin operation and the names it has on each transport (None: not offered there).

    Exactly one of ``run`` (blocking: in the executor; as one job on the community's writer when ``locked``, or
    on the community's read connection when ``reads``, for commands that only read) and
    ``async_run`` (on the event loop; it hands its own blocking work to the executor) is set. ``prepare`` runs on
    the loop first (entity registry look-ups). ``returns`` says whether the result is data worth answering with:
    an action then supports a response, and a websocket command without data answers ``{}``.
    """

    service: str | None = None
    websocket: str | None = None
    fields: VolDictType
    run: BlockingRun | None = None
    async_run: AsyncRun | None = None
    locked: bool = True
    reads: bool = False
    prepare: Prepare | None = None
    admin_only: bool = True
    changes: bool = False
    returns: bool = True

    def __post_init__(self) -> None:
        if self.service is None and self.websocket is None:
            raise ValueError("a command needs an action name, a websocket type or both")
        if (self.run is None) == (self.async_run is None):
            raise ValueError(f"{self.name}: exactly one of run and async_run")

    @property
    def name(self) -> str:
        """The command's name in messages: its action name, else its websocket type."""
        return self.service or self.websocket or ""


def community_context(hass: HomeAssistant, user: User | None, refresh_token_id: str | None = None) -> CommandContext:
    """The context of a command on the loaded community; ``no_community`` when none is loaded."""
    entry = loaded_community(hass)
    if entry is None:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_community")
    return CommandContext(hass, entry, user, refresh_token_id)


async def async_execute(command: Command, ctx: CommandContext, data: Fields) -> Result:
    """Run a command whose fields passed its schema; library refusals become translated errors."""
    hass = ctx.hass
    if command.prepare is not None:
        data = command.prepare(hass, data)
    try:
        if command.async_run is not None:
            result = await command.async_run(ctx, data)
        elif command.reads:
            assert command.run is not None
            result = await hass.async_add_executor_job(ctx.community.read, command.run, ctx, data)
        elif command.locked:
            assert command.run is not None
            result = await hass.async_add_executor_job(ctx.community.call, command.run, ctx, data)
        else:
            assert command.run is not None
            result = await hass.async_add_executor_job(command.run, ctx, data)
    except HubError as err:
        raise hub_error(err) from err
    if command.changes:
        async_dispatcher_send(hass, SIGNAL_COMMUNITY_CHANGED)
    return result


def hub_error(err: HubError) -> ServiceValidationError:
    """A library refusal as Home Assistant shows it: ``not_found`` or ``invalid_input``, with the library's text."""
    key = "not_found" if isinstance(err, NotFoundError) else "invalid_input"
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders={"error": str(err)}
    )


# -- field validators --------------------------------------------------------------------------------------------


def aware(value: datetime) -> datetime:
    """A time without an offset means Home Assistant's time zone."""
    if value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt_util.get_default_time_zone())


AWARE_DATETIME = vol.All(cv.datetime, aware)
OPTIONAL_DATETIME = vol.Any(None, AWARE_DATETIME)
OPTIONAL_TEXT = vol.Any(None, cv.string)
# A page of a listing: at most 500 rows, 50 unless asked.
PAGE_LIMIT = vol.All(vol.Coerce(int), vol.Range(min=1, max=500))
# Newest first, from a cursor: the ``seq`` the previous page ended at.
CURSOR_PAGE: VolDictType = {
    vol.Optional("before"): vol.Any(None, vol.All(vol.Coerce(int), vol.Range(min=1))),
    vol.Optional("limit", default=50): PAGE_LIMIT,
}
DOORS = vol.All(cv.ensure_list, [cv.string], vol.Length(min=1))


def _photo(value: Any) -> bytes:
    """A base64 photo (a data: URL prefix is tolerated), at most 3 MB decoded."""
    text = cv.string(value)
    if text.startswith("data:"):
        text = text.partition(",")[2]
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as err:
        raise vol.Invalid("photo must be base64") from err
    if not data:
        raise vol.Invalid("photo is empty")
    if len(data) > MAX_PHOTO_BYTES:
        raise vol.Invalid("photo is larger than 3 MB")
    return data


def _lock_doors(hass: HomeAssistant, data: Fields) -> Fields:
    """``doors`` may name this integration's lock entities (lock.gate_1) or access-control door ids."""
    registry = er.async_get(hass)
    door_ids = []
    for door in data["doors"]:
        if door.startswith("lock."):
            entity = registry.async_get(door)
            if entity is None or entity.platform != DOMAIN or not entity.unique_id.endswith("-lock"):
                raise ServiceValidationError(
                    translation_domain=DOMAIN, translation_key="unknown_door", translation_placeholders={"door": door}
                )
            door_ids.append(entity.unique_id.removesuffix("-lock"))
        else:
            door_ids.append(door)
    return {**data, "doors": door_ids}


# -- responses ---------------------------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def resident_dict(ctx: CommandContext, resident: Resident, registry: ResidentRegistry | None = None) -> dict[str, Any]:
    """A resident as managers see it (blocking; never a PIN, a full card number or a template), read through
    ``registry`` (the writer's, by default)."""
    registry = registry or ctx.community.registry
    consent = registry.consents.active_consent(resident.resident_id)
    return {
        "resident_id": resident.resident_id,
        "full_name": resident.full_name,
        "household": resident.household,
        "building": resident.building,
        "unit": resident.unit,
        "valid_from": _iso(resident.valid_from),
        "valid_until": _iso(resident.valid_until),
        "status": resident.status.value,
        "is_minor": resident.is_minor,
        "guardian": resident.guardian,
        "consent": None if consent is None else {
            "scope": consent.scope, "given_at": _iso(consent.given_at), "guardian": consent.guardian,
            "template_id": consent.template_id, "template_version": consent.template_version,
        },
        "faces": registry.faces.template_count(resident.resident_id),
        "cards": [
            {"card_id": card.card_id, "hint": card.hint, "added_at": _iso(card.added_at)}
            for card in registry.credentials.list_cards(resident.resident_id) if card.revoked_at is None
        ],
        "has_pin": registry.credentials.has_pin(resident.resident_id),
        "keypad_code": registry.credentials.keypad_code(resident.resident_id),
        "pin_digits": registry.credentials.pin_digits,
    }


def _resident(ctx: CommandContext, resident_id: str) -> dict[str, Any]:
    return resident_dict(ctx, ctx.community.registry.residents.get_resident(resident_id))


# -- residents and consent ---------------------------------------------------------------------------------------

_RESIDENT_KEYS = ("household", "building", "unit", "valid_from", "valid_until", "is_minor", "guardian")
RESIDENT_FIELDS: VolDictType = {
    vol.Optional("household"): OPTIONAL_TEXT,
    vol.Optional("building"): OPTIONAL_TEXT,
    vol.Optional("unit"): OPTIONAL_TEXT,
    vol.Optional("valid_from"): OPTIONAL_DATETIME,
    vol.Optional("valid_until"): OPTIONAL_DATETIME,
    vol.Optional("is_minor"): cv.boolean,
    vol.Optional("guardian"): OPTIONAL_TEXT,
}


def _resident_fields(data: Fields) -> Fields:
    return {key: data[key] for key in _RESIDENT_KEYS if key in data}


def _overview(ctx: CommandContext, data: Fields) -> Result:
    summary = ctx.community.summary()
    face_doors = ctx.runtime.face_doors
    hub_names = {d.door_id: d.name for d in ctx.community.access_config.list_doors()}
    places = resolve_places(data.get("_places", {}), hub_names)
    return {
        "title": ctx.entry.title,
        "residents": summary["residents"],
        "enrolled_faces": summary["enrolled_faces"],
        "doors": [{"door_id": p.place_id, "name": p.name, "area": p.area, "face": p.place_id in face_doors}
                  for p in sorted(places.values(), key=lambda p: (p.name.casefold(), p.place_id))],
        "gates": sorted(face_doors),
        "gate_levels": gate_levels(ctx.hass, ctx.entry),
    }


def _ha_places(hass: HomeAssistant, data: Fields) -> Fields:
    """On the event loop: the names and areas managers gave places in Home Assistant (see places.py)."""
    return {**data, "_places": async_ha_places(hass)}


def _residents_list(ctx: CommandContext, data: Fields) -> Result:
    registry = ctx.reads.registry
    page = registry.residents.search_residents(data["query"], offset=data["offset"], limit=data["limit"])
    return {"total": page.total, "residents": [resident_dict(ctx, r, registry) for r in page.residents]}


def _residents_get(ctx: CommandContext, data: Fields) -> Result:
    registry = ctx.reads.registry
    return resident_dict(ctx, registry.residents.get_resident(data["resident_id"]), registry)


def _add_resident(ctx: CommandContext, data: Fields) -> Result:
    residents = ctx.community.registry.residents
    resident = residents.add_resident(ctx.actor, data["resident_id"], data["full_name"], **_resident_fields(data))
    return resident_dict(ctx, resident)


def _update_resident(ctx: CommandContext, data: Fields) -> Result:
    fields = _resident_fields(data)
    if "full_name" in data:
        fields["full_name"] = data["full_name"]
    if "status" in data:
        fields["status"] = ResidentStatus(data["status"])
    ctx.community.registry.residents.update_resident(ctx.actor, data["resident_id"], **fields)
    return _resident(ctx, data["resident_id"])


def _erase_resident(ctx: CommandContext, data: Fields) -> Result:
    return erase_resident(ctx.runtime, ctx.actor, data["resident_id"])


def _record_consent(ctx: CommandContext, data: Fields) -> Result:
    ctx.community.registry.consents.record_consent(
        ctx.actor, data["resident_id"], scope=data["scope"], given_at=dt_util.utcnow(),
        guardian=data.get("guardian") or None,
    )
    return _resident(ctx, data["resident_id"])


def _withdraw_consent(ctx: CommandContext, data: Fields) -> Result:
    ctx.community.registry.consents.withdraw_consent(ctx.actor, data["resident_id"], withdrawn_at=dt_util.utcnow())
    return _resident(ctx, data["resident_id"])


# -- faces -------------------------------------------------------------------------------------------------------

PHOTO_FIELDS: VolDictType = {
    vol.Required("filename"): vol.All(cv.string, vol.Length(min=1, max=255)),
    vol.Required("photo"): _photo,
}


async def _check_photo(ctx: CommandContext, data: Fields) -> Result:
    """Run the quality check and the encoder on one photo; keep only the verdict and template, for this user."""
    check: PhotoCheck = await ctx.hass.async_add_executor_job(
        ctx.runtime.faces.check_photo, data["filename"], data["photo"]
    )
    upload_id = ctx.runtime.staging.put(ctx.owner, check)
    return {"upload_id": upload_id, "filename": check.filename, "accepted": check.accepted, "reason": check.reason}


def _enrol_checked(ctx: CommandContext, data: Fields) -> Result:
    upload_ids: list[str] = data["upload_ids"]
    checks = ctx.runtime.staging.take(ctx.owner, upload_ids)
    anyway = set(data["enrol_anyway"])
    enrolled = ctx.runtime.faces.enrol_checked(
        ctx.actor, data["resident_id"], checks, {i for i, u in enumerate(upload_ids) if u in anyway}
    )
    ctx.runtime.staging.discard(upload_ids)
    return {"enrolled": enrolled, "resident": ctx.community.call(_resident, ctx, data["resident_id"])}


def _review_faces(ctx: CommandContext, data: Fields) -> Result:
    """Whether the checked photos of a set are one person, this resident, and nobody else enrolled."""
    upload_ids: list[str] = data["upload_ids"]
    resident_id: str = data["resident_id"]
    ctx.community.read(ctx.reads.registry.residents.get_resident, resident_id)  # not_found for an unknown id
    checks = ctx.runtime.staging.take(ctx.owner, upload_ids)
    reviews = ctx.runtime.faces.review(resident_id, checks)
    others = {r.close_to for r in reviews if r is not None and r.close_to is not None}
    names = ctx.community.read(ctx.reads.registry.residents.full_names, others) if others else {}
    photos = []
    for upload_id, check, review in zip(upload_ids, checks, reviews, strict=True):
        item: dict[str, Any] = {"upload_id": upload_id, "filename": check.filename, "accepted": check.accepted,
                                "reason": check.reason, "odd_one": False, "not_matching": [],
                                "not_matching_enrolled": False, "close_to": None}
        if review is not None:
            item["odd_one"] = review.odd_one
            item["not_matching"] = [upload_ids[j] for j in review.not_matching]
            item["not_matching_enrolled"] = review.not_matching_enrolled
            if review.close_to is not None:
                item["close_to"] = {"resident_id": review.close_to, "full_name": names.get(review.close_to),
                                    "distance": review.close_distance, "gate_would_accept": review.gate_would_accept}
        photos.append(item)
    return {"resident_id": resident_id, "photos": photos}


def _remove_face_photo(ctx: CommandContext, data: Fields) -> Result:
    """Take one checked photo out of a resident's set before enrolling (audited, with who)."""
    (check,) = ctx.runtime.staging.take(ctx.owner, [data["upload_id"]])
    ctx.community.read(ctx.reads.registry.residents.get_resident, data["resident_id"])
    ctx.runtime.staging.discard([data["upload_id"]])
    ctx.runtime.faces.photo_removed(ctx.actor, data["resident_id"], check.accepted)
    return {"removed": data["upload_id"]}


def _read_photos(hass: HomeAssistant, paths: Iterable[str]) -> list[bytes]:
    """Photos from the Home Assistant host, from the folders it may read (allowlist_external_dirs) only."""
    for path in paths:
        if not hass.config.is_allowed_path(path):
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="path_not_allowed", translation_placeholders={"path": path}
            )
    photos = []
    for path in paths:
        try:
            with Path(path).open("rb") as file:
                # Read at most one byte past the cap: a huge file (or a device like /dev/zero) is never read whole.
                data = file.read(MAX_PHOTO_BYTES + 1)
        except OSError as err:
            raise InvalidInputError(f"cannot read {path}: {err.strerror}") from err
        if len(data) > MAX_PHOTO_BYTES:
            raise InvalidInputError(f"{path} is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB")
        photos.append(data)
    return photos


def _enrol_face(ctx: CommandContext, data: Fields) -> Result:
    paths: list[str] = data["photos"]
    enrolment = ctx.runtime.faces.enrol(ctx.actor, data["resident_id"], _read_photos(ctx.hass, paths),
                                        enrol_anyway=data["enrol_anyway"], names=[Path(p).name for p in paths])
    return {
        "enrolled": len(enrolment.templates),
        "photos": [
            {"photo": path, "accepted": report.accepted, "reason": None if report.accepted else report.message}
            for path, report in zip(paths, enrolment.reports, strict=True)
        ],
    }


async def _verify_at_gate(ctx: CommandContext, data: Fields) -> Result:
    """Run the gate path now at a configured gate (as if someone stepped into its presence sensor)."""
    gates = {g[CONF_LOCK]: Gate.from_options(g) for g in ctx.entry.options.get(CONF_GATES, [])}
    gate = gates.get(data["gate"])
    if gate is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="not_a_gate", translation_placeholders={"gate": data["gate"]}
        )
    outcome = await async_run_gate(ctx.hass, ctx.runtime, gate)
    if outcome is None:
        return {"decision": None, "message": "No decision: no face or visitor pass was seen at the gate, or a face"
                " is waiting for its card or PIN (face and second factor), or face is off at this gate."}
    decision = outcome.decision
    return {
        "decision": "granted" if decision.granted else "denied",
        "reason": decision.reason.value,
        "message": decision.message,
        "credential": decision.kind.value,
        "resident_id": decision.resident_id,
        "released": outcome.released,
    }


async def _set_face_assurance(ctx: CommandContext, data: Fields) -> Result:
    """What a face may do at a gate: applied to the door at once (audited with the administrator's name) and kept
    in the gate's options (setup applies the same setting again, unchanged)."""
    gates = ctx.entry.options.get(CONF_GATES, [])
    door_id = door_id_of_lock(ctx.hass, data["gate"])
    if door_id is None or not any(g[CONF_LOCK] == data["gate"] for g in gates):
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="not_a_gate", translation_placeholders={"gate": data["gate"]}
        )
    windows: list[dict[str, str]] = []
    if data.get("window_level"):
        if data.get("window_start") is None or data.get("window_end") is None:
            raise hub_error(InvalidInputError("a window needs its start and end"))
        windows.append(window_options(data["window_level"], data["window_start"].strftime("%H:%M"),
                                      data["window_end"].strftime("%H:%M")))
    gate = Gate.from_options({**next(g for g in gates if g[CONF_LOCK] == data["gate"]),
                              CONF_FACE_ASSURANCE: data["level"], CONF_FACE_WINDOWS: windows})
    actor = ctx.actor
    try:
        await ctx.hass.async_add_executor_job(
            lambda: ctx.community.set_face_assurance(
                door_id, gate.face_assurance, gate.face_windows, actor=actor
            )
        )
    except HubError as err:
        raise hub_error(err) from err
    edited = [{**g, CONF_FACE_ASSURANCE: data["level"], CONF_FACE_WINDOWS: windows} if g[CONF_LOCK] == data["gate"]
              else g for g in gates]
    ctx.hass.config_entries.async_update_entry(ctx.entry, options={**ctx.entry.options, CONF_GATES: edited})
    return _gate_level(gate, door_id)


def _gate_level(gate: Gate, door_id: str | None) -> dict[str, Any]:
    """A gate's face assurance as the panel shows it (the risk stated for face alone)."""
    return {
        "gate": gate.lock,
        "door_id": door_id,
        "face_assurance": gate.face_assurance.value,
        "windows": [{"level": w.level.value, "start": f"{w.start:%H:%M}", "end": f"{w.end:%H:%M}"}
                    for w in gate.face_windows],
        "warning": FACE_ALONE_RISK if FaceAssurance.FACE_ALONE in
        {gate.face_assurance, *(w.level for w in gate.face_windows)} else None,
    }


def gate_levels(hass: HomeAssistant, entry: ConfigEntry) -> list[dict[str, Any]]:
    """Every gate's face assurance, for the panel."""
    gates = [Gate.from_options(g) for g in entry.options.get(CONF_GATES, [])]
    return [_gate_level(gate, door_id_of_lock(hass, gate.lock)) for gate in gates]


# -- credentials, visitor passes, access rules -------------------------------------------------------------------


def _add_card(ctx: CommandContext, data: Fields) -> Result:
    card = ctx.community.registry.credentials.add_card(ctx.actor, data["resident_id"], data["card_number"])
    return {"card_id": card.card_id, "hint": card.hint}


def _revoke_card(ctx: CommandContext, data: Fields) -> Result:
    ctx.community.registry.credentials.revoke_card(ctx.actor, data["card_id"])
    return None


def _set_pin(ctx: CommandContext, data: Fields) -> Result:
    code = ctx.community.registry.credentials.set_pin(
        ctx.actor, data["resident_id"], data["pin"], data.get("keypad_code")
    )
    return {"keypad_code": code}


def _revoke_pin(ctx: CommandContext, data: Fields) -> Result:
    ctx.community.registry.credentials.revoke_pin(ctx.actor, data["resident_id"])
    return None


def _passes_list(ctx: CommandContext, data: Fields) -> Result:
    """The passes: those in use now and those not started yet (from the moment they are issued, marked with when they
    start), and with ``include_inactive`` the expired, revoked and used-up ones too."""
    now = dt_util.utcnow()
    passes = []
    store = ctx.reads.registry.passes
    for p in store.list_passes():
        active = p.active_at(now)
        upcoming = not active and store.usable(p, now) and p.valid_from > now
        if active or upcoming or data["include_inactive"]:
            passes.append({
                "pass_id": p.pass_id, "visitor_name": p.visitor_name, "issued_by": p.issued_by,
                "doors": sorted(p.door_ids), "valid_from": _iso(p.valid_from), "valid_until": _iso(p.valid_until),
                "max_uses": p.max_uses, "uses": p.uses, "revoked": p.revoked_at is not None, "active": active,
                "upcoming": upcoming,
            })
    passes.sort(key=lambda p: (not p["active"], not p["upcoming"], p["valid_from"] or ""))
    return {"passes": passes}


def _issue_pass(ctx: CommandContext, data: Fields) -> Result:
    issued = ctx.community.registry.passes.issue_pass(
        ctx.actor, data["issued_by"], data["visitor_name"], data["doors"],
        valid_from=data.get("valid_from") or dt_util.utcnow(), valid_until=data["valid_until"],
        max_uses=data["max_uses"],
    )
    pass_id = issued.visitor_pass.pass_id
    return {
        "pass_id": pass_id,
        "token": issued.token,
        "qr_png_base64": _b64(issued.qr_png),
        "valid_from": issued.visitor_pass.valid_from.isoformat(),
        "valid_until": issued.visitor_pass.valid_until.isoformat(),
        "link_path": pass_link_path(ctx.community.registry.passes.pass_link(pass_id)),
    }


def pass_link_path(link: str) -> str:
    """The path of a pass's page (see pass_link.PassLinkView): what the panel turns into the link a manager sends."""
    return f"{PASS_LINK_URL}/{link}"


def _pass_qr(ctx: CommandContext, data: Fields) -> Result:
    png = ctx.reads.registry.passes.pass_qr_png(data["pass_id"])
    return {"pass_id": data["pass_id"], "qr_png_base64": _b64(png)}


def _pass_card(ctx: CommandContext, data: Fields) -> Result:
    """The pass as a card image to download or print: QR code, visitor, window, gates, community."""
    doors = display_names(resolve_places(data.get("_places", {}),
                                         {d.door_id: d.name for d in ctx.reads.access_config.list_doors()}))
    png = ctx.reads.registry.passes.pass_card_png(data["pass_id"], community=ctx.entry.title, door_names=doors,
                                                  tz=dt_util.get_default_time_zone())
    return {"pass_id": data["pass_id"], "png_base64": _b64(png), "filename": f"visitor-pass-{data['pass_id']}.png"}


def _pass_link(ctx: CommandContext, data: Fields) -> Result:
    """The pass's link (a path; the panel adds Home Assistant's address): it shows the pass without a login, and
    nothing once the pass has expired, been revoked or used up."""
    store = ctx.reads.registry.passes
    link = store.pass_link(data["pass_id"])
    return {"pass_id": data["pass_id"], "path": pass_link_path(link),
            "expires_at": _iso(store.get_pass(data["pass_id"]).valid_until)}


def _revoke_pass(ctx: CommandContext, data: Fields) -> Result:
    ctx.community.registry.passes.revoke_pass(ctx.actor, data["pass_id"])
    return None


def _add_rule(ctx: CommandContext, data: Fields) -> Result:
    rule = AccessRule(
        rule_id=data["rule_id"],
        door_ids=frozenset(data["doors"]),
        weekdays=frozenset(WEEKDAYS.index(day) for day in data["weekdays"]),
        start=data["start"],
        end=data["end"],
        on_holidays=data["on_holidays"],
        applies_to_all=data["everyone"],
        resident_ids=frozenset(data["residents"]),
        buildings=frozenset(data["buildings"]),
    )
    ctx.community.access_config.add_rule(ctx.actor, rule, name=data["name"])
    return None


def _rules_list(ctx: CommandContext, data: Fields) -> Result:
    """Who may use which doors, when and on holidays: the access rules with their doors by name and their residents
    by name, and the holiday calendar (read from the rules the actions ``add_access_rule`` and
    ``remove_access_rule`` keep)."""
    config = ctx.reads.access_config
    places = resolve_places(data.get("_places", {}), {d.door_id: d.name for d in config.list_doors()})
    rules = config.list_rules()
    names = config.rule_names()
    people = ctx.reads.registry.residents.full_names({r for rule in rules for r in rule.resident_ids})
    return {
        "rules": [{
            "rule_id": rule.rule_id, "name": names.get(rule.rule_id, rule.rule_id),
            "doors": [places[d].as_dict() if d in places else {"id": d, "name": d, "area": None}
                      for d in sorted(rule.door_ids, key=lambda d: places[d].name if d in places else d)],
            "weekdays": [WEEKDAYS[d] for d in sorted(rule.weekdays)],
            "start": rule.start.strftime("%H:%M"), "end": rule.end.strftime("%H:%M"),
            "all_day": rule.start == rule.end, "on_holidays": rule.on_holidays, "everyone": rule.applies_to_all,
            "residents": [{"resident_id": r, "full_name": people.get(r)} for r in sorted(rule.resident_ids)],
            "buildings": sorted(rule.buildings),
        } for rule in rules],
        "holidays": [{"day": day.isoformat(), "name": name} for day, name in sorted(config.list_holidays().items())],
    }


def _remove_rule(ctx: CommandContext, data: Fields) -> Result:
    ctx.community.access_config.remove_rule(ctx.actor, data["rule_id"])
    return None


# -- access log --------------------------------------------------------------------------------------------------

FILTER_SCHEMA: VolDictType = {
    vol.Optional("since"): OPTIONAL_DATETIME,
    vol.Optional("until"): OPTIONAL_DATETIME,
    vol.Optional("door"): OPTIONAL_TEXT,
    vol.Optional("resident_id"): OPTIONAL_TEXT,
    vol.Optional("result"): vol.Any(None, vol.In(["granted", "denied"])),
}


def access_filter(data: Mapping[str, Any]) -> AccessLogFilter:
    """The access-log filter from a command's (or the export URL's) valid fields; empty values mean no filter."""
    return AccessLogFilter(
        since=data.get("since"), until=data.get("until"), door=data.get("door") or None,
        resident_id=data.get("resident_id") or None, result=data.get("result") or None,
    )


def _access_log(ctx: CommandContext, data: Fields) -> Result:
    journal = ctx.runtime.uplink.journal
    if journal is None:
        return {"events": [], "next_before": None}
    page = journal.access_log(access_filter(data), before=data.get("before"), limit=data["limit"])
    community = ctx.community
    reads = community.reads
    hub_names = {d.door_id: d.name for d in community.read(reads.access_config.list_doors)}
    places = resolve_places(data.get("_places", {}), hub_names, {r.door for r in page.rows if r.door})
    names = community.read(reads.registry.residents.full_names, [r.resident_id for r in page.rows if r.resident_id])
    texts: dict[str, str] = data.get("_reasons", {})
    return {
        "events": [
            {"seq": r.seq, "occurred_at": r.occurred_at.isoformat(), "door": r.door,
             "door_name": places[r.door].name if r.door else None,
             "door_area": places[r.door].area if r.door else None, "result": r.result, "reason": r.reason,
             "reason_text": reason_text(texts, r.reason), "credential": r.credential, "resident_id": r.resident_id,
             "resident_name": names.get(r.resident_id or ""), "face_assurance": r.face_assurance}
            for r in page.rows
        ],
        "next_before": page.next_before,
    }


async def _access_log_page(ctx: CommandContext, data: Fields) -> Result:
    """A page of the access log, with places by name and reasons in words (in the panel user's ``language``)."""
    texts = await async_reason_texts(ctx.hass, data.get("language"))
    return await ctx.hass.async_add_executor_job(_access_log, ctx, {**data, "_reasons": texts})


def _card_lookup(ctx: CommandContext, data: Fields) -> Result:
    """Which resident holds the card with this number (administrators only; the number is compared through its
    keyed index and is neither stored nor answered back: the card is named by its last four digits)."""
    registry = ctx.reads.registry
    card = registry.credentials.lookup_card(data["card_number"])
    if card is None:
        return {"found": False}
    names = registry.residents.full_names([card.resident_id])
    return {"found": True, "card_id": card.card_id, "hint": card.hint, "revoked": card.revoked_at is not None,
            "added_at": _iso(card.added_at), "resident_id": card.resident_id,
            "resident_name": names.get(card.resident_id)}


async def _access_log_export(ctx: CommandContext, data: Fields) -> Result:
    """A signed, short-lived URL of the CSV download (see panel.AccessLogExportView)."""
    query = {}
    for key in FILTER_FIELDS:
        value = data.get(key)
        if isinstance(value, datetime):
            query[key] = value.isoformat()
        elif value:
            query[key] = str(value)
    path = str(URL(EXPORT_URL).with_query(query))
    url = async_sign_path(ctx.hass, path, EXPORT_VALID_FOR, refresh_token_id=ctx.refresh_token_id)
    stamp = dt_util.now().strftime("%Y%m%d-%H%M")
    return {"url": url, "filename": f"access-log-{stamp}.csv"}


# -- devices, reports, uplink, audit -----------------------------------------------------------------------------


def _device_names(hass: HomeAssistant, data: Fields) -> Fields:
    """On the event loop: each device's name as Home Assistant shows it (its device registry entry, by serial), so
    the panel names devices rather than showing ids or URLs."""
    names: dict[str, str] = {}
    registry = dr.async_get(hass)
    devices = [device for entry in hass.config_entries.async_entries(DOMAIN)
               for device in dr.async_entries_for_config_entry(registry, entry.entry_id)]
    for device in devices:
        for domain, identifier in device.identifiers:
            if domain == DOMAIN:
                names[identifier] = device.name_by_user or device.name or identifier
    return {**data, "_names": names, "_places": async_ha_places(hass)}


def _name(data: Fields, device_id: str, kind: str) -> str:
    names: dict[str, str] = data.get("_names", {})
    if device_id in names:
        return names[device_id]
    return "Uplink to the county" if kind == "uplink" else device_id


def _devices(ctx: CommandContext, data: Fields) -> Result:
    store = ctx.runtime.health.store
    target = float(ctx.entry.options.get(CONF_TARGET, DEFAULT_TARGET))
    if store is None:
        return {"target_percent": target, "community": {"day_percent": None, "week_percent": None}, "devices": []}
    rates = ctx.runtime.health.current_rates()  # the figure the online-rate sensors show too
    if rates is None:
        return {"target_percent": target, "community": {"day_percent": None, "week_percent": None}, "devices": []}
    day, week = rates
    day_by = {d.device_id: d.rate for d in day.devices}
    week_by = {d.device_id: d.rate for d in week.devices}
    return {
        "target_percent": target,
        "community": {"day_percent": _percent(day.community.rate), "week_percent": _percent(week.community.rate)},
        "devices": [
            {"device_id": s.device_id, "name": _name(data, s.device_id, str(s.kind)), "kind": str(s.kind),
             "online": s.online, "since": _iso(s.since),
             "day_percent": _percent(day_by.get(s.device_id)), "week_percent": _percent(week_by.get(s.device_id))}
            for s in store.statuses()
        ],
    }


def _history(ctx: CommandContext, data: Fields) -> Result:
    """Each device's up/down timeline over the last ``days`` local days and its online rate per day, with the
    community's daily rate and the target: what the panel draws."""
    store = ctx.runtime.health.store
    target = float(ctx.entry.options.get(CONF_TARGET, DEFAULT_TARGET))
    days: int = data["days"]
    now = dt_util.utcnow()
    today = dt_util.as_local(now).date()
    dates = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    tz = ctx.hass.config.time_zone
    start = dt_util.start_of_local_day(dates[0])
    out: dict[str, Any] = {"target_percent": target, "start": _iso(start), "end": _iso(now),
                           "days": [d.isoformat() for d in dates], "community": [], "devices": []}
    if store is None:
        return out
    per_day = [store.day_rates(d, tz, now=now) for d in dates[:-1]]
    kept = ctx.runtime.health.current_rates()  # today: the figure the sensors and devices/list show
    same_day = kept is not None and kept[0].start == dt_util.start_of_local_day(dates[-1])
    per_day.append(kept[0] if kept is not None and same_day else store.day_rates(dates[-1], tz, now=now))
    out["community"] = [_percent(r.community.rate) for r in per_day]
    timeline = store.timeline(start, now, now=now)
    by_day = [{x.device_id: x.rate for x in r.devices} for r in per_day]
    for status in store.statuses():
        rates = [_percent(day.get(status.device_id)) for day in by_day]
        out["devices"].append({
            "device_id": status.device_id, "name": _name(data, status.device_id, str(status.kind)),
            "kind": str(status.kind), "online": status.online,
            "spans": [{"online": up, "start": _iso(a), "end": _iso(b)}
                      for up, a, b in timeline.get(status.device_id, [])],
            "day_percent": rates,
        })
    return out


def _problems(ctx: CommandContext, data: Fields) -> Result:
    store = ctx.runtime.health.store
    if store is None:
        return {"problems": []}
    found = store.problems(unresolved=data["unresolved"], limit=data["limit"])
    return {"problems": [{**p.to_dict(), "name": _name(data, p.device_id, p.kind)} for p in found]}


def _alarm_dict(data: Fields, problem: Problem, door_names: Mapping[str, str]) -> dict[str, Any]:
    """An alarm as the panel shows it: its door (by the community's door name) or device (as Home Assistant names
    it), its state and who acknowledged and closed it."""
    if problem.kind == "door":
        name = place_name(problem.device_id, data.get("_places", {}).get(problem.device_id),
                          door_names.get(problem.device_id))
    elif problem.kind == "vehicle":
        name = lane_name(problem.device_id)
    else:
        name = _name(data, problem.device_id, problem.kind)
    return {**problem.to_dict(), "name": name}


async def _acknowledge_problem(ctx: CommandContext, data: Fields) -> Result:
    """A manager has seen a device problem or alarm and says what is being done; audited with who did it."""
    health = ctx.runtime.health
    problem = await health.async_acknowledge(ctx.actor, data["problem_id"], data["note"])
    names = await ctx.hass.async_add_executor_job(health.alarm_names, [problem])
    return _alarm_dict(data, problem, names)


async def _close_alarm(ctx: CommandContext, data: Fields) -> Result:
    """A manager closes an acknowledged alarm: it leaves the open list and its notification goes; audited."""
    health = ctx.runtime.health
    problem = await health.async_close(ctx.actor, data["problem_id"], data.get("note") or None)
    names = await ctx.hass.async_add_executor_job(health.alarm_names, [problem])
    return _alarm_dict(data, problem, names)


def _alarms(ctx: CommandContext, data: Fields) -> Result:
    """The alarm list: forced open, held open, tamper and devices offline; those not closed first."""
    health = ctx.runtime.health
    store = health.store
    if store is None:
        return {"alarms": [], "open": 0}
    found = store.alarms(include_closed=data["include_closed"], limit=data["limit"])
    names = health.alarm_names(found)
    return {"alarms": [_alarm_dict(data, p, names) for p in found], "open": store.open_alarm_count()}


def _reports(ctx: CommandContext, data: Fields) -> Result:
    store = ctx.runtime.health.store
    if store is None:
        return {"reports": []}
    return {"reports": [report.to_dict() for report in store.latest_reports(data["limit"])]}


def _host(url: str | None) -> str | None:
    """Only the platform's host is shown (a URL may carry credentials or tokens)."""
    if not url:
        return None
    return URL(url).host


async def _uplink_status(ctx: CommandContext, data: Fields) -> Result:
    options = ctx.entry.options
    uplink = ctx.runtime.uplink
    status = uplink.status
    policy = field_policy(ctx.entry)
    url = options.get(CONF_UPLINK_URL) or None
    result: dict[str, Any] = {
        "configured": url is not None,
        "profile": options.get(CONF_UPLINK_PROFILE, PROFILE_JSON) if url else None,
        "host": _host(url),
        "connected": None, "backlog": None, "last_success": None, "oldest_unsent_s": None, "refused": None,
        "last_error": None,
        "recent_errors": [{"at": at.isoformat(), "message": message} for at, message in uplink.recent_errors],
        "field_policy": {
            "fields": sorted(policy.allowed_fields),
            "options": [{"field": o.field, "legal_basis": str(o.legal_basis), "reference": o.reference}
                        for o in policy.options],
        },
    }
    if status is not None:
        result.update(connected=status.connected, backlog=status.backlog, last_success=_iso(status.last_success),
                      oldest_unsent_s=status.oldest_unsent_age_s, refused=status.failed,
                      last_error=status.last_error)
    return result


def _audit_refs(details: Mapping[str, Any]) -> list[str]:
    """The resident pseudonyms an entry's details carry (see :data:`hub.journal.audit.RESIDENT_KEYS`)."""
    refs: list[str] = []
    for name, value in details.items():
        if name in RESIDENT_KEYS or name == "resident_ref":
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and item.startswith(RESIDENT_REF_PREFIX):
                    refs.append(item)
    return refs


_PLACE_KEYS = ("door_id", "door", "doors", "door_ids", "gate", "device_id")


def _audit_places(details: Mapping[str, Any]) -> list[str]:
    """The place ids (doors, gates, devices) an audit entry's details name, to show them by name beside the id."""
    ids: list[str] = []
    for name in _PLACE_KEYS:
        value = details.get(name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                ids.append(item)
    return ids


def _audit_list(ctx: CommandContext, data: Fields) -> Result:
    """A page of the audit log. Entries name residents by their pseudonym only; for residents who still exist the
    response maps each ref on the page to ``Name (id)`` (computed here, for the administrator's panel: the log
    itself never holds the id). An erased resident's ref maps to nothing and is shown as it is."""
    journal = ctx.runtime.uplink.journal
    if journal is None:
        return {"entries": [], "next_before": None}
    entries = journal.audit.entries_desc(before=data.get("before"), limit=data["limit"])
    on_page = {ref for e in entries for ref in _audit_refs(e.details)}
    names: dict[str, str] = {}
    if on_page:
        residents = ctx.community.read(ctx.reads.registry.residents.list_residents)
        for resident in residents:
            ref = journal.audit.ref(resident.resident_id)
            if ref in on_page:
                names[ref] = f"{resident.full_name} ({resident.resident_id})"
    places = resolve_places(data.get("_places", {}),
                            {d.door_id: d.name for d in ctx.community.read(ctx.reads.access_config.list_doors)})
    return {
        "entries": [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
                     "details": dict(e.details),
                     "residents": {ref: names[ref] for ref in _audit_refs(e.details) if ref in names},
                     "places": {i: places[i].name for i in _audit_places(e.details) if i in places}}
                    for e in entries],
        "next_before": entries[-1].seq if len(entries) == data["limit"] and entries[-1].seq > 1 else None,
    }


def _upstream_head(value: Any) -> AuditHead:
    try:
        return AuditHead.parse(cv.string(value))
    except InvalidInputError as err:
        raise vol.Invalid(str(err)) from err


def _audit_verify(ctx: CommandContext, data: Fields) -> Result:
    journal = ctx.runtime.uplink.journal
    if journal is None:
        return {"ok": True, "checked": 0, "message": "The audit log is empty."}
    upstream: AuditHead | None = data.get("upstream_head")
    result = journal.audit.verify(upstream)
    if result.ok:
        message = f"The hash chain is intact: {result.checked} entries checked."
        if result.upstream_matched and upstream is not None:
            message += f" It holds entry {upstream.seq} with the hash the county holds."
        elif upstream is not None:
            message += " The county's head is older than what retention kept: it could not be compared."
    else:
        message = f"The hash chain is broken at entry {result.first_bad_seq}: {result.problem}"
    return {"ok": result.ok, "checked": result.checked, "first_bad_seq": result.first_bad_seq,
            "upstream_matched": result.upstream_matched, "message": message}


# -- bulk import -------------------------------------------------------------------------------------------------


def _import_commit(ctx: CommandContext, data: Fields) -> Result:
    checks = ctx.runtime.staging.take(ctx.owner, data["upload_ids"])
    report = ctx.community.import_residents(
        ctx.actor, data["csv"], {check.filename: check for check in checks}, dry_run=data["dry_run"]
    )
    if report.imported:
        ctx.runtime.staging.discard(data["upload_ids"])
    return report.to_dict()


# -- the table ---------------------------------------------------------------------------------------------------

_RESIDENT_ID: VolDictType = {vol.Required("resident_id"): cv.string}
_LANGUAGE: VolDictType = {vol.Optional("language"): vol.Any(None, vol.All(cv.string, vol.Length(max=35)))}
_UPLOAD_IDS = vol.All(cv.ensure_list, [cv.string], vol.Length(min=1, max=2_000))

COMMANDS: tuple[Command, ...] = (
    Command(websocket="overview", fields={}, run=_overview, prepare=_ha_places),
    Command(websocket="residents/list", run=_residents_list, reads=True, fields={
        vol.Optional("query", default=""): cv.string,
        vol.Optional("offset", default=0): vol.All(vol.Coerce(int), vol.Range(min=0)),
        vol.Optional("limit", default=50): PAGE_LIMIT,
    }),
    Command(websocket="residents/get", fields=_RESIDENT_ID, run=_residents_get, reads=True),
    Command(service="add_resident", websocket="residents/add", run=_add_resident, changes=True, fields={
        **_RESIDENT_ID, vol.Required("full_name"): cv.string, **RESIDENT_FIELDS,
    }),
    Command(service="update_resident", websocket="residents/update", run=_update_resident, changes=True, fields={
        **_RESIDENT_ID,
        vol.Optional("full_name"): cv.string,
        vol.Optional("status"): vol.In([s.value for s in ResidentStatus]),
        **RESIDENT_FIELDS,
    }),
    Command(service="remove_resident", websocket="residents/erase", fields=_RESIDENT_ID, run=_erase_resident,
            changes=True),
    Command(service="record_consent", websocket="consent/record", run=_record_consent, changes=True, fields={
        **_RESIDENT_ID, vol.Required("scope"): cv.string, vol.Optional("guardian"): OPTIONAL_TEXT,
    }),
    Command(service="withdraw_consent", websocket="consent/withdraw", fields=_RESIDENT_ID, run=_withdraw_consent,
            changes=True),
    Command(websocket="faces/check", fields=PHOTO_FIELDS, async_run=_check_photo),
    Command(websocket="faces/review", run=_review_faces, locked=False, fields={
        **_RESIDENT_ID, vol.Required("upload_ids"): _UPLOAD_IDS,
    }),
    Command(websocket="faces/remove", run=_remove_face_photo, locked=False, fields={
        **_RESIDENT_ID, vol.Required("upload_id"): cv.string,
    }),
    Command(websocket="faces/enrol", run=_enrol_checked, locked=False, changes=True, fields={
        **_RESIDENT_ID, vol.Required("upload_ids"): _UPLOAD_IDS,
        vol.Optional("enrol_anyway", default=[]): vol.All(cv.ensure_list, [cv.string], vol.Length(max=2_000)),
    }),
    Command(service="enrol_face", run=_enrol_face, locked=False, changes=True, fields={
        **_RESIDENT_ID, vol.Required("photos"): vol.All(cv.ensure_list, [cv.string], vol.Length(min=1, max=20)),
        vol.Optional("enrol_anyway", default=False): cv.boolean,
    }),
    Command(service="verify_at_gate", fields={vol.Required("gate"): cv.entity_id}, async_run=_verify_at_gate),
    Command(service="set_face_assurance", websocket="gates/face_assurance", async_run=_set_face_assurance,
            changes=True, fields={
                vol.Required("gate"): cv.entity_id,
                vol.Required("level"): vol.In(FACE_ASSURANCE_LEVELS),
                vol.Optional("window_level"): vol.Any(None, vol.In(FACE_ASSURANCE_LEVELS)),
                vol.Optional("window_start"): vol.Any(None, cv.time),
                vol.Optional("window_end"): vol.Any(None, cv.time),
            }),
    Command(service="add_card", websocket="cards/add", run=_add_card, changes=True, fields={
        **_RESIDENT_ID, vol.Required("card_number"): cv.string,
    }),
    Command(service="revoke_card", websocket="cards/revoke", fields={vol.Required("card_id"): cv.string},
            run=_revoke_card, changes=True, returns=False),
    Command(service="set_pin", websocket="pin/set", run=_set_pin, changes=True, fields={
        **_RESIDENT_ID, vol.Required("pin"): cv.string, vol.Optional("keypad_code"): cv.string,
    }),
    Command(service="revoke_pin", websocket="pin/revoke", fields=_RESIDENT_ID, run=_revoke_pin, changes=True,
            returns=False),
    Command(websocket="passes/list", run=_passes_list, reads=True,
            fields={vol.Optional("include_inactive", default=False): cv.boolean}),
    Command(service="issue_visitor_pass", websocket="passes/issue", run=_issue_pass, prepare=_lock_doors,
            changes=True, fields={
                vol.Required("visitor_name"): cv.string,
                vol.Required("issued_by"): cv.string,
                vol.Required("doors"): DOORS,
                vol.Optional("valid_from"): OPTIONAL_DATETIME,
                vol.Required("valid_until"): AWARE_DATETIME,
                vol.Optional("max_uses", default=1): vol.All(vol.Coerce(int), vol.Range(min=1, max=1000)),
            }),
    Command(websocket="passes/qr", fields={vol.Required("pass_id"): cv.string}, run=_pass_qr, reads=True),
    Command(websocket="passes/card", fields={vol.Required("pass_id"): cv.string}, run=_pass_card, reads=True,
            prepare=_ha_places),
    Command(websocket="passes/link", fields={vol.Required("pass_id"): cv.string}, run=_pass_link, reads=True),
    Command(service="revoke_visitor_pass", websocket="passes/revoke", fields={vol.Required("pass_id"): cv.string},
            run=_revoke_pass, changes=True, returns=False),
    Command(service="add_access_rule", run=_add_rule, prepare=_lock_doors, changes=True, returns=False, fields={
        vol.Required("rule_id"): cv.string,
        vol.Required("name"): cv.string,
        vol.Required("doors"): DOORS,
        vol.Optional("weekdays", default=WEEKDAYS): vol.All(cv.ensure_list, [vol.In(WEEKDAYS)]),
        vol.Optional("start", default=time(0, 0)): cv.time,
        vol.Optional("end", default=time(0, 0)): cv.time,
        vol.Optional("on_holidays", default=True): cv.boolean,
        vol.Optional("everyone", default=False): cv.boolean,
        vol.Optional("residents", default=[]): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional("buildings", default=[]): vol.All(cv.ensure_list, [cv.string]),
    }),
    Command(service="remove_access_rule", websocket="rules/remove", fields={vol.Required("rule_id"): cv.string},
            run=_remove_rule, changes=True, returns=False),
    Command(websocket="rules/list", fields={}, run=_rules_list, reads=True, prepare=_ha_places),
    Command(websocket="access_log/list", fields={**FILTER_SCHEMA, **CURSOR_PAGE, **_LANGUAGE},
            async_run=_access_log_page, prepare=_ha_places),
    Command(websocket="cards/lookup", run=_card_lookup, reads=True,
            fields={vol.Required("card_number"): vol.All(cv.string, vol.Length(min=1, max=64))}),
    Command(websocket="access_log/export", fields=FILTER_SCHEMA, async_run=_access_log_export),
    Command(websocket="devices/list", fields={}, run=_devices, locked=False, prepare=_device_names),
    Command(websocket="devices/history", run=_history, locked=False, prepare=_device_names, fields={
        vol.Optional("days", default=7): vol.All(vol.Coerce(int), vol.Range(min=1, max=31)),
    }),
    Command(websocket="problems/list", run=_problems, locked=False, prepare=_device_names, fields={
        vol.Optional("unresolved", default=False): cv.boolean,
        vol.Optional("limit", default=50): PAGE_LIMIT,
    }),
    Command(service="acknowledge_device_problem", websocket="problems/acknowledge", async_run=_acknowledge_problem,
            prepare=_device_names, fields={
                vol.Required("problem_id"): vol.All(vol.Coerce(int), vol.Range(min=1)),
                vol.Required("note"): vol.All(cv.string, vol.Length(min=1, max=500)),
            }),
    Command(websocket="alarms/list", run=_alarms, locked=False, prepare=_device_names, fields={
        vol.Optional("include_closed", default=False): cv.boolean,
        vol.Optional("limit", default=100): PAGE_LIMIT,
    }),
    Command(service="close_alarm", websocket="alarms/close", async_run=_close_alarm, prepare=_device_names,
            fields={
                vol.Required("problem_id"): vol.All(vol.Coerce(int), vol.Range(min=1)),
                vol.Optional("note"): vol.Any(None, vol.All(cv.string, vol.Length(max=500))),
            }),
    Command(websocket="reports/list", run=_reports, locked=False,
            fields={vol.Optional("limit", default=12): vol.All(vol.Coerce(int), vol.Range(min=1, max=104))}),
    Command(websocket="uplink/status", fields={}, async_run=_uplink_status),
    Command(websocket="audit/list", fields=CURSOR_PAGE, run=_audit_list, locked=False, prepare=_ha_places),
    Command(websocket="audit/verify", fields={vol.Optional("upstream_head"): vol.Any(None, _upstream_head)},
            run=_audit_verify, locked=False),
    Command(websocket="import/photo", fields=PHOTO_FIELDS, async_run=_check_photo),
    Command(websocket="import/commit", run=_import_commit, locked=False, changes=True, fields={
        vol.Required("csv"): vol.All(cv.string, vol.Length(min=1, max=5_000_000)),
        vol.Optional("upload_ids", default=[]): vol.All(cv.ensure_list, [cv.string], vol.Length(max=20_000)),
        vol.Optional("dry_run", default=False): cv.boolean,
    }),
)

# The vehicle registry's commands live beside their module (imported last: they build on the types above).
# The add-resident flow's and a resident page's commands, likewise.
from .resident_commands import RESIDENT_COMMANDS  # noqa: E402
from .vehicle_commands import VEHICLE_COMMANDS  # noqa: E402

COMMANDS = (*COMMANDS, *VEHICLE_COMMANDS, *RESIDENT_COMMANDS)
