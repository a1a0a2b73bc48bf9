"""The community's journal and uplink in Home Assistant: every decision, door alarm, device status change and
manager action is journalled; the worker sends what the field policy allows to the county platform.

Decisions never wait on the uplink: the hub journals each decision in the decision's own transaction, on the
community's writer thread, and the worker is only woken. Alarms, device status changes and manager actions are
journalled on the same writer; this runtime's own connection only reads (the access log, the audit log).
Secrets (the HMAC secret, the GA/T 1400 password, the community key) are wrapped in
:class:`hub.uplink.Secret` and never logged.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util
from yarl import URL

from hub.community import Community
from hub.events import ManagerActionEvent
from hub.exceptions import StorageError
from hub.health import DeviceKind
from hub.journal import EventKind, Journal, PurgeResult, RetentionPolicy, open_journal_database, purge_periodically
from hub.uplink import (
    FieldOption,
    FieldPolicy,
    Gat1400Client,
    Gat1400Config,
    Gat1400Transport,
    JsonUplinkClient,
    LegalBasis,
    MqttConfig,
    MqttTransport,
    Secret,
    UplinkStatus,
    UplinkTransport,
    UplinkWorker,
)

from .const import DOMAIN
from .health import CONF_EVENTS_DAYS, DEFAULT_EVENTS_DAYS, async_report_device_status
from .push import UplinkStatusCoordinator

_LOGGER = logging.getLogger(__name__)

CONF_UPLINK_URL = "uplink_url"
CONF_UPLINK_PROFILE = "uplink_profile"
CONF_UPLINK_SECRET = "uplink_secret"
CONF_CA_FILE = "ca_file"
CONF_DEVICE_ID = "device_id"
CONF_GAT_USERNAME = "gat_username"
CONF_GAT_PASSWORD = "gat_password"
CONF_KEEPALIVE = "keepalive_s"
CONF_FIELD_OPTIONS = "field_options"
CONF_WITHHELD_FIELDS = "withheld_fields"  # default fields the operator keeps back (the plate, places' names)
# The uplink step's switch for places' names (stored as PLACE_NAME_FIELD in CONF_WITHHELD_FIELDS when off).
CONF_PLACE_NAMES_UPSTREAM = "place_names_upstream"
CONF_AUDIT_DAYS = "audit_days"
CONF_BACKLOG_LIMIT = "backlog_limit"
CONF_COMMUNITY_KEY = "community_key"
CONF_HUB_ID = "hub_id"
CONF_MQTT_TOPIC_PREFIX = "mqtt_topic_prefix"
CONF_CLIENT_CERT = "client_cert"
CONF_CLIENT_KEY = "client_key"
PROFILE_JSON = "json"
PROFILE_GAT1400 = "gat1400"
PROFILE_MQTT = "mqtt"
DEFAULT_MQTT_TOPIC_PREFIX = "county/0000/community/{hub_id}"
# URLs whose traffic anyone on the path can read: stored only after the options flow's warning, then a repair issue.
UNENCRYPTED_SCHEMES = ("http://", "mqtt://")
DEFAULT_BACKLOG_LIMIT = 10_000
REJECTIONS_FOR_REPAIR = 5
RECENT_ERRORS = 20
SECRET_OPTIONS = {CONF_UPLINK_SECRET, CONF_GAT_PASSWORD, CONF_COMMUNITY_KEY}


class UplinkRuntime:
    """The community's journal, and its uplink worker when an uplink is configured."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, db_path: Path, community: Community) -> None:
        self.hass = hass
        self.entry = entry
        self.db_path = db_path
        self.community = community
        self.journal: Journal | None = None
        self._conn: sqlite3.Connection | None = None
        self.worker: UplinkWorker | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._remove_listener: Callable[[], None] | None = None
        # The uplink entities follow the worker's status through this push coordinator.
        self.status_coordinator = UplinkStatusCoordinator(hass, entry)
        self.recent_errors: deque[tuple[datetime, str]] = deque(maxlen=RECENT_ERRORS)

    @property
    def status(self) -> UplinkStatus | None:
        """The worker's latest status (None: no uplink configured)."""
        return self.worker.status if self.worker is not None else None

    async def async_start(self) -> None:
        """Open the journal, start the worker and the retention job."""
        options = self.entry.options
        conn = self._conn = await self.hass.async_add_executor_job(open_journal_database, self.db_path)
        url = options.get(CONF_UPLINK_URL) or ""
        if url:
            self.worker = _make_worker(self.hass, self.entry, self.db_path, self.community)
        else:
            self.worker = None
        # Events, signatures and (GA/T 1400) credentials would cross the network readable by anyone on the path.
        _set_issue(self.hass, ISSUE_UNENCRYPTED, url.startswith(UNENCRYPTED_SCHEMES), {"host": URL(url).host or url})
        self.journal = Journal(conn, self.entry.data[CONF_HUB_ID], audit_keys=self.community.registry.keys.audit)
        writes = self.community.journal
        if writes is not None and self.worker is not None:
            writes.on_append = self.worker.wake
        policy = RetentionPolicy(
            events_days=int(options.get(CONF_EVENTS_DAYS, DEFAULT_EVENTS_DAYS)),
            audit_days=int(options.get(CONF_AUDIT_DAYS, 1095)),
        )
        community, reads = self.community, self.journal

        def purge() -> PurgeResult:
            # Retention deletes rows: a job on the writer, like every other write.
            return community.call((writes or reads).purge, policy)

        self._tasks.append(
            self.entry.async_create_background_task(
                self.hass,
                purge_periodically(purge, run_blocking=self.hass.async_add_executor_job),
                f"{DOMAIN} retention",
            )
        )
        if self.worker is not None:
            self._remove_listener = self.worker.events.subscribe(UplinkStatus, self._status_changed)
            await self.worker.start()

    async def async_stop(self) -> None:
        """Stop the worker and the retention job; close the journal."""
        for task in self._tasks:
            task.cancel()
        if self._remove_listener is not None:
            self._remove_listener()
        if self.worker is not None:
            await self.worker.stop()
        if self.journal is not None:
            await self.hass.async_add_executor_job(self.journal.close)
        elif self._conn is not None:
            await self.hass.async_add_executor_job(self._conn.close)

    def _status_changed(self, status: UplinkStatus) -> None:
        # The worker may report from its own executor thread.
        self.hass.loop.call_soon_threadsafe(self._async_status_changed, status)

    @callback
    def _async_status_changed(self, status: UplinkStatus) -> None:
        if status.last_error and (not self.recent_errors or self.recent_errors[-1][1] != status.last_error):
            self.recent_errors.append((status.updated_at, status.last_error))
        self.status_coordinator.async_set_updated_data(status)
        if status.last_success is not None or status.last_error is not None:
            # Not before the first attempt: an uplink with nothing sent yet is not "offline" in device health.
            async_report_device_status(self.hass, "uplink", DeviceKind.UPLINK, status.connected)
        limit = int(self.entry.options.get(CONF_BACKLOG_LIMIT, DEFAULT_BACKLOG_LIMIT))
        _set_issue(self.hass, "uplink_backlog", status.backlog > limit,
                   {"backlog": str(status.backlog), "limit": str(limit)})
        _set_issue(self.hass, "uplink_rejected", status.consecutive_rejections >= REJECTIONS_FOR_REPAIR,
                   {"count": str(status.consecutive_rejections), "error": status.last_error or ""})

    def record_manager_action(self, event: ManagerActionEvent) -> None:
        """Blocking, on the community's writer thread (a subscriber of its manager actions): the action into the
        hash-chained audit log, in the community's own journal."""
        writes = self.community.journal
        if writes is not None:
            self.community.call(writes.record_manager_action, event.actor, event.action, dict(event.details))

    def record(self, kind: EventKind, door: str | None, payload: Mapping[str, Any]) -> None:
        """Journal an event from the event loop without waiting for it (a job on the community's writer)."""
        writes = self.community.journal
        if writes is None:
            return
        try:
            future = self.community.submit(writes.append, kind, door=door, payload=payload,
                                           occurred_at=dt_util.utcnow())
        except StorageError:  # shutting down: the database is closed
            _LOGGER.debug("not journalled, the community is closing: %s", kind)
            return
        future.add_done_callback(_log_failure)


