"""The vehicle service on a real database file: every attempt recorded and journalled with its outbox row; the
barrier opens only for a granted fresh read, after the record is on disk; resends are recorded once and counted,
repeats are new passes; a camera's backlog is back-filled without opening the barrier."""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from vehicle_helpers import ENTRY, EXIT, Clock, RecordingBarrier, make_service, read

from devices.anpr import PlateColor, PlateImage
from hub.access.models import Reason, TemporaryVehicleRule
from hub.community import Community
from hub.exceptions import InvalidInputError
from hub.vehicles.service import VehicleDecisionEvent, VehicleService

PLATE = "皖A7XG66"


def _committed(db: Path) -> tuple[list[dict[str, object]], int, list[tuple[object, ...]]]:
    """What another connection sees: vehicle events (kind + payload), their outbox rows, the pass rows."""
    other = sqlite3.connect(db)
    try:
        events = [{"kind": k, "door": d, **json.loads(p)} for k, d, p in other.execute(
            "SELECT kind, door, payload FROM events WHERE kind LIKE 'vehicle_%' ORDER BY seq")]
        outbox = other.execute("SELECT COUNT(*) FROM outbox o JOIN events e ON e.seq = o.seq"
                               " WHERE e.kind LIKE 'vehicle_%'").fetchone()[0]
        passes = other.execute("SELECT plate, direction, granted, reason, backfilled, duplicates, dwell_s"
                               " FROM vehicle_passes ORDER BY pass_id").fetchall()
    finally:
        other.close()
    return events, int(outbox), passes


async def test_a_resident_vehicle_enters_and_leaves_with_its_dwell_time(
    community: Community, service: VehicleService, barrier: RecordingBarrier, clock: Clock, db: Path
) -> None:
    community.call(community.vehicles.add_resident_vehicle, "manager", "r-001", PLATE)
    seen: list[VehicleDecisionEvent] = []
    community.events.subscribe(VehicleDecisionEvent, seen.append)
    entered = await service.handle(read(PLATE, clock.now), ENTRY)
    clock.advance(timedelta(hours=3, minutes=5))
    left = await service.handle(read(PLATE, clock.now, camera="cam-north-2"), EXIT)
    assert entered.decision.reason is Reason.RESIDENT_VEHICLE and entered.opened
    assert left.decision.granted and left.dwell_s == 3 * 3600 + 300 and left.opened
    assert barrier.opened == [ENTRY.lane_id, EXIT.lane_id]
    events, outbox, passes = _committed(db)
    assert outbox == 2 and [e["direction"] for e in events] == ["entry", "exit"]
    first = events[0]
    assert first["door"] == "p1:north:1" and first["plate"] == PLATE and first["plate_color"] == 5
    assert first["camera_id"] == "cam-north-1" and first["resident_id"] == "r-001"
    assert first["reason"] == "resident_vehicle" and first["release_requested"] is True
    assert events[1]["dwell_s"] == 3 * 3600 + 300
    assert [p[2] for p in passes] == [1, 1]
    assert [e.outcome.decision.reason for e in seen] == [Reason.RESIDENT_VEHICLE, Reason.RESIDENT_VEHICLE]


async def test_refusals_are_recorded_and_never_open(
    community: Community, service: VehicleService, barrier: RecordingBarrier, clock: Clock, db: Path
) -> None:
    exit_first = await service.handle(read(PLATE, clock.now), EXIT)
    unknown = await service.handle(read("皖B12345", clock.now), ENTRY)
    no_plate = await service.handle(read("", clock.now), ENTRY)
    assert [o.decision.reason for o in (exit_first, unknown, no_plate)] == [
        Reason.EXIT_WITHOUT_ENTRY, Reason.TEMPORARY_REFUSED, Reason.NO_PLATE]
    assert barrier.opened == []
    events, outbox, passes = _committed(db)
    assert outbox == 3 and [e["result"] for e in events] == ["denied"] * 3
    assert [p[3] for p in passes] == ["exit_without_entry", "temporary_refused", "no_plate"]


