"""The vehicle service: a plate read at a lane -> decision (journalled) -> the barrier opens.

Each read is one job on the community's writer: in one transaction it is checked against what the hub already
holds from that camera (the camera's own ``(camera_id, record_id)``), decided by :func:`hub.access.decide.decide`,
recorded as a vehicle pass and journalled with its outbox row (and an alarm for a blacklisted plate). Only after
the COMMIT does a granted, fresh decision open the barrier; the uplink is woken and never waited for.

- A *resend* (the same camera and record id again: a camera that did not hear our answer, or sends its store
  after an outage) is recorded once: the stored decision is returned, the pass's duplicate count goes up, nothing
  is journalled again and the barrier does not move.
- A *repeat* (a new record id for the same car) is a new pass and a new event.
- A read the camera marks as a stored record, or one older than the freshness window, is *back-filled*: decided and
  recorded at the time it happened, flagged, and never opens the barrier now (the car is long gone).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from devices.anpr import PlateColor, PlateRead
from devices.anpr.plates import normalize_plate
from hub.access.decide import decide
from hub.access.models import (
    MESSAGES,
    AccessContext,
    AccessRequest,
    CredentialKind,
    Decision,
    Door,
    PlateCredential,
    Reason,
    TemporaryVehicleRule,
    VehicleContext,
    VehicleDirection,
)
from hub.community import Community
from hub.exceptions import InvalidInputError
from hub.journal import EventKind, NewEvent
from hub.residents import validation as v
from hub.residents.store import transaction, utc_now

from .models import Lane, VehicleDecision
from .registry import is_black_listed, near_standing, standing_of

_LOGGER = logging.getLogger(__name__)

# A read older than this when it reaches the hub is history, not a car waiting at the barrier.
DEFAULT_FRESHNESS = timedelta(seconds=30)


class Barrier(Protocol):
    """What opens a lane's barrier (a Modbus relay, the camera's own relay): provided by the integration."""

    async def open(self, lane: Lane) -> None:
        """Open the barrier of ``lane`` once; raise if it could not be done."""


@dataclass(frozen=True, kw_only=True)
class VehicleRules:
    """The community's choices for its car park.

    ``temporary``: let unknown vehicles in (and out) or send them to the booth. ``near_match_opens``: a plate read
    one OCR confusion away from a registered plate (0/O/D, 1/I, 8/B, 2/Z, 5/S) opens as that plate would.
    ``anti_passback``: a car already inside is not let in again until it left. ``keep_images``: the camera's
    pictures are kept with the journal event (they leave the hub only if the field policy allows them)."""

    temporary: TemporaryVehicleRule = TemporaryVehicleRule.REFUSE
    near_match_opens: bool = False
    anti_passback: bool = False
    freshness: timedelta = DEFAULT_FRESHNESS
    keep_images: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.temporary, TemporaryVehicleRule):
            raise InvalidInputError(f"temporary must be one of {[r.value for r in TemporaryVehicleRule]}")
        if self.freshness <= timedelta(0):
            raise InvalidInputError("the freshness window must be positive")


@dataclass(frozen=True, slots=True)
class VehicleDecisionEvent:
    """A plate read at a lane was decided (and journalled); published on the community's bus."""

    outcome: VehicleDecision


def _check_lane(lane: object) -> Lane:
    if not isinstance(lane, Lane):
        raise InvalidInputError("lane must be a Lane")
    v.identifier(lane.car_park, "lane.car_park")
    v.identifier(lane.entrance, "lane.entrance")
    v.positive_int(lane.lane_no, "lane.lane_no", maximum=99)
    if not isinstance(lane.direction, VehicleDirection):
        raise InvalidInputError("lane.direction must be entry or exit")
    v.required_text(lane.barrier, "lane.barrier", max_length=100)
    return lane


def _check_read(read: object) -> PlateRead:
    if not isinstance(read, PlateRead):
        raise InvalidInputError("read must be a PlateRead")
    v.required_text(read.camera_id, "read.camera_id", max_length=100)
    v.required_text(read.record_id, "read.record_id", max_length=200)
    v.aware_datetime(read.seen_at, "read.seen_at")
    if not isinstance(read.plate_color, PlateColor):
        raise InvalidInputError("read.plate_color must be a PlateColor")
    return read