def _log_failure(future: Future[Any]) -> None:
    if not future.cancelled() and (err := future.exception()) is not None:
        _LOGGER.error("could not journal an event: %s", err)


ISSUE_UNENCRYPTED = "uplink_unencrypted"


def _set_issue(hass: HomeAssistant, issue_id: str, active: bool, placeholders: dict[str, str]) -> None:
    if active:
        ir.async_create_issue(hass, DOMAIN, issue_id, is_fixable=False, severity=ir.IssueSeverity.WARNING,
                              translation_key=issue_id, translation_placeholders=placeholders)
    else:
        ir.async_delete_issue(hass, DOMAIN, issue_id)


def field_policy(entry: ConfigEntry) -> FieldPolicy:
    """The field policy in force: the default fields plus the extra ones the operator allowed with a basis."""
    options = tuple(
        FieldOption(
            field=raw["field"],
            legal_basis=LegalBasis(raw["legal_basis"]),
            reference=raw["reference"],
            enabled_by=raw["enabled_by"],
            enabled_at=datetime.fromisoformat(raw["enabled_at"]),
        )
        for raw in entry.options.get(CONF_FIELD_OPTIONS, [])
    )
    withheld = frozenset(entry.options.get(CONF_WITHHELD_FIELDS, []))
    return FieldPolicy(Secret(entry.data[CONF_COMMUNITY_KEY]), options, withheld=withheld)


