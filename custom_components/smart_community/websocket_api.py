"""Websocket commands behind the property managers' panel (administrators only).

Each command checks that the user is an administrator (``unauthorized`` otherwise), validates its fields with a
schema (``invalid_format``), and hands the work to the hub library in the executor. The library validates before
it writes, so a refused command (``invalid_input`` / ``not_found``) changes nothing. The command list and the
results are documented in docs/panel.md.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import voluptuous as vol
from homeassistant.auth.models import User
from homeassistant.components import websocket_api
from homeassistant.components.http.auth import async_sign_path
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import WebSocketCommandHandler
from homeassistant.components.websocket_api.decorators import async_response, require_admin, websocket_command
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.util import dt as dt_util
from yarl import URL

from hub.exceptions import HubError, NotFoundError
from hub.journal import AccessLogFilter
from hub.residents.bulk_import import PhotoCheck
from hub.residents.models import Resident, ResidentStatus

from .community import CommunityRuntimeData, erase_resident, loaded_community
from .const import DOMAIN, SIGNAL_COMMUNITY_CHANGED
from .health import CONF_TARGET, DEFAULT_TARGET

PREFIX = f"{DOMAIN}/"
MAX_PHOTO_BYTES = 3 * 1024 * 1024
EXPORT_URL = "/api/smart_community/access_log.csv"
EXPORT_VALID_FOR = timedelta(minutes=5)
FILTER_FIELDS = ("since", "until", "door", "resident_id", "result")
# A page of a listing: at most 500 rows, 50 unless asked.
PAGE_LIMIT = vol.All(vol.Coerce(int), vol.Range(min=1, max=500))
# Newest first, from a cursor: the ``seq`` the previous page ended at.
_CURSOR_PAGE: dict[Any, Any] = {
    vol.Optional("before"): vol.Any(None, vol.All(vol.Coerce(int), vol.Range(min=1))),
    vol.Optional("limit", default=50): PAGE_LIMIT,
}


@dataclass(frozen=True)
class Context:
    """Who is acting and on which community."""

    hass: HomeAssistant
    entry: ConfigEntry[CommunityRuntimeData]
    runtime: CommunityRuntimeData
    user: User
    refresh_token_id: str | None

    @property
    def actor(self) -> str:
        """The audit log's name for the user."""
        return f"{self.user.name} ({self.user.id})"


Handler = Callable[[Context, dict[str, Any]], Any]
COMMANDS: list[WebSocketCommandHandler] = []


def _aware(value: datetime) -> datetime:
    """A time without an offset means Home Assistant's time zone."""
    if value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt_util.get_default_time_zone())


def _optional_time(value: datetime | None) -> datetime | None:
    return None if value is None else _aware(value)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


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


def command(name: str, schema: Mapping[Any, Any], *, blocking: bool = True, locked: bool = True,
            changes: bool = False) -> Callable[[Handler], Handler]:
    """Register ``smart_community/<name>``: admin check, schema, community lookup, errors, executor.

    ``blocking`` handlers run in the executor, holding the community's lock when ``locked``; ``changes``
    tells the integration's entities to refresh afterwards.
    """

    def decorate(func: Handler) -> Handler:
        @require_admin
        @websocket_command({vol.Required("type"): PREFIX + name, **schema})
        @async_response
        async def handler(hass: HomeAssistant, connection: ActiveConnection,
                          msg: dict[str, Any]) -> None:
            entry = loaded_community(hass)
            if entry is None:
                connection.send_error(msg["id"], "no_community", "No community hub is set up in Home Assistant.")
                return
            assert connection.user is not None  # require_admin
            ctx = Context(hass, entry, entry.runtime_data, connection.user, connection.refresh_token_id)
            data = {k: v for k, v in msg.items() if k not in ("id", "type")}
            try:
                if not blocking:
                    result = await func(ctx, data)
                elif locked:
                    community = ctx.runtime.community
                    result = await hass.async_add_executor_job(community.call, func, ctx, data)
                else:
                    result = await hass.async_add_executor_job(func, ctx, data)
            except NotFoundError as err:
                connection.send_error(msg["id"], "not_found", str(err))
                return
            except HubError as err:
                connection.send_error(msg["id"], "invalid_input", str(err))
                return
            if changes:
                async_dispatcher_send(hass, SIGNAL_COMMUNITY_CHANGED)
            connection.send_result(msg["id"], result)

        COMMANDS.append(handler)
        return func

    return decorate