class VehicleService:
    """Decides at the community's vehicle lanes."""

    def __init__(
        self,
        community: Community,
        barrier: Barrier,
        *,
        rules: VehicleRules | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._community = community
        self._barrier = barrier
        self.rules = rules or VehicleRules()
        self._clock = clock
        self.resends = 0  # resends this service answered from the stored record (the database counts them too)

    async def handle(self, read: PlateRead, lane: Lane) -> VehicleDecision:
        """Decide one plate read at ``lane``, record it, and open the barrier for a granted fresh read."""
        _check_read(read)
        _check_lane(lane)
        received = self._clock()
        outcome: VehicleDecision = await asyncio.wrap_future(
            self._community.submit(self._record, read, lane, received))
        if outcome.resend:
            self.resends += 1
            return outcome
        self._community.decided()  # wake the uplink; never wait for it
        opened = False
        if outcome.decision.granted and not outcome.backfilled:
            try:
                await self._barrier.open(lane)
                opened = True
            except Exception as err:  # a dead relay must not lose the decision's record
                _LOGGER.exception("granted at lane %s but the barrier could not be opened", lane.lane_id)
                await self._journal_failed_open(lane, err)
        outcome = replace(outcome, opened=opened)
        _LOGGER.info("lane %s: %s (%s)%s", lane.lane_id, "granted" if outcome.decision.granted else "refused",
                     outcome.decision.reason.value, " back-filled" if outcome.backfilled else "")
        self._community.events.publish(VehicleDecisionEvent(outcome))
        return outcome

    def duplicate_count(self) -> int:
        """Blocking, on the writer: how many resends the stored passes have absorbed in all."""
        row = self._community.call(
            lambda: self._conn.execute("SELECT COALESCE(SUM(duplicates), 0) FROM vehicle_passes").fetchone())
        return int(row[0])

    @property
    def _conn(self) -> sqlite3.Connection:
        return self._community.registry.conn

    async def _journal_failed_open(self, lane: Lane, err: BaseException) -> None:
        payload = {"release_reason": "decision", "outcome": "failed", "error": type(err).__name__,
                   "car_park": lane.car_park, "entrance": lane.entrance, "lane_no": lane.lane_no}
        try:
            await asyncio.wrap_future(self._community.submit(
                self._community.journal_event, EventKind.RELEASE, lane.lane_id, payload, self._clock()))
            self._community.decided()
        except Exception:
            _LOGGER.exception("could not journal the failed barrier opening at lane %s", lane.lane_id)

    # ---- on the writer -----------------------------------------------------------------------------------

    def _record(self, read: PlateRead, lane: Lane, received: datetime) -> VehicleDecision:
        plate = normalize_plate(read.plate).plate if read.plate else ""
        with transaction(self._conn) as conn:
            stored = conn.execute("SELECT * FROM vehicle_passes WHERE camera_id = ? AND record_id = ?",
                                  (read.camera_id, read.record_id)).fetchone()
            if stored is not None:
                conn.execute("UPDATE vehicle_passes SET duplicates = duplicates + 1 WHERE pass_id = ?",
                             (stored["pass_id"],))
                return _from_row(stored, lane)
            backfilled = read.resend or received - read.seen_at > self.rules.freshness
            at = read.seen_at if backfilled else received
            inside_since = _inside_since(conn, lane.car_park, plate, at) if plate else None
            exact = standing_of(conn, plate, at) if plate else None
            vehicle = VehicleContext(
                black_listed=bool(plate) and is_black_listed(conn, plate),
                exact=exact,
                near=near_standing(conn, plate, at) if plate and exact is None else None,
                inside_since=inside_since,
                temporary_rule=self.rules.temporary,
                near_match_opens=self.rules.near_match_opens,
                # History is decided as it was, not refused now for a car the hub already thinks is in.
                anti_passback=self.rules.anti_passback and not backfilled,
            )
            door = Door(door_id=lane.lane_id, name=lane.lane_id, accepts=frozenset({CredentialKind.PLATE}))
            decision = decide(
                AccessRequest(lane.lane_id, PlateCredential(plate, int(read.plate_color)), at,
                              direction=lane.direction),
                AccessContext(door=door, timezone=self._community.timezone, vehicle=vehicle, lockouts={}),
            )
            dwell_s = (int((at - inside_since).total_seconds())
                       if lane.direction is VehicleDirection.EXIT and inside_since is not None else None)
            event_uuid = self._journal(read, lane, decision, at, backfilled=backfilled, dwell_s=dwell_s)
            conn.execute(
                "INSERT INTO vehicle_passes (camera_id, record_id, at, recorded_at, plate, plate_color, direction,"
                " lane_id, car_park, granted, reason, resident_id, invited_by, near_match_of, backfilled, dwell_s,"
                " event_uuid) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (read.camera_id, read.record_id, v.to_db(at), v.to_db(received), plate, int(read.plate_color),
                 lane.direction.value, lane.lane_id, lane.car_park, int(decision.granted), decision.reason.value,
                 decision.resident_id, decision.issued_by, decision.near_match_of, int(backfilled), dwell_s,
                 event_uuid))
        return VehicleDecision(decision=decision, lane=lane, at=at, plate=plate, plate_color=read.plate_color,
                               backfilled=backfilled, resend=False, opened=False, dwell_s=dwell_s,
                               event_uuid=event_uuid)

    def _journal(self, read: PlateRead, lane: Lane, decision: Decision, at: datetime, *, backfilled: bool,
                 dwell_s: int | None) -> str | None:
        journal = self._community.journal
        if journal is None:
            return None
        payload = vehicle_payload(read, lane, decision, backfilled=backfilled, dwell_s=dwell_s,
                                  keep_images=self.rules.keep_images)
        event = journal.append_in_transaction(
            NewEvent(kind=EventKind.VEHICLE_PASS, door=lane.lane_id, payload=payload, occurred_at=at))
        if decision.alarm:
            journal.append_in_transaction(NewEvent(
                kind=EventKind.VEHICLE_ALARM, door=lane.lane_id, occurred_at=at,
                payload={"result": "blacklisted", "reason": decision.reason.value, "plate": decision.plate,
                         "plate_color": int(read.plate_color), "direction": lane.direction.value,
                         "car_park": lane.car_park, "entrance": lane.entrance, "lane_no": lane.lane_no,
                         "backfilled": backfilled, "pass_event": event.uuid}))
        return event.uuid


