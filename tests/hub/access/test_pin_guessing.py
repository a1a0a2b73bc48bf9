"""The PIN-guessing attack of the security review, replayed against the hub: 200 residents with 6-digit PINs, one
guess a second at one keypad, then spread over every keypad by someone who also holds a PIN of their own.

It used to work in 53 minutes (4-digit PINs unique across the community: every guess was tried against every
resident, and a lock-out at 5 failures per gate in 5 minutes never tripped at 4 guesses per 5 minutes). Now a PIN
is checked against the one account its keypad code names, and failures are throttled per account and per keypad.

How the figure is made: the real AccessService decides every entry, on a real SQLite file, with a simulated
clock. The first hour replays one guess every second literally, and shows that an entry refused while locked
changes nothing (the PIN is not even checked). So for the long run (three simulated days) the attacker does not
spend a call on each refused second: it goes straight to the next second at which the hub would check a PIN
(the earliest unlocked account at the earliest free keypad), which is the best any one-guess-a-second attacker
can do. The expected time to a first success is then the time until the checked guesses add up to the number of
possible PINs (each check of an unguessed PIN succeeds with probability 1/remaining), extrapolated from the
checks per day in the last simulated day. Only the scrypt work factor is lowered here, to keep the test fast: it
changes how long a check takes, not how many checks the throttle allows.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.access.config import AccessConfigStore
from hub.access.models import AccessRule, CredentialKind, Door, Reason
from hub.access.pin_throttle import Scope
from hub.access.service import AccessService
from hub.exceptions import InvalidInputError
from hub.residents import secrets
from hub.residents.registry_hub import ResidentRegistry

START = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
RESIDENTS = 200
KEYPADS = 8
YEAR = timedelta(days=365)


def _valid(pin: str) -> bool:
    try:
        secrets.check_pin(pin, len(pin))
    except InvalidInputError:
        return False
    return True


POSSIBLE_6 = sum(_valid(f"{n:06d}") for n in range(10**6))
POSSIBLE_4 = sum(_valid(f"{n:04d}") for n in range(10**4))


@dataclass
class Community:
    registry: ResidentRegistry
    service: AccessService
    codes: list[str]
    pins: dict[str, str]  # code -> PIN (the attacker does not know these)
    doors: list[str]


@pytest.fixture
def community(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Community]:
    monkeypatch.setattr(secrets, "_SCRYPT_N", 2**4)  # see the module docstring
    rng = random.Random(7)
    registry = ResidentRegistry.open(tmp_path / "hub.db", tmp_path / "hub.key", clock=lambda: START)
    config = AccessConfigStore(registry.conn)
    doors = [f"keypad-{i}" for i in range(KEYPADS)]
    for door in doors:
        config.put_door("installer", Door(door, door, accepts=frozenset(CredentialKind)))
    config.add_rule("mgr", AccessRule("all", frozenset(doors), applies_to_all=True), name="Always")
    codes, pins = [], {}
    for i in range(RESIDENTS + 1):  # the last one is the insider's own account
        registry.residents.add_resident("mgr", f"r{i:03d}", f"Resident {i}")
        pin = next(p for p in (f"{rng.randrange(10**6):06d}" for _ in itertools.count()) if _valid(p))
        code = registry.credentials.set_pin("mgr", f"r{i:03d}", pin)
        codes.append(code)
        pins[code] = pin
    yield Community(registry, AccessService(registry.conn, registry.keys, timezone=UTC), codes, pins, doors)
    registry.conn.close()


def _throttle_rows(community: Community) -> list[tuple[object, ...]]:
    return [tuple(r) for r in community.registry.conn.execute("SELECT * FROM pin_throttle ORDER BY scope, key")]


class Attacker:
    """Guesses PINs it has not tried yet on each account, at random; remembers what each keypad shows."""

    def __init__(self, community: Community, seed: int) -> None:
        self.c = community
        self.rng = random.Random(seed)
        self.tried: dict[str, set[str]] = {code: set() for code in community.codes[:RESIDENTS]}
        self.checked: list[datetime] = []
        self.successes: list[datetime] = []

    def guess(self, code: str) -> str:
        while True:
            pin = f"{self.rng.randrange(10**6):06d}"
            if _valid(pin) and pin not in self.tried[code]:
                self.tried[code].add(pin)
                return pin

    def enter(self, door: str, code: str, at: datetime) -> Reason:
        pin = self.guess(code)
        reason = self.c.service.enter_pin(door, code, pin, at).reason
        if reason is not Reason.LOCKED_OUT:
            self.checked.append(at)
        if reason is Reason.GRANTED:
            self.successes.append(at)
        return reason


def _next_second(at: datetime) -> datetime:
    whole = at.replace(microsecond=0)
    return whole if whole == at else whole + timedelta(seconds=1)


def _unlocked_at(service: AccessService, scope: Scope, key: str) -> datetime:
    until = service.pin_throttle(scope, key).locked_until
    return START if until is None else until


def _long_run(community: Community, attacker: Attacker, doors: list[str], *, insider: bool, days: int) -> None:
    """The best one-guess-a-second-per-keypad attacker: each step is the next entry the hub would check."""
    service = community.service
    own_code = community.codes[RESIDENTS]
    end = START + timedelta(days=days)
    free_at = dict.fromkeys(doors, START)  # one entry a second per keypad
    accounts = {code: START for code in attacker.tried}
    by_code = {code: f"r{i:03d}" for i, code in enumerate(community.codes)}
    while True:
        door = min(doors, key=lambda d: max(free_at[d], _unlocked_at(service, Scope.KEYPAD, d)))
        if insider and service.pin_throttle(Scope.KEYPAD, door).failures >= 9:
            # Someone with a PIN of their own resets the keypad's count before it would lock.
            at = _next_second(free_at[door])
            assert service.enter_pin(door, own_code, community.pins[own_code], at).granted
            free_at[door] = at + timedelta(seconds=1)
            continue
        code = min(accounts, key=accounts.__getitem__)
        at = _next_second(max(free_at[door], _unlocked_at(service, Scope.KEYPAD, door), accounts[code]))
        if at >= end:
            return
        reason = attacker.enter(door, code, at)
        # The attacker only ever goes where the hub will check: no entry of the long run is refused unchecked.
        assert reason is not Reason.LOCKED_OUT
        free_at[door] = at + timedelta(seconds=1)
        accounts[code] = _unlocked_at(service, Scope.ACCOUNT, by_code[code])


def _expected_time_to_success(checked: list[datetime], days: int, possible: int) -> timedelta:
    """E[T] = integral of P(no success by t) = exp(-N(t)/possible), with N(t) the checked guesses so far,
    extrapolated after the simulated days at the last day's rate."""
    last_day = sum(1 for t in checked if t >= START + timedelta(days=days - 1))
    assert last_day > 0
    simulated = timedelta(days=days)
    # Over the simulated days P(no success) stays within a few per cent of 1: count them at its lowest.
    early = simulated * math.exp(-len(checked) / possible)
    later_days = math.exp(-len(checked) / possible) * possible / last_day
    return early + timedelta(days=later_days)


