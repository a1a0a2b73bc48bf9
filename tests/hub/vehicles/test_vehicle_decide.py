"""The pure decide() for a plate at a vehicle lane: one test per reason, in the order VEHICLES.md gives, with plain
values (no database); doors, faces, cards and PINs are decided as before (tests/hub/access, unchanged)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.access.decide import decide
from hub.access.models import (
    AccessContext,
    AccessRequest,
    CredentialKind,
    Door,
    PlateCredential,
    Reason,
    TemporaryVehicleRule,
    VehicleContext,
    VehicleDirection,
    VehicleStanding,
    VisitorWindow,
)
from hub.exceptions import InvalidInputError

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
LANE = "p1:north:1"
PLATE = "皖A7XG66"
IN, OUT = VehicleDirection.ENTRY, VehicleDirection.EXIT


def _decide(vehicle: VehicleContext, *, plate: str = PLATE, direction: VehicleDirection = IN,
            locked_down: bool = False):  # type: ignore[no-untyped-def]
    door = Door(LANE, LANE, accepts=frozenset({CredentialKind.PLATE}), locked_down=locked_down)
    return decide(AccessRequest(LANE, PlateCredential(plate, 5), NOW, direction=direction),
                  AccessContext(door=door, timezone=ZoneInfo("Asia/Shanghai"), vehicle=vehicle, lockouts={}))


def _standing(**kw: object) -> VehicleStanding:
    return VehicleStanding(plate=PLATE, **kw)  # type: ignore[arg-type]


def _window(hours_from: float, hours_until: float, *, revoked: bool = False) -> VisitorWindow:
    return VisitorWindow("vinv_1", "r-001", NOW + timedelta(hours=hours_from), NOW + timedelta(hours=hours_until),
                         revoked)


INSIDE = NOW - timedelta(hours=2)


@pytest.mark.parametrize(
    ("vehicle", "direction", "plate", "reason", "granted"),
    [
        (VehicleContext(), IN, "", Reason.NO_PLATE, False),
        (VehicleContext(black_listed=True, exact=_standing(white_listed=True)), IN, PLATE, Reason.BLACKLISTED, False),
        (VehicleContext(exact=_standing(white_listed=True)), OUT, PLATE, Reason.EXIT_WITHOUT_ENTRY, False),
        (VehicleContext(exact=_standing(white_listed=True)), IN, PLATE, Reason.WHITE_LISTED, True),
        (VehicleContext(exact=_standing(resident_id="r-001")), IN, PLATE, Reason.RESIDENT_VEHICLE, True),
        (VehicleContext(exact=_standing(resident_id="r-001", resident_active=False)), IN, PLATE, Reason.SUSPENDED,
         False),
        (VehicleContext(exact=_standing(monthly_from=NOW - timedelta(days=20), monthly_until=NOW + timedelta(days=10))),
         IN, PLATE, Reason.MONTHLY_VALID, True),
        (VehicleContext(exact=_standing(monthly_from=NOW - timedelta(days=40), monthly_until=NOW - timedelta(days=10))),
         IN, PLATE, Reason.MONTHLY_EXPIRED, False),
        (VehicleContext(exact=_standing(monthly_from=NOW + timedelta(days=1), monthly_until=NOW + timedelta(days=31))),
         IN, PLATE, Reason.NOT_YET_VALID, False),
        (VehicleContext(exact=_standing(invitations=(_window(-1, 3),))), IN, PLATE, Reason.VISITOR_IN_WINDOW, True),
        (VehicleContext(exact=_standing(invitations=(_window(2, 5),))), IN, PLATE, Reason.VISITOR_OUTSIDE_WINDOW,
         False),
        (VehicleContext(exact=_standing(invitations=(_window(-1, 3, revoked=True),))), IN, PLATE,
         Reason.VISITOR_REVOKED, False),
        (VehicleContext(), IN, PLATE, Reason.TEMPORARY_REFUSED, False),
        (VehicleContext(temporary_rule=TemporaryVehicleRule.ALLOW), IN, PLATE, Reason.TEMPORARY_ALLOWED, True),
        (VehicleContext(exact=_standing(resident_id="r-001"), inside_since=INSIDE, anti_passback=True), IN, PLATE,
         Reason.ANTI_PASSBACK, False),
        (VehicleContext(exact=_standing(resident_id="r-001"), inside_since=INSIDE), IN, PLATE,
         Reason.RESIDENT_VEHICLE, True),
        (VehicleContext(exact=_standing(resident_id="r-001"), inside_since=INSIDE, anti_passback=True), OUT, PLATE,
         Reason.RESIDENT_VEHICLE, True),
    ],
)
def test_every_vehicle_reason(vehicle: VehicleContext, direction: VehicleDirection, plate: str, reason: Reason,
                              granted: bool) -> None:
    decision = _decide(vehicle, plate=plate, direction=direction)
    assert (decision.reason, decision.granted) == (reason, granted)
    assert decision.kind is CredentialKind.PLATE and decision.door_id == LANE
    assert decision.alarm is (reason is Reason.BLACKLISTED)


def test_monthly_announces_the_days_left() -> None:
    decision = _decide(VehicleContext(exact=_standing(monthly_from=NOW - timedelta(days=20),
                                                      monthly_until=NOW + timedelta(days=10, hours=3))))
    assert decision.days_left == 10 and decision.message == "Monthly vehicle: 10 days left."


def test_a_visitor_is_let_out_after_the_window_as_a_temporary_vehicle() -> None:
    late = VehicleContext(exact=_standing(invitations=(_window(-6, -1),)), inside_since=INSIDE)
    assert _decide(late, direction=OUT).reason is Reason.TEMPORARY_REFUSED
    allow = VehicleContext(exact=_standing(invitations=(_window(-6, -1),)), inside_since=INSIDE,
                           temporary_rule=TemporaryVehicleRule.ALLOW)
    assert _decide(allow, direction=OUT).reason is Reason.TEMPORARY_ALLOWED


def test_a_visitor_names_who_invited_them() -> None:
    decision = _decide(VehicleContext(exact=_standing(invitations=(_window(-1, 3),))))
    assert decision.issued_by == "r-001" and decision.resident_id is None


def test_near_match_opens_only_when_the_option_is_on() -> None:
    near = VehicleStanding(plate="皖A7XG58", resident_id="r-001")
    off = _decide(VehicleContext(near=near), plate="皖A7XGS8")
    assert off.reason is Reason.TEMPORARY_REFUSED and not off.granted
    assert off.near_match_of == "皖A7XG58"  # the booth sees which registered plate it was close to
    on = _decide(VehicleContext(near=near, near_match_opens=True), plate="皖A7XGS8")
    assert on.granted and on.reason is Reason.NEAR_MATCH and on.near_match_of == "皖A7XG58"
    assert on.resident_id == "r-001" and on.plate == "皖A7XGS8"


def test_a_near_match_of_a_refused_plate_does_not_open() -> None:
    near = VehicleStanding(plate="皖A7XG58", monthly_from=NOW - timedelta(days=40),
                           monthly_until=NOW - timedelta(days=10))
    decision = _decide(VehicleContext(near=near, near_match_opens=True), plate="皖A7XGS8")
    assert decision.reason is Reason.TEMPORARY_REFUSED and decision.near_match_of == "皖A7XG58"


def test_lane_lockdown_and_missing_direction() -> None:
    assert _decide(VehicleContext(exact=_standing(white_listed=True)), locked_down=True).reason is \
        Reason.DOOR_LOCKED_DOWN
    door = Door(LANE, LANE, accepts=frozenset({CredentialKind.PLATE}))
    with pytest.raises(InvalidInputError, match="direction"):
        decide(AccessRequest(LANE, PlateCredential(PLATE, 5), NOW),
               AccessContext(door=door, timezone=ZoneInfo("Asia/Shanghai")))


def test_a_door_takes_no_plates_unless_configured() -> None:
    door = Door("GATE01-door0", "North gate")
    assert CredentialKind.PLATE not in door.accepts
    decision = decide(AccessRequest(door.door_id, PlateCredential(PLATE, 5), NOW, direction=IN),
                      AccessContext(door=door, timezone=ZoneInfo("Asia/Shanghai")))
    assert decision.reason is Reason.CREDENTIAL_NOT_ACCEPTED
