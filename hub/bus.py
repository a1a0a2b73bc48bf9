"""A small typed event bus: one per community or controller service, instead of public listener lists.

Subscribers are called synchronously, on the thread that publishes (the event loop for the gate path and the
controller service; the community's writer thread for manager actions), in the order they subscribed. A
subscriber that raises is logged and skipped: it never breaks the publisher (the gate path) or the subscribers
after it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

_LOGGER = logging.getLogger(__name__)

E = TypeVar("E")

Unsubscribe = Callable[[], None]


class EventBus:
    """Typed publish/subscribe: ``subscribe(DecisionEvent, callback)`` type-checks the callback's argument."""

    def __init__(self, owner: str) -> None:
        self._owner = owner
        self._lock = threading.Lock()
        # Copy-on-write tuples: publishing (on any thread) never sees a list change under it.
        self._subscribers: dict[type[Any], tuple[Callable[[Any], None], ...]] = {}

    def __repr__(self) -> str:
        return f"EventBus({self._owner!r})"

    def subscribe(self, event_type: type[E], callback: Callable[[E], None]) -> Unsubscribe:
        """Call ``callback`` with every event of exactly ``event_type``; returns the unsubscribe callable
        (calling it again does nothing)."""
        with self._lock:
            self._subscribers[event_type] = (*self._subscribers.get(event_type, ()), callback)

        def unsubscribe() -> None:
            with self._lock:
                current = self._subscribers.get(event_type, ())
                if callback in current:
                    index = current.index(callback)
                    self._subscribers[event_type] = current[:index] + current[index + 1:]

        return unsubscribe

    def subscriber_count(self, event_type: type[Any]) -> int:
        """How many callbacks hear ``event_type`` (for tests and diagnostics)."""
        return len(self._subscribers.get(event_type, ()))

    def publish(self, event: object) -> None:
        """Hand ``event`` to each subscriber of its type; a subscriber's error is logged, never raised."""
        for callback in self._subscribers.get(type(event), ()):
            try:
                callback(event)
            except Exception:
                _LOGGER.exception("%s: a subscriber to %s failed", self._owner, type(event).__name__)