def _report(label: str, attacker: Attacker, days: int) -> tuple[timedelta, timedelta]:
    six = _expected_time_to_success(attacker.checked, days, POSSIBLE_6)
    four = _expected_time_to_success(attacker.checked, days, POSSIBLE_4)
    last_day = sum(1 for t in attacker.checked if t >= START + timedelta(days=days - 1))
    print(
        f"\n{label}: {len(attacker.checked)} PINs checked in {days} simulated days ({last_day} in the last), "
        f"{len(attacker.successes)} right; expected time to a first success: {six.days / 365.25:.1f} years "
        f"with 6-digit PINs ({POSSIBLE_6} possible), {four.days} days with 4-digit PINs ({POSSIBLE_4} possible)"
    )
    return six, four


def test_one_guess_a_second_at_one_keypad(community: Community, capsys: pytest.CaptureFixture[str]) -> None:
    attacker = Attacker(community, seed=1)
    door = community.doors[0]
    accounts = itertools.cycle(community.codes[:RESIDENTS])
    # The first hour, literally: one entry every second, round the residents' accounts.
    refused = 0
    for second in range(3600):
        before = _throttle_rows(community)
        reason = attacker.enter(door, next(accounts), START + timedelta(seconds=second))
        if reason is Reason.LOCKED_OUT:
            refused += 1
            assert _throttle_rows(community) == before  # refused unchecked: nothing learnt, nothing changed
    first_hour = len(attacker.checked)
    assert refused == 3600 - first_hour
    assert first_hour < 20  # 9 free failures, then locks of 5, 10, 20 and 40 minutes
    # Then three days of the best such attacker can do (see the module docstring).
    community.registry.conn.execute("DELETE FROM pin_throttle")
    community.registry.conn.commit()
    attacker = Attacker(community, seed=2)
    _long_run(community, attacker, [door], insider=False, days=3)
    with capsys.disabled():
        six, _ = _report("one keypad, one guess a second", attacker, 3)
    assert six >= YEAR


def test_guesses_spread_over_every_keypad_by_a_resident(
    community: Community, capsys: pytest.CaptureFixture[str]
) -> None:
    attacker = Attacker(community, seed=3)
    _long_run(community, attacker, community.doors, insider=True, days=3)
    # Every account's own throttle holds, whatever the keypads allow: after the first day and a half, one check a
    # day per account.
    last_day = sum(1 for t in attacker.checked if t >= START + timedelta(days=2))
    assert last_day <= RESIDENTS
    with capsys.disabled():
        six, _ = _report(f"{KEYPADS} keypads, a resident resetting each keypad with their own PIN", attacker, 3)
    assert six >= YEAR