async def test_monthly_visitor_white_list_and_the_temporary_rule(
    community: Community, barrier: RecordingBarrier, clock: Clock
) -> None:
    vehicles, now = community.vehicles, clock.now
    community.call(vehicles.add_monthly_vehicle, "manager", "皖A11111", valid_from=now - timedelta(days=5),
                   valid_until=now + timedelta(days=25, hours=1))
    community.call(vehicles.add_monthly_vehicle, "manager", "皖A22222", valid_from=now - timedelta(days=40),
                   valid_until=now - timedelta(days=10))
    community.call(vehicles.invite_vehicle, "manager", "r-001", "皖A33333", valid_from=now - timedelta(hours=1),
                   valid_until=now + timedelta(hours=2))
    later = community.call(vehicles.invite_vehicle, "manager", "r-001", "皖A44444",
                           valid_from=now + timedelta(hours=5), valid_until=now + timedelta(hours=8))
    revoked = community.call(vehicles.invite_vehicle, "manager", "r-001", "皖A55555",
                             valid_from=now - timedelta(hours=1), valid_until=now + timedelta(hours=8))
    community.call(vehicles.revoke_invitation, "manager", revoked.invitation_id)
    community.call(vehicles.list_plate, "manager", "皖A66666", "white", "property van")
    refuse = make_service(community, barrier, clock)
    outcomes = {p: await refuse.handle(read(p, now), ENTRY) for p in
                ("皖A11111", "皖A22222", "皖A33333", "皖A44444", "皖A55555", "皖A66666", "皖A77777")}
    assert {p: o.decision.reason for p, o in outcomes.items()} == {
        "皖A11111": Reason.MONTHLY_VALID, "皖A22222": Reason.MONTHLY_EXPIRED, "皖A33333": Reason.VISITOR_IN_WINDOW,
        "皖A44444": Reason.VISITOR_OUTSIDE_WINDOW, "皖A55555": Reason.VISITOR_REVOKED,
        "皖A66666": Reason.WHITE_LISTED, "皖A77777": Reason.TEMPORARY_REFUSED}
    assert outcomes["皖A11111"].decision.days_left == 25
    assert outcomes["皖A33333"].decision.issued_by == "r-001" and later.invitation_id
    allow = make_service(community, barrier, clock, temporary=TemporaryVehicleRule.ALLOW)
    clock.advance(timedelta(minutes=1))
    entered = await allow.handle(read("皖A88888", clock.now), ENTRY)
    clock.advance(timedelta(minutes=42))
    left = await allow.handle(read("皖A88888", clock.now), EXIT)
    assert entered.decision.reason is left.decision.reason is Reason.TEMPORARY_ALLOWED
    assert left.dwell_s == 42 * 60  # fees are out of scope; the dwell time is recorded
    assert len(barrier.opened) == 3 + 2  # monthly, visitor, white list; the temporary car in and out


async def test_a_blacklisted_plate_is_refused_with_an_alarm_event(
    community: Community, service: VehicleService, barrier: RecordingBarrier, clock: Clock, db: Path
) -> None:
    community.call(community.vehicles.list_plate, "manager", "皖A99999", "black", "police notice 12")
    outcome = await service.handle(read("皖A99999", clock.now), ENTRY)
    assert outcome.decision.reason is Reason.BLACKLISTED and outcome.decision.alarm and not outcome.opened
    events, outbox, _ = _committed(db)
    assert [e["kind"] for e in events] == ["vehicle_pass", "vehicle_alarm"] and outbox == 2
    assert events[1]["plate"] == "皖A99999" and events[1]["result"] == "blacklisted"
    assert barrier.opened == []


async def test_anti_passback_refuses_a_second_entry(
    community: Community, barrier: RecordingBarrier, clock: Clock
) -> None:
    community.call(community.vehicles.add_resident_vehicle, "manager", "r-001", PLATE)
    service = make_service(community, barrier, clock, anti_passback=True)
    await service.handle(read(PLATE, clock.now), ENTRY)
    clock.advance(timedelta(minutes=10))
    again = await service.handle(read(PLATE, clock.now), ENTRY)
    assert again.decision.reason is Reason.ANTI_PASSBACK and not again.opened
    await service.handle(read(PLATE, clock.now), EXIT)
    back = await service.handle(read(PLATE, clock.now), ENTRY)
    assert back.decision.granted and barrier.opened == [ENTRY.lane_id, EXIT.lane_id, ENTRY.lane_id]


@pytest.mark.parametrize("opens", [False, True])
async def test_near_match_option(community: Community, barrier: RecordingBarrier, clock: Clock, db: Path,
                                 opens: bool) -> None:
    community.call(community.vehicles.add_resident_vehicle, "manager", "r-001", "皖A7XG58")
    service = make_service(community, barrier, clock, near_match_opens=opens)
    outcome = await service.handle(read("皖A7XGS8", clock.now), ENTRY)  # 5 read as S
    assert outcome.decision.granted is opens and outcome.opened is opens
    assert outcome.decision.reason is (Reason.NEAR_MATCH if opens else Reason.TEMPORARY_REFUSED)
    assert outcome.decision.near_match_of == "皖A7XG58" and outcome.plate == "皖A7XGS8"
    events, _, _ = _committed(db)
    assert events[0]["near_match"] is True and events[0]["near_match_of"] == "皖A7XG58"
    assert events[0]["plate"] == "皖A7XGS8"


