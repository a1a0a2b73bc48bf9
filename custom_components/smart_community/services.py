"""The integration's actions (admin only): residents, consent, credentials, visitor passes, access rules.

Every action acts on the loaded community entry. Library validation errors become ``ServiceValidationError``s
that say what is wrong; the library validates before it writes, so a refused call changes nothing.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Coroutine
from datetime import datetime, time
from pathlib import Path
from typing import Any

import voluptuous as vol
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.exceptions import ServiceValidationError, Unauthorized, UnknownUser
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.util import dt as dt_util

from hub.access.models import AccessRule
from hub.community import Community
from hub.exceptions import HubError, InvalidInputError, NotFoundError
from hub.residents.models import ResidentStatus

from .community import erase_resident, loaded_community
from .const import DOMAIN, SIGNAL_COMMUNITY_CHANGED
from .gates import CONF_GATES, CONF_LOCK, Gate, async_run_gate

ATTR_RESIDENT_ID = "resident_id"
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

_RESIDENT_FIELDS: dict[vol.Marker, Any] = {
    vol.Optional("household"): cv.string,
    vol.Optional("building"): cv.string,
    vol.Optional("unit"): cv.string,
    vol.Optional("valid_from"): cv.datetime,
    vol.Optional("valid_until"): cv.datetime,
    vol.Optional("is_minor"): cv.boolean,
    vol.Optional("guardian"): cv.string,
}

SCHEMAS: dict[str, vol.Schema] = {
    "add_resident": vol.Schema(
        {vol.Required(ATTR_RESIDENT_ID): cv.string, vol.Required("full_name"): cv.string, **_RESIDENT_FIELDS}
    ),
    "update_resident": vol.Schema(
        {
            vol.Required(ATTR_RESIDENT_ID): cv.string,
            vol.Optional("full_name"): cv.string,
            vol.Optional("status"): vol.In([s.value for s in ResidentStatus]),
            **_RESIDENT_FIELDS,
        }
    ),
    "remove_resident": vol.Schema({vol.Required(ATTR_RESIDENT_ID): cv.string}),
    "record_consent": vol.Schema(
        {vol.Required(ATTR_RESIDENT_ID): cv.string, vol.Required("scope"): cv.string,
         vol.Optional("guardian"): cv.string}
    ),
    "withdraw_consent": vol.Schema({vol.Required(ATTR_RESIDENT_ID): cv.string}),
    "add_card": vol.Schema({vol.Required(ATTR_RESIDENT_ID): cv.string, vol.Required("card_number"): cv.string}),
    "revoke_card": vol.Schema({vol.Required("card_id"): cv.string}),
    "set_pin": vol.Schema({vol.Required(ATTR_RESIDENT_ID): cv.string, vol.Required("pin"): cv.string}),
    "revoke_pin": vol.Schema({vol.Required(ATTR_RESIDENT_ID): cv.string}),
    "issue_visitor_pass": vol.Schema(
        {
            vol.Required("issued_by"): cv.string,
            vol.Required("visitor_name"): cv.string,
            vol.Required("doors"): vol.All(cv.ensure_list, [cv.string]),
            vol.Optional("valid_from"): cv.datetime,
            vol.Required("valid_until"): cv.datetime,
            vol.Optional("max_uses", default=1): vol.All(vol.Coerce(int), vol.Range(min=1, max=1000)),
        }
    ),
    "revoke_visitor_pass": vol.Schema({vol.Required("pass_id"): cv.string}),
    "add_access_rule": vol.Schema(
        {
            vol.Required("rule_id"): cv.string,
            vol.Required("name"): cv.string,
            vol.Required("doors"): vol.All(cv.ensure_list, [cv.string]),
            vol.Optional("weekdays", default=WEEKDAYS): vol.All(cv.ensure_list, [vol.In(WEEKDAYS)]),
            vol.Optional("start", default=time(0, 0)): cv.time,
            vol.Optional("end", default=time(0, 0)): cv.time,
            vol.Optional("on_holidays", default=True): cv.boolean,
            vol.Optional("everyone", default=False): cv.boolean,
            vol.Optional("residents", default=[]): vol.All(cv.ensure_list, [cv.string]),
            vol.Optional("buildings", default=[]): vol.All(cv.ensure_list, [cv.string]),
        }
    ),
    "remove_access_rule": vol.Schema({vol.Required("rule_id"): cv.string}),
}


def _aware(value: datetime) -> datetime:
    """Service fields may be naive: they mean Home Assistant's time zone."""
    if value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt_util.get_default_time_zone())


