"""Throttling of failed PIN entries, per keypad account and per keypad: pure state transitions, no I/O.

A PIN is checked against one account (the keypad code typed first), so a guess tries one resident, never the
community. Each account and each keypad counts its failed checks in a row. Up to ``free_failures`` cost
nothing; every further failure locks that account (at every keypad) or that keypad (for every account) for a
time that doubles with each failure, from ``first_lock`` up to ``max_lock``. While locked, PINs are not checked
at all: an entry is refused without looking at the PIN, so a locked account gives a guesser no answer.

A success resets the account (and the keypad it was typed at); so does setting a new PIN. Failures are forgotten
after ``forget_after`` without one, which must be longer than ``max_lock`` so that waiting out a lock never
gives the free failures back.

Throttling is for PINs only: cards, faces and visitor passes are never blocked by it. The cost is that someone
can lock a resident's PIN (or a keypad's PIN entry) on purpose; the resident still has their card or face, and a
manager setting a new PIN lifts the lock. docs/privacy.md gives the expected time to a first successful guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Scope(StrEnum):
    """What a throttle counts: one keypad account (a resident's PIN), or one keypad (a door's reader)."""

    ACCOUNT = "account"
    KEYPAD = "keypad"


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures in a row are free, and how long the locks after them last."""

    free_failures: int
    first_lock: timedelta
    max_lock: timedelta
    forget_after: timedelta

    def __post_init__(self) -> None:
        if self.free_failures < 0 or self.first_lock <= timedelta(0) or self.max_lock < self.first_lock:
            raise ValueError("a throttle needs free_failures >= 0 and 0 < first_lock <= max_lock")
        if self.forget_after <= self.max_lock:
            raise ValueError("forget_after must be longer than max_lock, or waiting out a lock resets the count")

    def lock_after(self, failures: int) -> timedelta | None:
        """How long the ``failures``-th failure in a row locks for (``None``: it is still free)."""
        extra = failures - self.free_failures
        if extra <= 0:
            return None
        # Doubling from first_lock up to max_lock (computed without ever overflowing, however long the attack).
        lock = self.first_lock
        for _ in range(extra - 1):
            if lock >= self.max_lock:
                break
            lock *= 2
        return min(lock, self.max_lock)


# An account: 4 free failures, then 15 min, 30 min, 1 h ... 24 h per further failure (about 11 checks in the
# first day and a half, then one a day). A keypad: 9 free, then 5 min doubling to 1 h (about 24 checks a day).
ACCOUNT_POLICY = ThrottlePolicy(
    free_failures=4, first_lock=timedelta(minutes=15), max_lock=timedelta(hours=24), forget_after=timedelta(days=7)
)
KEYPAD_POLICY = ThrottlePolicy(
    free_failures=9, first_lock=timedelta(minutes=5), max_lock=timedelta(hours=1), forget_after=timedelta(days=1)
)


@dataclass(frozen=True)
class ThrottleState:
    """One account's or keypad's failures in a row, the last of them, and until when it is locked."""

    failures: int = 0
    last_failure: datetime | None = None
    locked_until: datetime | None = None

    def locked(self, now: datetime) -> bool:
        """Whether PIN checks are refused at ``now``."""
        return self.locked_until is not None and now < self.locked_until

    def after_failure(self, policy: ThrottlePolicy, now: datetime) -> ThrottleState:
        """The state after one more failed check at ``now``."""
        stale = self.last_failure is not None and now - self.last_failure > policy.forget_after
        failures = (0 if stale else self.failures) + 1
        lock = policy.lock_after(failures)
        return ThrottleState(failures, now, None if lock is None else now + lock)