async def test_a_read_close_to_two_registered_plates_stands_for_neither(
    community: Community, barrier: RecordingBarrier, clock: Clock
) -> None:
    community.call(community.vehicles.add_resident_vehicle, "manager", "r-001", "皖A7XGS8")
    second = community.call(community.vehicles.add_resident_vehicle, "manager", "r-001", "皖A7XG5B")
    service = make_service(community, barrier, clock, near_match_opens=True)
    both = await service.handle(read("皖A7XGSB", clock.now), ENTRY)  # B for 8 (皖A7XGS8) or S for 5 (皖A7XG5B)
    assert both.decision.reason is Reason.TEMPORARY_REFUSED and both.decision.near_match_of is None
    community.call(community.vehicles.remove_resident_vehicle, "manager", second.vehicle_id)
    one = await service.handle(read("皖A7XGSB", clock.now), ENTRY)
    assert one.decision.reason is Reason.NEAR_MATCH and one.decision.near_match_of == "皖A7XGS8"
    assert barrier.opened == [ENTRY.lane_id]


async def test_a_resend_is_recorded_once_and_counted_a_repeat_is_a_new_pass(
    community: Community, service: VehicleService, barrier: RecordingBarrier, clock: Clock, db: Path
) -> None:
    community.call(community.vehicles.add_resident_vehicle, "manager", "r-001", PLATE)
    first = read(PLATE, clock.now, record="plateid-7")
    outcome = await service.handle(first, ENTRY)
    clock.advance(timedelta(seconds=2))
    again = await service.handle(first, ENTRY)  # the camera did not hear our answer and sends it again
    also = await service.handle(read(PLATE, first.seen_at, record="plateid-7", resend=True), ENTRY)
    assert outcome.opened and again.resend and also.resend and not again.opened
    assert again.decision.reason is Reason.RESIDENT_VEHICLE and again.event_uuid == outcome.event_uuid
    clock.advance(timedelta(seconds=20))
    repeat = await service.handle(read(PLATE, clock.now, record="plateid-8"), ENTRY)  # the same car seen again
    assert repeat.opened and not repeat.resend
    events, outbox, passes = _committed(db)
    assert len(events) == 2 and outbox == 2
    assert [p[5] for p in passes] == [2, 0]
    assert service.resends == 2 and service.duplicate_count() == 2
    assert barrier.opened == [ENTRY.lane_id, ENTRY.lane_id]


async def test_a_backlog_of_1000_reads_with_resends_is_back_filled_once_each_without_opening(
    community: Community, service: VehicleService, barrier: RecordingBarrier, clock: Clock, db: Path
) -> None:
    """A camera back online sends its store (Vzenith keeps about 9,000 records): 1,000 reads of which 100 are the
    same record sent again; a quarter carry the camera's own stored-record marker, the rest are simply old."""
    community.call(community.vehicles.add_resident_vehicle, "manager", "r-001", PLATE)
    start = clock.now - timedelta(hours=10)
    reads = []
    for n in range(900):
        at = start + timedelta(seconds=30 * n)
        lane = ENTRY if n % 2 == 0 else EXIT
        reads.append((read(PLATE if n % 3 else f"皖B{n:05d}", at, record=f"off-{n}", resend=n % 4 == 0,
                           camera="cam-north-1" if lane is ENTRY else "cam-north-2"), lane))
    backlog = list(reads)
    shuffle = random.Random(7)
    for n in range(100):  # 100 resends mixed in, each somewhere after its original: 1,000 reads
        original = reads[n * 9]
        backlog.insert(shuffle.randint(backlog.index(original) + 1, len(backlog)), original)
    outcomes = [await service.handle(r, lane) for r, lane in backlog]
    assert len(outcomes) == 1000
    assert sum(o.resend for o in outcomes) == 100 and barrier.opened == []
    assert all(o.backfilled for o in outcomes)
    events, outbox, passes = _committed(db)
    assert len(passes) == 900 and len(events) == 900 and outbox == 900  # each pass exactly once
    assert all(p[4] == 1 for p in passes) and sum(p[5] for p in passes) == 100
    assert all(e["backfilled"] is True and e["release_requested"] is False for e in events)
    # Recorded at the time each car passed: entry/exit pairs still give dwell times.
    other = sqlite3.connect(db)
    try:
        times = [row[0] for row in other.execute(
            "SELECT occurred_at FROM events WHERE kind = 'vehicle_pass' ORDER BY seq")]
    finally:
        other.close()
    assert times[0].startswith(start.strftime("%Y-%m-%dT%H:%M"))
    assert any(p[6] == 30 for p in passes)  # a resident entry then exit 30 s later


