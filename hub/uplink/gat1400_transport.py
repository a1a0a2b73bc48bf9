"""The GA/T 1400 profile for the worker: access records as PersonObject lists, device status as APEObject lists,
vehicle passes as MotorVehicleObject lists (:mod:`hub.uplink.gat1400_vehicles`).

Door alarms, vehicle alarms and manager actions have no object in the view library; they are acknowledged locally
and not sent (see docs/uplink-protocol.md). Per-item ``StatusCode`` decides each event: 0 acknowledged, a busy code
stays queued, anything else is set aside as refused.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from hub.journal import EventKind

from .errors import TransientUplinkError
from .gat1400_client import Gat1400Client, status_code
from .gat1400_config import Collection, Gat1400Config
from .gat1400_ids import ObjectType, image_id, object_id, viid_time
from .gat1400_vehicles import motor_vehicle_object
from .transport import BatchResult, OutgoingEvent

_LOGGER = logging.getLogger(__name__)
_FLAGS = ("IsDriver", "IsForeigner", "IsSuspectedTerrorist", "IsCriminalInvolved", "IsDetainees", "IsVictim",
          "IsSuspiciousPerson")
# Hub fields carried in a PersonObject as profile extensions (only those the field policy let through). DoorName is
# the place's display name (``door_name``), or its id where the hub has no name or the name is withheld.
_EXTENSIONS = {"result": "AccessResult", "reason": "AccessReason", "credential_kind": "CredentialKind",
               "resident_ref": "ResidentRef", "door": "DoorID", "door_name": "DoorName"}


class Gat1400Transport:
    """Implements :class:`hub.uplink.transport.UplinkTransport` over a :class:`Gat1400Client`."""

    def __init__(self, client: Gat1400Client) -> None:
        self._client = client
        self._config: Gat1400Config = client.config

    def __repr__(self) -> str:
        return f"Gat1400Transport({self._client!r})"

    async def start(self) -> None:
        """Register and start keepalives."""
        if not self._client.registered:
            await self._client.register()
        self._client.start_keepalive()

    async def close(self) -> None:
        """Unregister and stop keepalives."""
        await self._client.close()

    async def send(self, batch: Sequence[OutgoingEvent]) -> BatchResult:
        """Send consecutive runs of one collection, in order; stop at the first failure after any success."""
        acknowledged: set[str] = set()
        refused: dict[str, str] = {}
        for collection, run in self._runs(batch):
            if collection is None:  # nothing in the standard carries these: done locally
                acknowledged.update(item.event.uuid for item in run)
                continue
            try:
                acked, bad = await self._post(collection, run)
            except TransientUplinkError:
                if acknowledged or refused:
                    break
                raise
            acknowledged |= acked
            refused.update(bad)
            if len(acked) + len(bad) < len(run):
                break  # keep order: what stayed queued goes first next time
        return BatchResult(acknowledged=frozenset(acknowledged), refused=refused)

    def _collection(self, item: OutgoingEvent) -> Collection | None:
        if item.event.kind == EventKind.DECISION:
            return self._config.access_collection
        if item.event.kind == EventKind.DEVICE_STATUS:
            return self._config.status_collection
        if item.event.kind == EventKind.VEHICLE_PASS:
            return self._config.vehicle_collection
        return None

    def _runs(self, batch: Sequence[OutgoingEvent]) -> list[tuple[Collection | None, list[OutgoingEvent]]]:
        runs: list[tuple[Collection | None, list[OutgoingEvent]]] = []
        ids: set[str] = set()
        for item in batch:
            collection = self._collection(item)
            object_id_ = self._object_id(collection, item) if collection is not None else item.event.uuid
            # A new run when the collection changes, or an ID repeats (a per-item status must be unambiguous).
            if not runs or runs[-1][0] != collection or object_id_ in ids:
                runs.append((collection, []))
                ids = set()
            runs[-1][1].append(item)
            ids.add(object_id_)
        return runs

    def _object_id(self, collection: Collection, item: OutgoingEvent) -> str:
        if collection.object_type:
            source = image_id(self._config.ape_for(item.event.door),
                              viid_time(item.event.occurred_at, self._config.zone), item.event.seq)
            return object_id(source, collection.object_type, item.event.seq)
        return self._config.ape_for(item.event.door)

    def _object(self, collection: Collection, item: OutgoingEvent) -> dict[str, Any]:
        device = self._config.ape_for(item.event.door)
        when = viid_time(item.event.occurred_at, self._config.zone)
        if collection.object_type == ObjectType.MOTOR_VEHICLE:
            source = image_id(device, when, item.event.seq)
            return motor_vehicle_object(self._config, item, object_id(source, collection.object_type, item.event.seq),
                                        source, device)
        if collection.object_type:
            source = image_id(device, when, item.event.seq)
            obj: dict[str, Any] = {
                collection.id_field: object_id(source, collection.object_type, item.event.seq),
                "InfoKind": 1, "SourceID": source, "DeviceID": device,
                "LeftTopX": 0, "LeftTopY": 0, "RightBtmX": 0, "RightBtmY": 0,
                "PersonAppearTime": when, "PersonDisAppearTime": when,
                **dict.fromkeys(_FLAGS, 0),
            }
            for name, key in _EXTENSIONS.items():
                if name in item.fields:
                    obj[key] = item.fields[name]
            if "DoorName" not in obj and "door" in item.fields:
                obj["DoorName"] = item.fields["door"]
            return obj
        online = str(item.fields.get("result", "")).lower() in ("online", "ok", "up")
        name = item.fields.get("door_name") or item.fields.get("door") or device
        return {collection.id_field: device, "Name": name,
                "IsOnline": self._config.online_value if online else self._config.offline_value}

    async def _post(self, collection: Collection, run: list[OutgoingEvent]) -> tuple[set[str], dict[str, str]]:
        by_id = {self._object_id(collection, item): item.event.uuid for item in run}
        body = {collection.list_key: {collection.object_key: [self._object(collection, item) for item in run]}}
        data = await self._client.request("POST", collection.path, body)
        acked: set[str] = set()
        refused: dict[str, str] = {}
        for status in _statuses(data):
            uuid = by_id.get(str(status.get("Id", "")))
            if uuid is None:
                continue
            code = status_code(status.get("StatusCode"))
            if code == 0:
                acked.add(uuid)
            elif code not in self._config.transient_codes:
                refused[uuid] = f"StatusCode {code}: {status.get('StatusString', '')}"[:200]
        return acked, refused


def _statuses(data: Any) -> list[dict[str, Any]]:
    """The per-item status objects; accepts ``ResponseStatusListObject`` and ``ResponseStatusList``."""
    if not isinstance(data, dict):
        return []
    wrapper = data.get("ResponseStatusListObject") or data.get("ResponseStatusList") or {}
    items = wrapper.get("ResponseStatusObject", []) if isinstance(wrapper, dict) else []
    if isinstance(items, dict):
        items = [items]
    return [i for i in items if isinstance(i, dict)]