async def _admin_actor(hass: HomeAssistant, call: ServiceCall) -> str:
    """Who is acting, for the audit log; refuses anyone but an administrator (automations act as the system)."""
    user_id = call.context.user_id
    if user_id is None:
        return "system"
    user = await hass.auth.async_get_user(user_id)
    if user is None:
        raise UnknownUser(context=call.context)
    if not user.is_admin:
        raise Unauthorized(context=call.context)
    return f"{user.name} ({user.id})"


def _community(hass: HomeAssistant) -> Community:
    entry = loaded_community(hass)
    if entry is None:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_community")
    return entry.runtime_data.community


def _door_ids(hass: HomeAssistant, doors: list[str]) -> list[str]:
    """Doors are given as their lock entities (lock.gate_1) or as access-control door ids."""
    registry = er.async_get(hass)
    result = []
    for door in doors:
        if door.startswith("lock."):
            entity = registry.async_get(door)
            if entity is None or entity.platform != DOMAIN or not entity.unique_id.endswith("-lock"):
                raise ServiceValidationError(
                    translation_domain=DOMAIN, translation_key="unknown_door", translation_placeholders={"door": door}
                )
            result.append(entity.unique_id.removesuffix("-lock"))
        else:
            result.append(door)
    return result


def _resident_fields(data: dict[str, Any]) -> dict[str, Any]:
    plain = ("household", "building", "unit", "is_minor", "guardian")
    fields: dict[str, Any] = {key: data[key] for key in plain if key in data}
    for key in ("valid_from", "valid_until"):
        if key in data:
            fields[key] = _aware(data[key])
    return fields


Handler = Callable[[HomeAssistant, Community, str, dict[str, Any]], Any]


def _add_resident(hass: HomeAssistant, c: Community, actor: str, d: dict[str, Any]) -> ServiceResponse:
    resident = c.registry.residents.add_resident(actor, d[ATTR_RESIDENT_ID], d["full_name"], **_resident_fields(d))
    return {"resident_id": resident.resident_id}


def _update_resident(hass: HomeAssistant, c: Community, actor: str, d: dict[str, Any]) -> ServiceResponse:
    fields = _resident_fields(d)
    if "full_name" in d:
        fields["full_name"] = d["full_name"]
    if "status" in d:
        fields["status"] = ResidentStatus(d["status"])
    c.registry.residents.update_resident(actor, d[ATTR_RESIDENT_ID], **fields)
    return None


def _remove_resident(hass: HomeAssistant, c: Community, actor: str, d: dict[str, Any]) -> ServiceResponse:
    entry = loaded_community(hass)
    if entry is None:
        raise NotFoundError("the community hub is not loaded")
    return erase_resident(entry.runtime_data, actor, d[ATTR_RESIDENT_ID])


def _record_consent(hass: HomeAssistant, c: Community, actor: str, d: dict[str, Any]) -> ServiceResponse:
    consent = c.registry.consents.record_consent(
        actor, d[ATTR_RESIDENT_ID], scope=d["scope"], given_at=dt_util.utcnow(), guardian=d.get("guardian")
    )
    return {"consent_id": getattr(consent, "consent_id", None)}


def _withdraw_consent(hass: HomeAssistant, c: Community, actor: str, d: dict[str, Any]) -> ServiceResponse:
    c.registry.consents.withdraw_consent(actor, d[ATTR_RESIDENT_ID], withdrawn_at=dt_util.utcnow())
    return None