async def test_a_fresh_read_after_the_backlog_opens(
    community: Community, service: VehicleService, barrier: RecordingBarrier, clock: Clock
) -> None:
    community.call(community.vehicles.add_resident_vehicle, "manager", "r-001", PLATE)
    old = await service.handle(read(PLATE, clock.now - timedelta(minutes=5)), ENTRY)
    assert old.backfilled and old.decision.granted and not old.opened
    left = await service.handle(read(PLATE, clock.now, camera="cam-north-2"), EXIT)
    assert left.opened and left.dwell_s == 300


async def test_a_barrier_that_fails_keeps_the_record_and_is_journalled(
    community: Community, service: VehicleService, barrier: RecordingBarrier, clock: Clock, db: Path
) -> None:
    community.call(community.vehicles.add_resident_vehicle, "manager", "r-001", PLATE)
    barrier.fail = True
    outcome = await service.handle(read(PLATE, clock.now), ENTRY)
    assert outcome.decision.granted and not outcome.opened
    other = sqlite3.connect(db)
    try:
        kinds = [k for (k,) in other.execute("SELECT kind FROM events WHERE kind != 'manager_action' ORDER BY seq")]
        release = json.loads(other.execute("SELECT payload FROM events WHERE kind = 'release'").fetchone()[0])
    finally:
        other.close()
    assert kinds == ["vehicle_pass", "release"] and release["outcome"] == "failed"


async def test_images_are_kept_only_when_asked(community: Community, barrier: RecordingBarrier, clock: Clock,
                                               db: Path) -> None:
    picture = PlateImage(kind="plate", content_type="image/jpeg", data=b"\xff\xd8jpeg\xff\xd9")
    plain = make_service(community, barrier, clock)
    keeping = make_service(community, barrier, clock, keep_images=True)
    r1 = read("皖B12345", clock.now, color=PlateColor.YELLOW)
    await plain.handle(type(r1)(**{**_fields(r1), "images": (picture,)}), ENTRY)
    r2 = read("皖B12346", clock.now)
    await keeping.handle(type(r2)(**{**_fields(r2), "images": (picture,)}), ENTRY)
    events, _, _ = _committed(db)
    assert "vehicle_images" not in events[0] and events[0]["plate_color"] == 6
    assert events[1]["vehicle_images"] == [{"kind": "plate", "content_type": "image/jpeg", "data": "/9hqcGVn/9k="}]


def _fields(r: object) -> dict[str, object]:
    from dataclasses import fields

    return {f.name: getattr(r, f.name) for f in fields(r)}  # type: ignore[arg-type]


async def test_bad_reads_and_lanes_are_refused(service: VehicleService, clock: Clock, db: Path) -> None:
    with pytest.raises(InvalidInputError, match="timezone-aware"):
        await service.handle(read(PLATE, clock.now.replace(tzinfo=None)), ENTRY)
    with pytest.raises(InvalidInputError, match="camera_id"):
        await service.handle(read(PLATE, clock.now, camera=""), ENTRY)
    with pytest.raises(InvalidInputError, match="lane"):
        await service.handle(read(PLATE, clock.now), "p1:north:1")  # type: ignore[arg-type]
    assert _committed(db) == ([], 0, [])


async def test_the_barrier_opens_only_once_the_pass_is_on_disk(
    community: Community, clock: Clock, db: Path
) -> None:
    """The barrier looks at the file through a second connection, as a power cut would leave it."""
    community.call(community.vehicles.add_resident_vehicle, "manager", "r-001", PLATE)
    seen: list[tuple[int, int]] = []

    class CheckingBarrier:
        async def open(self, lane: object) -> None:
            other = sqlite3.connect(db)
            try:
                passes = other.execute("SELECT COUNT(*) FROM vehicle_passes WHERE granted = 1").fetchone()[0]
                queued = other.execute("SELECT COUNT(*) FROM outbox o JOIN events e ON e.seq = o.seq"
                                       " WHERE e.kind = 'vehicle_pass'").fetchone()[0]
            finally:
                other.close()
            seen.append((int(passes), int(queued)))

    service = VehicleService(community, CheckingBarrier(), clock=clock)
    outcome = await service.handle(read(PLATE, clock.now), ENTRY)
    assert outcome.opened and seen == [(1, 1)]
