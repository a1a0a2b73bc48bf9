"""The typed event bus and the typed door id."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from hub.access.models import CredentialKind, Decision, Reason
from hub.bus import EventBus
from hub.doors import DoorId
from hub.events import DecisionEvent, DeviceStatusEvent
from hub.health import DeviceKind

AT = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


def _decision_event(door: str = "GATE01-door0") -> DecisionEvent:
    decision = Decision(granted=True, reason=Reason.GRANTED, kind=CredentialKind.CARD, door_id=door)
    return DecisionEvent(door=door, decision=decision, released=True, at=AT)


def test_subscribers_hear_only_their_event_type_until_they_unsubscribe() -> None:
    bus = EventBus("test")
    decisions: list[DecisionEvent] = []
    statuses: list[DeviceStatusEvent] = []
    stop = bus.subscribe(DecisionEvent, decisions.append)
    bus.subscribe(DeviceStatusEvent, statuses.append)
    event = _decision_event()
    bus.publish(event)
    assert decisions == [event] and statuses == []
    assert bus.subscriber_count(DecisionEvent) == 1
    stop()
    stop()  # a second call does nothing
    bus.publish(_decision_event("GATE01-door1"))
    assert decisions == [event]
    assert bus.subscriber_count(DecisionEvent) == 0
    status = DeviceStatusEvent(device_id="GATE01", kind=DeviceKind.DOOR_CONTROLLER, online=False, at=AT)
    bus.publish(status)
    assert statuses == [status]
    assert "test" in repr(bus)


def test_a_failing_subscriber_is_logged_and_the_others_still_hear(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus("community test")
    heard: list[str] = []

    def broken(event: DecisionEvent) -> None:
        raise RuntimeError("broken entity")

    bus.subscribe(DecisionEvent, lambda e: heard.append("before"))
    bus.subscribe(DecisionEvent, broken)
    bus.subscribe(DecisionEvent, lambda e: heard.append("after"))
    with caplog.at_level(logging.ERROR, logger="hub.bus"):
        bus.publish(_decision_event())  # does not raise
    assert heard == ["before", "after"]
    assert "a subscriber to DecisionEvent failed" in caplog.text


def test_a_subscriber_may_unsubscribe_while_the_event_is_delivered() -> None:
    bus = EventBus("test")
    heard: list[int] = []
    stops: list[Callable[[], None]] = []

    def once(event: DecisionEvent) -> None:
        heard.append(1)
        stops[0]()

    stops.append(bus.subscribe(DecisionEvent, once))
    bus.subscribe(DecisionEvent, lambda e: heard.append(2))
    bus.publish(_decision_event())
    bus.publish(_decision_event())
    assert heard == [1, 2, 2]


@pytest.mark.parametrize(("serial", "index", "text"), [
    ("GATE01", 0, "GATE01-door0"), ("SIMDC0042", 17, "SIMDC0042-door17"), ("a-door3", 2, "a-door3-door2"),
])
def test_door_id_round_trip(serial: str, index: int, text: str) -> None:
    door = DoorId.for_controller(serial, index)
    assert str(door) == text  # the same string as stored data and unique ids use
    assert DoorId.parse(text) == door
    assert DoorId.try_parse(text) == door


@pytest.mark.parametrize("text", ["lobby", "GATE01-door", "GATE01-door01", "GATE01-door-1", "-door0"])
def test_door_ids_that_name_no_controller_door(text: str) -> None:
    with pytest.raises(ValueError, match="not a controller door id"):
        DoorId.parse(text)
    assert DoorId.try_parse(text) is None


def test_a_controller_door_needs_a_serial_and_an_index_from_zero() -> None:
    with pytest.raises(ValueError):
        DoorId.for_controller("", 0)
    with pytest.raises(ValueError):
        DoorId.for_controller("GATE01", -1)