def vehicle_payload(read: PlateRead, lane: Lane, decision: Decision, *, backfilled: bool, dwell_s: int | None,
                    keep_images: bool = False) -> dict[str, Any]:
    """A vehicle pass as the journal keeps it (locally; the field policy decides what goes upstream)."""
    payload: dict[str, Any] = {
        "result": "granted" if decision.granted else "denied",
        "reason": decision.reason.value,
        "credential_kind": decision.kind.value,
        "plate": decision.plate or "",
        "plate_color": int(read.plate_color),
        "direction": lane.direction.value,
        "car_park": lane.car_park,
        "entrance": lane.entrance,
        "lane_no": lane.lane_no,
        "camera_id": read.camera_id,
        "record_id": read.record_id,
        "seen_at": read.seen_at.isoformat(),
        "resident_id": decision.resident_id,
        "issued_by": decision.issued_by,
        "near_match": decision.near_match_of is not None,
        "near_match_of": decision.near_match_of,
        "days_left": decision.days_left,
        "backfilled": backfilled,
        "dwell_s": dwell_s,
        "plate_type": read.plate_type,
        "vehicle_type": read.vehicle_type,
        "vehicle_color": read.vehicle_color,
        "confidence": read.confidence,
        # Journalled before the barrier moves; an opening that then fails is journalled as a ``release`` event.
        "release_requested": decision.granted and not backfilled,
    }
    if keep_images and read.images:
        payload["vehicle_images"] = [
            {"kind": image.kind, "content_type": image.content_type, "data": base64.b64encode(image.data).decode()}
            for image in read.images
        ]
    return payload


def _inside_since(conn: sqlite3.Connection, car_park: str, plate: str, at: datetime) -> datetime | None:
    """When the car's open entry began: its latest granted pass in this car park up to ``at``, if an entry."""
    row = conn.execute(
        "SELECT direction, at FROM vehicle_passes WHERE car_park = ? AND plate = ? AND granted = 1 AND at <= ?"
        " ORDER BY at DESC, pass_id DESC LIMIT 1", (car_park, plate, v.to_db(at))).fetchone()
    if row is None or row["direction"] != VehicleDirection.ENTRY.value:
        return None
    return v.from_db(row["at"])


def _from_row(row: Mapping[str, Any], lane: Lane) -> VehicleDecision:
    reason = Reason(row["reason"])
    decision = Decision(
        granted=bool(row["granted"]), reason=reason, kind=CredentialKind.PLATE, door_id=row["lane_id"],
        resident_id=row["resident_id"], message=MESSAGES[reason], issued_by=row["invited_by"],
        plate=row["plate"], near_match_of=row["near_match_of"], alarm=reason is Reason.BLACKLISTED,
    )
    return VehicleDecision(decision=decision, lane=lane, at=v.from_db(row["at"]), plate=row["plate"],
                           plate_color=PlateColor(row["plate_color"]), backfilled=bool(row["backfilled"]),
                           resend=True, opened=False, dwell_s=row["dwell_s"], event_uuid=row["event_uuid"])
