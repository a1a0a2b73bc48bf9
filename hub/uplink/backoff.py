"""Capped exponential backoff with full jitter, so many hubs coming back at once do not retry in lock-step."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delay before retry n: uniform in [base/2, min(cap, base * 2**n)]."""

    base_s: float = 0.5
    cap_s: float = 60.0
    _failures: int = field(default=0, init=False)
    _rng: random.Random = field(default_factory=random.Random, init=False, repr=False)

    def next_delay(self) -> float:
        """Record one failure and return how long to wait."""
        ceiling = min(self.cap_s, self.base_s * (2 ** min(self._failures, 30)))
        self._failures += 1
        return self._rng.uniform(min(self.base_s / 2, ceiling), ceiling)

    def reset(self) -> None:
        """After a success."""
        self._failures = 0

    @property
    def failures(self) -> int:
        """Consecutive failures so far."""
        return self._failures
