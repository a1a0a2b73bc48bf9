"""Pure lock-out check: too many recent failures of one credential kind, by one person or at one gate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hub.access.models import Attempt, LockoutPolicy


def locked_until(failures: Sequence[datetime], policy_max: int, policy: LockoutPolicy) -> datetime | None:
    """When the lock-out triggered by these failure times ends, if ``policy_max`` of them fell in one window.

    The latest run of ``policy_max`` failures within ``policy.window`` sets the lock; it lasts ``duration``
    from the failure that completed the run.
    """
    times = sorted(failures)
    latest: datetime | None = None
    for i in range(policy_max - 1, len(times)):
        if times[i] - times[i - policy_max + 1] <= policy.window:
            latest = times[i] + policy.duration
    return latest


def is_locked_out(
    attempts: Sequence[Attempt],
    *,
    now: datetime,
    policy: LockoutPolicy,
    resident_id: str | None,
    gate_key: str,
) -> bool:
    """Whether the person (if known) or the gate is locked out for the kind these attempts are of."""
    gate_failures = [a.at for a in attempts if not a.granted and (a.gate_id or a.door_id) == gate_key]
    until = locked_until(gate_failures, policy.max_failures_per_gate, policy)
    if until is not None and now < until:
        return True
    if resident_id is None:
        return False
    mine = [a for a in attempts if a.resident_id == resident_id]
    last_grant = max((a.at for a in mine if a.granted), default=None)
    # A success resets the person's count: three bad frames spread over a week are not an attack.
    person_failures = [a.at for a in mine if not a.granted and (last_grant is None or a.at > last_grant)]
    until = locked_until(person_failures, policy.max_failures_per_person, policy)
    return until is not None and now < until
