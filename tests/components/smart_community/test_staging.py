"""Checked photos wait for the manager's confirmation: per user, for 15 minutes, never more than the cap."""

from __future__ import annotations

import numpy as np
import pytest

from custom_components.smart_community import staging
from custom_components.smart_community.staging import STAGED_FOR_S, PhotoStaging
from hub.exceptions import NotFoundError
from hub.residents.bulk_import import PhotoCheck


def _check(name: str) -> PhotoCheck:
    # A random unit vector stands in for the encoder's template; the face engine is tested with real photos.
    template = np.random.default_rng(0).normal(size=128).astype(np.float32)
    return PhotoCheck(filename=name, accepted=True, reason=None, template=template / np.linalg.norm(template))


def test_uploads_expire_and_belong_to_their_user() -> None:
    now = [1000.0]
    staged = PhotoStaging(clock=lambda: now[0])
    mine = staged.put("alice", _check("a.jpg"))
    assert [c.filename for c in staged.take("alice", [mine])] == ["a.jpg"]
    with pytest.raises(NotFoundError):
        staged.take("bob", [mine])
    now[0] += STAGED_FOR_S + 1
    with pytest.raises(NotFoundError, match="expired"):
        staged.take("alice", [mine])


def test_a_failed_take_removes_nothing_and_discard_forgets(monkeypatch: pytest.MonkeyPatch) -> None:
    staged = PhotoStaging()
    first = staged.put("alice", _check("a.jpg"))
    with pytest.raises(NotFoundError):
        staged.take("alice", [first, "unknown"])
    assert len(staged.take("alice", [first])) == 1
    staged.discard([first])
    with pytest.raises(NotFoundError):
        staged.take("alice", [first])


def test_the_oldest_go_when_a_user_stages_too_many(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staging, "MAX_STAGED_PER_USER", 3)
    staged = PhotoStaging()
    ids = [staged.put("alice", _check(f"{i}.jpg")) for i in range(4)]
    other = staged.put("bob", _check("b.jpg"))
    with pytest.raises(NotFoundError):
        staged.take("alice", [ids[0]])
    assert len(staged.take("alice", ids[1:])) == 3
    assert len(staged.take("bob", [other])) == 1
    staged.clear()
    with pytest.raises(NotFoundError):
        staged.take("bob", [other])