def _add_card(hass: HomeAssistant, c: Community, actor: str, d: dict[str, Any]) -> ServiceResponse:
    card = c.registry.credentials.add_card(actor, d[ATTR_RESIDENT_ID], d["card_number"])
    return {"card_id": card.card_id}


def _revoke_card(hass: HomeAssistant, c: Community, actor: str, d: dict[str, Any]) -> ServiceResponse:
    c.registry.credentials.revoke_card(actor, d["card_id"])
    return None


def _set_pin(hass: HomeAssistant, c: Community, actor: str, d: dict[str, Any]) -> ServiceResponse:
    c.registry.credentials.set_pin(actor, d[ATTR_RESIDENT_ID], d["pin"])
    return None


def _revoke_pin(hass: HomeAssistant, c: Community, actor: str, d: dict[str, Any]) -> ServiceResponse:
    c.registry.credentials.revoke_pin(actor, d[ATTR_RESIDENT_ID])
    return None


def _issue_pass(hass: HomeAssistant, c: Community, actor: str, d: dict[str, Any]) -> ServiceResponse:
    issued = c.registry.passes.issue_pass(
        actor,
        d["issued_by"],
        d["visitor_name"],
        d["door_ids"],
        valid_from=_aware(d["valid_from"]) if "valid_from" in d else dt_util.utcnow(),
        valid_until=_aware(d["valid_until"]),
        max_uses=d["max_uses"],
    )
    return {
        "pass_id": issued.visitor_pass.pass_id,
        "token": issued.token,
        "qr_png_base64": base64.b64encode(issued.qr_png).decode("ascii"),
        "valid_until": issued.visitor_pass.valid_until.isoformat(),
    }


def _revoke_pass(hass: HomeAssistant, c: Community, actor: str, d: dict[str, Any]) -> ServiceResponse:
    c.registry.passes.revoke_pass(actor, d["pass_id"])
    return None


def _add_rule(hass: HomeAssistant, c: Community, actor: str, d: dict[str, Any]) -> ServiceResponse:
    rule = AccessRule(
        rule_id=d["rule_id"],
        door_ids=frozenset(d["door_ids"]),
        weekdays=frozenset(WEEKDAYS.index(day) for day in d["weekdays"]),
        start=d["start"],
        end=d["end"],
        on_holidays=d["on_holidays"],
        applies_to_all=d["everyone"],
        resident_ids=frozenset(d["residents"]),
        buildings=frozenset(d["buildings"]),
    )
    c.access_config.add_rule(actor, rule, name=d["name"])
    return None


def _remove_rule(hass: HomeAssistant, c: Community, actor: str, d: dict[str, Any]) -> ServiceResponse:
    c.access_config.remove_rule(actor, d["rule_id"])
    return None


HANDLERS: dict[str, tuple[Handler, SupportsResponse]] = {
    "add_resident": (_add_resident, SupportsResponse.OPTIONAL),
    "update_resident": (_update_resident, SupportsResponse.NONE),
    "remove_resident": (_remove_resident, SupportsResponse.OPTIONAL),
    "record_consent": (_record_consent, SupportsResponse.NONE),
    "withdraw_consent": (_withdraw_consent, SupportsResponse.NONE),
    "add_card": (_add_card, SupportsResponse.OPTIONAL),
    "revoke_card": (_revoke_card, SupportsResponse.NONE),
    "set_pin": (_set_pin, SupportsResponse.NONE),
    "revoke_pin": (_revoke_pin, SupportsResponse.NONE),
    "issue_visitor_pass": (_issue_pass, SupportsResponse.OPTIONAL),
    "revoke_visitor_pass": (_revoke_pass, SupportsResponse.NONE),
    "add_access_rule": (_add_rule, SupportsResponse.NONE),
    "remove_access_rule": (_remove_rule, SupportsResponse.NONE),
}