def gat1400_config(options: Mapping[str, Any]) -> Gat1400Config:
    """The GA/T 1400 profile's client settings from the community's options; the ANPR lanes' own GA/T 1400 ids
    (``tollgate_id`` per entrance, ``ape_id`` per lane camera) where the manager gave them, else the hub's."""
    lanes = options.get("anpr_lanes", [])
    tollgates = {f"{lane['car_park']}:{lane['entrance']}": lane["tollgate_id"] for lane in lanes
                 if lane.get("tollgate_id")}
    apes = {f"{lane['car_park']}:{lane['entrance']}:{lane['lane_no']}": lane["ape_id"] for lane in lanes
            if lane.get("ape_id")}
    return Gat1400Config(
        ape_ids=apes,
        tollgate_ids=tollgates,
        base_url=options[CONF_UPLINK_URL],
        device_id=options[CONF_DEVICE_ID],
        username=options[CONF_GAT_USERNAME],
        password=Secret(options[CONF_GAT_PASSWORD], min_bytes=1),
        keepalive_interval_s=float(options.get(CONF_KEEPALIVE, 30)),
        ca_file=options.get(CONF_CA_FILE) or None,
    )


def _make_worker(hass: HomeAssistant, entry: ConfigEntry, db_path: Path, community: Community) -> UplinkWorker:
    options = entry.options
    session = async_get_clientsession(hass)
    transport: UplinkTransport
    profile = options.get(CONF_UPLINK_PROFILE, PROFILE_JSON)
    if profile == PROFILE_MQTT:
        transport = MqttTransport(MqttConfig(
            broker_url=options[CONF_UPLINK_URL], hub_id=entry.data[CONF_HUB_ID],
            secret=Secret(options[CONF_UPLINK_SECRET]),
            topic_prefix=options.get(CONF_MQTT_TOPIC_PREFIX) or DEFAULT_MQTT_TOPIC_PREFIX,
            ca_file=options.get(CONF_CA_FILE) or None, client_cert=options.get(CONF_CLIENT_CERT) or None,
            client_key=options.get(CONF_CLIENT_KEY) or None,
        ))
    elif profile == PROFILE_GAT1400:
        transport = Gat1400Transport(Gat1400Client(gat1400_config(options), session=session))
    else:
        transport = JsonUplinkClient(
            options[CONF_UPLINK_URL], entry.data[CONF_HUB_ID], Secret(options[CONF_UPLINK_SECRET]),
            session=session, ca_file=options.get(CONF_CA_FILE) or None,
        )
    # It reads the outbox on its own connection; what it marks sent goes through the community's writer.
    return UplinkWorker(db_path, transport, field_policy(entry), writes=community.outbox_writes())
