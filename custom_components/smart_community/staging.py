"""Photos checked for enrolment or import, waiting for the manager's confirmation.

Only the quality verdict and the template are kept (never the photo), in memory, for one user, for a short time:
the panel checks photos one at a time (with progress) and then confirms the accepted ones.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hub.exceptions import NotFoundError
from hub.residents.bulk_import import PhotoCheck

STAGED_FOR_S = 15 * 60
MAX_STAGED_PER_USER = 2_000


@dataclass(frozen=True)
class _Staged:
    user_id: str
    check: PhotoCheck
    expires: float


class PhotoStaging:
    """Checked photos by upload id; each user sees only their own, and they expire after 15 minutes.

    Used from the event loop and from executor threads, so every method holds a lock.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._items: dict[str, _Staged] = {}
        self._clock = clock
        self._lock = threading.Lock()

    def _expire(self) -> None:
        now = self._clock()
        for upload_id in [k for k, v in self._items.items() if v.expires <= now]:
            del self._items[upload_id]

    def put(self, user_id: str, check: PhotoCheck) -> str:
        """Keep a checked photo; returns its upload id (the oldest of this user's go when there are too many)."""
        with self._lock:
            return self._put(user_id, check)

    def _put(self, user_id: str, check: PhotoCheck) -> str:
        self._expire()
        mine = [k for k, v in self._items.items() if v.user_id == user_id]
        for upload_id in mine[: max(0, len(mine) - MAX_STAGED_PER_USER + 1)]:
            del self._items[upload_id]
        upload_id = secrets.token_urlsafe(12)
        self._items[upload_id] = _Staged(user_id, check, self._clock() + STAGED_FOR_S)
        return upload_id

    def take(self, user_id: str, upload_ids: Sequence[str]) -> list[PhotoCheck]:
        """The checks behind these ids (all of them or a NotFoundError; nothing is removed on error)."""
        with self._lock:
            return self._take(user_id, upload_ids)

    def _take(self, user_id: str, upload_ids: Sequence[str]) -> list[PhotoCheck]:
        self._expire()
        found = []
        for upload_id in upload_ids:
            staged = self._items.get(upload_id)
            if staged is None or staged.user_id != user_id:
                raise NotFoundError(f"upload {upload_id} is unknown or has expired; check the photo again")
            found.append(staged.check)
        return found

    def discard(self, upload_ids: Sequence[str]) -> None:
        """Forget these uploads (after they were enrolled or imported)."""
        with self._lock:
            for upload_id in upload_ids:
                self._items.pop(upload_id, None)

    def clear(self) -> None:
        """Forget everything (the community is unloading)."""
        with self._lock:
            self._items.clear()