def _make_service(name: str, handler: Handler) -> Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]:
    async def service(call: ServiceCall) -> ServiceResponse:
        hass = call.hass
        actor = await _admin_actor(hass, call)
        community = _community(hass)
        data = dict(call.data)
        if "doors" in data:
            data["door_ids"] = _door_ids(hass, data.pop("doors"))
        try:
            result = await hass.async_add_executor_job(community.call, handler, hass, community, actor, data)
        except HubError as err:
            raise _hub_error(err) from err
        async_dispatcher_send(hass, SIGNAL_COMMUNITY_CHANGED)
        return result if call.return_response else None

    service.__name__ = f"async_{name}"
    return service


def _hub_error(err: HubError) -> ServiceValidationError:
    key = "not_found" if isinstance(err, NotFoundError) else "invalid_input"
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders={"error": str(err)}
    )


def _read_photos(paths: list[str]) -> list[bytes]:
    photos = []
    for path in paths:
        try:
            photos.append(Path(path).read_bytes())
        except OSError as err:
            raise InvalidInputError(f"cannot read {path}: {err.strerror}") from err
    return photos


async def _enrol_face(call: ServiceCall) -> ServiceResponse:
    """Enrol a resident's face from photos on the Home Assistant host (allow-listed folders only)."""
    hass = call.hass
    actor = await _admin_actor(hass, call)
    entry = loaded_community(hass)
    if entry is None:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_community")
    paths: list[str] = call.data["photos"]
    for path in paths:
        if not hass.config.is_allowed_path(path):
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="path_not_allowed", translation_placeholders={"path": path}
            )
    faces = entry.runtime_data.faces
    try:
        photos = await hass.async_add_executor_job(_read_photos, paths)
        enrolment = await hass.async_add_executor_job(faces.enrol, actor, call.data[ATTR_RESIDENT_ID], photos)
    except HubError as err:
        raise _hub_error(err) from err
    async_dispatcher_send(hass, SIGNAL_COMMUNITY_CHANGED)
    return {
        "enrolled": len(enrolment.templates),
        "photos": [
            {"photo": path, "accepted": report.accepted, "reason": None if report.accepted else report.message}
            for path, report in zip(paths, enrolment.reports, strict=True)
        ],
    }


async def _verify_at_gate(call: ServiceCall) -> ServiceResponse:
    """Run the gate path now at a configured gate (as if someone stepped into its presence sensor)."""
    hass = call.hass
    await _admin_actor(hass, call)
    entry = loaded_community(hass)
    if entry is None:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_community")
    gates = {g[CONF_LOCK]: Gate.from_options(g) for g in entry.options.get(CONF_GATES, [])}
    gate = gates.get(call.data["gate"])
    if gate is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_a_gate",
            translation_placeholders={"gate": call.data["gate"]},
        )
    outcome = await async_run_gate(hass, entry.runtime_data, gate)
    if outcome is None:
        return {"decision": None, "message": "No face or visitor pass was seen at the gate."}
    decision = outcome.decision
    return {
        "decision": "granted" if decision.granted else "denied",
        "reason": decision.reason.value,
        "message": decision.message,
        "credential": decision.kind.value,
        "resident_id": decision.resident_id,
        "released": outcome.released,
    }


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register every action; only administrators may call them."""
    for name, (handler, supports_response) in HANDLERS.items():
        hass.services.async_register(
            DOMAIN, name, _make_service(name, handler), SCHEMAS[name], supports_response=supports_response
        )
    hass.services.async_register(
        DOMAIN, "enrol_face", _enrol_face,
        vol.Schema({vol.Required(ATTR_RESIDENT_ID): cv.string,
                    vol.Required("photos"): vol.All(cv.ensure_list, [cv.string], vol.Length(min=1, max=20))}),
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN, "verify_at_gate", _verify_at_gate, vol.Schema({vol.Required("gate"): cv.entity_id}),
        supports_response=SupportsResponse.OPTIONAL,
    )