@callback
def async_setup_websocket(hass: HomeAssistant) -> None:
    """Register every panel command."""
    for handler in COMMANDS:
        websocket_api.async_register_command(hass, handler)


# -- serialisers -------------------------------------------------------------------------------------------------


def resident_dict(ctx: Context, resident: Resident) -> dict[str, Any]:
    """A resident as the panel shows it (blocking; never a PIN, a full card number or a template)."""
    registry = ctx.runtime.community.registry
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
        },
        "faces": registry.faces.template_count(resident.resident_id),
        "cards": [
            {"card_id": card.card_id, "hint": card.hint, "added_at": _iso(card.added_at)}
            for card in registry.credentials.list_cards(resident.resident_id) if card.revoked_at is None
        ],
        "has_pin": registry.credentials.has_pin(resident.resident_id),
    }


def _resident(ctx: Context, resident_id: str) -> dict[str, Any]:
    return resident_dict(ctx, ctx.runtime.community.registry.residents.get_resident(resident_id))


# -- overview and residents --------------------------------------------------------------------------------------


@command("overview", {})
def _overview(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    community = ctx.runtime.community
    summary = community.summary()
    gates = sorted(ctx.runtime.face_doors)
    return {
        "title": ctx.entry.title,
        "residents": summary["residents"],
        "enrolled_faces": summary["enrolled_faces"],
        "doors": [{"door_id": d.door_id, "name": d.name, "face": d.door_id in ctx.runtime.face_doors}
                  for d in community.access_config.list_doors()],
        "gates": gates,
    }


_RESIDENT_FIELDS: dict[Any, Any] = {
    vol.Optional("household"): vol.Any(None, cv.string),
    vol.Optional("building"): vol.Any(None, cv.string),
    vol.Optional("unit"): vol.Any(None, cv.string),
    vol.Optional("valid_from"): vol.Any(None, cv.datetime),
    vol.Optional("valid_until"): vol.Any(None, cv.datetime),
    vol.Optional("is_minor"): cv.boolean,
    vol.Optional("guardian"): vol.Any(None, cv.string),
}


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        k: data[k] for k in ("household", "building", "unit", "is_minor", "guardian") if k in data
    }
    for key in ("valid_from", "valid_until"):
        if key in data:
            fields[key] = _optional_time(data[key])
    return fields


@command("residents/list", {
    vol.Optional("query", default=""): cv.string,
    vol.Optional("offset", default=0): vol.All(vol.Coerce(int), vol.Range(min=0)),
    vol.Optional("limit", default=50): PAGE_LIMIT,
})
def _residents_list(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    words = data["query"].casefold().split()
    residents = ctx.runtime.community.registry.residents.list_residents()

    def matches(r: Resident) -> bool:
        text = " ".join(filter(None, (r.resident_id, r.full_name, r.household, r.building, r.unit))).casefold()
        return all(word in text for word in words)

    found = sorted((r for r in residents if matches(r)), key=lambda r: (r.full_name.casefold(), r.resident_id))
    page = found[data["offset"]: data["offset"] + data["limit"]]
    return {"total": len(found), "residents": [resident_dict(ctx, r) for r in page]}


@command("residents/get", {vol.Required("resident_id"): cv.string})
def _residents_get(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    return _resident(ctx, data["resident_id"])


@command("residents/add", {
    vol.Required("resident_id"): cv.string, vol.Required("full_name"): cv.string, **_RESIDENT_FIELDS,
}, changes=True)
def _residents_add(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    registry = ctx.runtime.community.registry
    resident = registry.residents.add_resident(ctx.actor, data["resident_id"], data["full_name"], **_fields(data))
    return resident_dict(ctx, resident)


@command("residents/update", {
    vol.Required("resident_id"): cv.string,
    vol.Optional("full_name"): cv.string,
    vol.Optional("status"): vol.In([s.value for s in ResidentStatus]),
    **_RESIDENT_FIELDS,
}, changes=True)
def _residents_update(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    fields = _fields(data)
    if "full_name" in data:
        fields["full_name"] = data["full_name"]
    if "status" in data:
        fields["status"] = ResidentStatus(data["status"])
    ctx.runtime.community.registry.residents.update_resident(ctx.actor, data["resident_id"], **fields)
    return _resident(ctx, data["resident_id"])


@command("residents/erase", {vol.Required("resident_id"): cv.string}, changes=True)
def _residents_erase(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    return erase_resident(ctx.runtime, ctx.actor, data["resident_id"])


@command("consent/record", {
    vol.Required("resident_id"): cv.string, vol.Required("scope"): cv.string,
    vol.Optional("guardian"): vol.Any(None, cv.string),
}, changes=True)
def _consent_record(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    ctx.runtime.community.registry.consents.record_consent(
        ctx.actor, data["resident_id"], scope=data["scope"], given_at=dt_util.utcnow(),
        guardian=data.get("guardian") or None,
    )
    return _resident(ctx, data["resident_id"])


@command("consent/withdraw", {vol.Required("resident_id"): cv.string}, changes=True)
def _consent_withdraw(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    ctx.runtime.community.registry.consents.withdraw_consent(ctx.actor, data["resident_id"],
                                                             withdrawn_at=dt_util.utcnow())
    return _resident(ctx, data["resident_id"])


# -- faces -------------------------------------------------------------------------------------------------------

_PHOTO_SCHEMA: dict[Any, Any] = {
    vol.Required("filename"): vol.All(cv.string, vol.Length(min=1, max=255)),
    vol.Required("photo"): _photo,
}


async def _check_photo(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """Run the quality check and the encoder on one photo; keep only the verdict and template, for this user."""
    check: PhotoCheck = await ctx.hass.async_add_executor_job(
        ctx.runtime.faces.check_photo, data["filename"], data["photo"]
    )
    upload_id = ctx.runtime.staging.put(ctx.user.id, check)
    return {"upload_id": upload_id, "filename": check.filename, "accepted": check.accepted, "reason": check.reason}


command("faces/check", _PHOTO_SCHEMA, blocking=False)(_check_photo)
command("import/photo", _PHOTO_SCHEMA, blocking=False)(_check_photo)

_UPLOAD_IDS = vol.All(cv.ensure_list, [cv.string], vol.Length(min=1, max=2_000))


@command("faces/enrol", {vol.Required("resident_id"): cv.string, vol.Required("upload_ids"): _UPLOAD_IDS},
         changes=True, locked=False)
def _faces_enrol(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    checks = ctx.runtime.staging.take(ctx.user.id, data["upload_ids"])
    enrolled = ctx.runtime.faces.enrol_checked(ctx.actor, data["resident_id"], checks)
    ctx.runtime.staging.discard(data["upload_ids"])
    return {"enrolled": enrolled, "resident": ctx.runtime.community.call(_resident, ctx, data["resident_id"])}


# -- credentials and visitor passes ------------------------------------------------------------------------------


@command("cards/add", {vol.Required("resident_id"): cv.string, vol.Required("card_number"): cv.string},
         changes=True)
def _cards_add(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    card = ctx.runtime.community.registry.credentials.add_card(ctx.actor, data["resident_id"], data["card_number"])
    return {"card_id": card.card_id, "hint": card.hint}


@command("cards/revoke", {vol.Required("card_id"): cv.string}, changes=True)
def _cards_revoke(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    ctx.runtime.community.registry.credentials.revoke_card(ctx.actor, data["card_id"])
    return {}


@command("pin/set", {vol.Required("resident_id"): cv.string, vol.Required("pin"): cv.string}, changes=True)
def _pin_set(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    ctx.runtime.community.registry.credentials.set_pin(ctx.actor, data["resident_id"], data["pin"])
    return {}


@command("pin/revoke", {vol.Required("resident_id"): cv.string}, changes=True)
def _pin_revoke(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    ctx.runtime.community.registry.credentials.revoke_pin(ctx.actor, data["resident_id"])
    return {}


@command("passes/list", {vol.Optional("include_inactive", default=False): cv.boolean})
def _passes_list(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    now = dt_util.utcnow()
    passes = []
    for p in ctx.runtime.community.registry.passes.list_passes():
        active = p.revoked_at is None and p.valid_from <= now < p.valid_until and p.uses < p.max_uses
        if not active and not data["include_inactive"]:
            continue
        passes.append({
            "pass_id": p.pass_id, "visitor_name": p.visitor_name, "issued_by": p.issued_by,
            "doors": sorted(p.door_ids), "valid_from": _iso(p.valid_from), "valid_until": _iso(p.valid_until),
            "max_uses": p.max_uses, "uses": p.uses, "revoked": p.revoked_at is not None, "active": active,
        })
    passes.sort(key=lambda p: (not p["active"], p["valid_until"] or ""))
    return {"passes": passes}


@command("passes/issue", {
    vol.Required("visitor_name"): cv.string,
    vol.Required("issued_by"): cv.string,
    vol.Required("doors"): vol.All(cv.ensure_list, [cv.string], vol.Length(min=1)),
    vol.Optional("valid_from"): vol.Any(None, cv.datetime),
    vol.Required("valid_until"): cv.datetime,
    vol.Optional("max_uses", default=1): vol.All(vol.Coerce(int), vol.Range(min=1, max=1000)),
}, changes=True)
def _passes_issue(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    issued = ctx.runtime.community.registry.passes.issue_pass(
        ctx.actor, data["issued_by"], data["visitor_name"], data["doors"],
        valid_from=_optional_time(data.get("valid_from")) or dt_util.utcnow(),
        valid_until=_aware(data["valid_until"]), max_uses=data["max_uses"],
    )
    return {
        "pass_id": issued.visitor_pass.pass_id,
        "valid_until": issued.visitor_pass.valid_until.isoformat(),
        "qr_png_base64": base64.b64encode(issued.qr_png).decode("ascii"),
    }


@command("passes/qr", {vol.Required("pass_id"): cv.string})
def _passes_qr(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    png = ctx.runtime.community.registry.passes.pass_qr_png(data["pass_id"])
    return {"pass_id": data["pass_id"], "qr_png_base64": base64.b64encode(png).decode("ascii")}


@command("passes/revoke", {vol.Required("pass_id"): cv.string}, changes=True)
def _passes_revoke(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    ctx.runtime.community.registry.passes.revoke_pass(ctx.actor, data["pass_id"])
    return {}


# -- access log --------------------------------------------------------------------------------------------------

FILTER_SCHEMA: dict[Any, Any] = {
    vol.Optional("since"): vol.Any(None, cv.datetime),
    vol.Optional("until"): vol.Any(None, cv.datetime),
    vol.Optional("door"): vol.Any(None, cv.string),
    vol.Optional("resident_id"): vol.Any(None, cv.string),
    vol.Optional("result"): vol.Any(None, vol.In(["granted", "denied"])),
}


def access_filter(data: Mapping[str, Any]) -> AccessLogFilter:
    """The access-log filter from a command's (or the export URL's) fields; empty values mean no filter."""
    return AccessLogFilter(
        since=_optional_time(data.get("since")), until=_optional_time(data.get("until")),
        door=data.get("door") or None, resident_id=data.get("resident_id") or None,
        result=data.get("result") or None,
    )


@command("access_log/list", {
    **FILTER_SCHEMA, **_CURSOR_PAGE,
}, locked=False)
def _access_log(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    journal = ctx.runtime.uplink.journal
    if journal is None:
        return {"events": [], "next_before": None}
    page = journal.access_log(access_filter(data), before=data.get("before"), limit=data["limit"])
    community = ctx.runtime.community
    doors = {d.door_id: d.name for d in community.call(community.access_config.list_doors)}
    names = community.call(_resident_names, ctx, {r.resident_id for r in page.rows if r.resident_id})
    return {
        "events": [
            {"seq": r.seq, "occurred_at": r.occurred_at.isoformat(), "door": r.door,
             "door_name": doors.get(r.door or "", r.door), "result": r.result, "reason": r.reason,
             "credential": r.credential, "resident_id": r.resident_id,
             "resident_name": names.get(r.resident_id or "")}
            for r in page.rows
        ],
        "next_before": page.next_before,
    }


def _resident_names(ctx: Context, resident_ids: set[str]) -> dict[str, str]:
    residents = ctx.runtime.community.registry.residents
    names = {}
    for resident_id in resident_ids:
        try:
            names[resident_id] = residents.get_resident(resident_id).full_name
        except NotFoundError:
            continue  # erased since: the log keeps only the id
    return names


async def _access_log_export(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """A signed, short-lived URL of the CSV download (see panel.AccessLogExportView)."""
    query = {}
    for key in FILTER_FIELDS:
        value = data.get(key)
        if isinstance(value, datetime):
            query[key] = _aware(value).isoformat()
        elif value:
            query[key] = str(value)
    path = str(URL(EXPORT_URL).with_query(query))
    url = async_sign_path(ctx.hass, path, EXPORT_VALID_FOR, refresh_token_id=ctx.refresh_token_id)
    stamp = dt_util.now().strftime("%Y%m%d-%H%M")
    return {"url": url, "filename": f"access-log-{stamp}.csv"}


command("access_log/export", FILTER_SCHEMA, blocking=False)(_access_log_export)


# -- devices, reports, uplink, audit -----------------------------------------------------------------------------


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 2)


@command("devices/list", {}, locked=False)
def _devices(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    store = ctx.runtime.health.store
    target = float(ctx.entry.options.get(CONF_TARGET, DEFAULT_TARGET))
    if store is None:
        return {"target_percent": target, "community": {"day_percent": None, "week_percent": None}, "devices": []}
    now = dt_util.utcnow()
    local = dt_util.as_local(now)
    tz = ctx.hass.config.time_zone
    day = store.day_rates(local.date(), tz, now=now)
    week = store.week_rates((local - timedelta(days=local.weekday())).date(), tz, now=now)
    day_by = {d.device_id: d.rate for d in day.devices}
    week_by = {d.device_id: d.rate for d in week.devices}
    return {
        "target_percent": target,
        "community": {"day_percent": _percent(day.community.rate), "week_percent": _percent(week.community.rate)},
        "devices": [
            {"device_id": s.device_id, "kind": str(s.kind), "online": s.online, "since": _iso(s.since),
             "day_percent": _percent(day_by.get(s.device_id)), "week_percent": _percent(week_by.get(s.device_id))}
            for s in store.statuses()
        ],
    }


@command("reports/list", {vol.Optional("limit", default=12): vol.All(vol.Coerce(int), vol.Range(min=1, max=104))},
         locked=False)
def _reports(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    store = ctx.runtime.health.store
    if store is None:
        return {"reports": []}
    return {"reports": [report.to_dict() for report in store.latest_reports(data["limit"])]}


async def _uplink_status(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    from .uplink import CONF_UPLINK_PROFILE, CONF_UPLINK_URL, PROFILE_JSON, field_policy

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


def _host(url: str | None) -> str | None:
    """Only the platform's host is shown (a URL may carry credentials or tokens)."""
    if not url:
        return None
    return URL(url).host


command("uplink/status", {}, blocking=False)(_uplink_status)


@command("audit/list", _CURSOR_PAGE, locked=False)
def _audit_list(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    journal = ctx.runtime.uplink.journal
    if journal is None:
        return {"entries": [], "next_before": None}
    entries = journal.audit.entries_desc(before=data.get("before"), limit=data["limit"])
    return {
        "entries": [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
                     "details": dict(e.details)} for e in entries],
        "next_before": entries[-1].seq if len(entries) == data["limit"] and entries[-1].seq > 1 else None,
    }


@command("audit/verify", {}, locked=False)
def _audit_verify(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    journal = ctx.runtime.uplink.journal
    if journal is None:
        return {"ok": True, "checked": 0, "message": "The audit log is empty."}
    result = journal.audit.verify()
    if result.ok:
        message = f"The hash chain is intact: {result.checked} entries checked."
    else:
        message = f"The hash chain is broken at entry {result.first_bad_seq}: {result.problem}"
    return {"ok": result.ok, "checked": result.checked, "first_bad_seq": result.first_bad_seq, "message": message}


# -- bulk import -------------------------------------------------------------------------------------------------


@command("import/commit", {
    vol.Required("csv"): vol.All(cv.string, vol.Length(min=1, max=5_000_000)),
    vol.Optional("upload_ids", default=[]): vol.All(cv.ensure_list, [cv.string], vol.Length(max=20_000)),
    vol.Optional("dry_run", default=False): cv.boolean,
}, changes=True, locked=False)
def _import_commit(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    checks = ctx.runtime.staging.take(ctx.user.id, data["upload_ids"])
    report = ctx.runtime.community.import_residents(
        ctx.actor, data["csv"], {check.filename: check for check in checks}, dry_run=data["dry_run"]
    )
    if report.imported:
        ctx.runtime.staging.discard(data["upload_ids"])
    return report.to_dict()
