"""The community's writer thread: gate bursts racing managers' enrolments never hang, and the gallery follows
every change without a reload (real SQLite file, real encryption; templates are random unit vectors)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from hub.community import Community
from hub.exceptions import StorageError
from hub.face_gate import CommunityFaces
from hub.writer import Writer

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
SCOPE = "North gate, templates only"


def _templates(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    rows = rng.normal(size=(n, 128)).astype(np.float32)
    return list(rows / np.linalg.norm(rows, axis=1, keepdims=True))


@pytest.fixture
def community(tmp_path: Path) -> Iterator[Community]:
    c = Community(tmp_path / "c.db", tmp_path / "keys" / "k.key", timezone=ZoneInfo("UTC"))
    yield c
    c.close()


def _resident(community: Community, rid: str, rng: np.random.Generator, templates: int = 2) -> None:
    registry = community.registry
    community.call(registry.residents.add_resident, "mgr", rid, f"Resident {rid}")
    community.call(registry.consents.record_consent, "mgr", rid, scope=SCOPE, given_at=NOW)
    community.call(registry.faces.enrol_templates, "mgr", rid, _templates(rng, templates))


def test_gate_bursts_racing_enrolments_never_hang(community: Community) -> None:
    """The deadlock this replaced: a burst loading the gallery took the faces lock, then the community's; an
    enrolment held the community's lock while its audit hook took the faces lock. Here four gate threads load
    and search the gallery while two manager threads enrol, re-enrol and withdraw, with the gallery dropped
    (as a change that names nobody does) between rounds, so loads and changes keep crossing."""
    rng = np.random.default_rng(7)
    for i in range(20):
        _resident(community, f"r-{i}", rng)
    faces = CommunityFaces(community)
    stop = threading.Event()
    errors: list[BaseException] = []
    searches = [0]

    def gate() -> None:
        probe_rng = np.random.default_rng(threading.get_ident() % 1000)
        try:
            while not stop.is_set():
                faces.gallery().search(_templates(probe_rng, 1)[0])
                searches[0] += 1
        except BaseException as err:  # reported below
            errors.append(err)

    def manager(offset: int) -> None:
        local = np.random.default_rng(offset)
        registry = community.registry
        try:
            for round_ in range(15):
                rid = f"m-{offset}-{round_}"
                _resident(community, rid, local)
                community.call(registry.faces.enrol_templates, "mgr", f"r-{round_}", _templates(local, 1))
                if round_ % 3 == 0:
                    community.call(registry.consents.withdraw_consent, "mgr", rid, withdrawn_at=NOW)
                faces._matcher = None  # the next burst loads again, racing the next change
        except BaseException as err:  # reported below
            errors.append(err)

    gates = [threading.Thread(target=gate, daemon=True) for _ in range(4)]
    managers = [threading.Thread(target=manager, args=(k,), daemon=True) for k in (1, 2)]
    for t in gates + managers:
        t.start()
    for t in managers:
        t.join(timeout=120)
    stop.set()
    for t in gates:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in gates + managers), "a gate or a manager thread hung"
    assert errors == []
    assert searches[0] > 0
    # The gallery in memory is what a fresh load from the database gives.
    fresh = community.call(community.registry.faces.load_gallery)
    matcher = faces.gallery()
    assert sorted(set(fresh.resident_ids)) == matcher.people()
    assert len(matcher) == len(fresh.resident_ids)


def test_the_gallery_follows_changes_without_reloading(community: Community) -> None:
    rng = np.random.default_rng(3)
    _resident(community, "r-anna", rng, templates=3)
    faces = CommunityFaces(community)
    assert len(faces.gallery()) == 3 and faces.reloads == 1
    registry = community.registry

    _resident(community, "r-ben", rng, templates=2)  # enrolment of someone new
    community.call(registry.faces.enrol_templates, "mgr", "r-anna", _templates(rng, 1))  # one more photo
    assert faces.gallery().people() == ["r-anna", "r-ben"] and len(faces.gallery()) == 6
    probe = community.call(registry.faces.load_gallery, "r-ben").templates[0]
    assert faces.gallery().search(probe).person_id == "r-ben"

    community.call(registry.consents.withdraw_consent, "mgr", "r-ben", withdrawn_at=NOW)  # withdrawal
    assert faces.gallery().people() == ["r-anna"] and len(faces.gallery()) == 4
    community.call(registry.remove_resident, "mgr", "r-anna")  # erasure (its audit record names nobody)
    assert faces.gallery().people() == [] and len(faces.gallery()) == 0
    assert faces.reloads == 1


def test_writer_runs_jobs_in_order_inline_from_itself_and_refuses_after_close() -> None:
    writer = Writer("test-writer")
    seen: list[int] = []
    futures = [writer.submit(seen.append, i) for i in range(100)]
    assert [f.result(timeout=5) for f in futures] == [None] * 100
    assert seen == list(range(100))
    # A job that calls the writer again runs the inner job inline instead of waiting on itself.
    assert writer.call(lambda: writer.call(lambda: "inner")) == "inner"
    with pytest.raises(ZeroDivisionError):
        writer.call(lambda: 1 // 0)
    closed: list[bool] = []
    writer.close(lambda: closed.append(True))
    assert closed == [True]
    with pytest.raises(StorageError, match="closed"):
        writer.submit(seen.append, 1)


def test_a_community_made_and_dropped_leaves_no_thread(tmp_path: Path) -> None:
    """A set-up cancelled right after the database opened: no writer thread was started, and closing works."""
    before = set(threading.enumerate())
    c = Community(tmp_path / "c.db", tmp_path / "keys" / "k.key", timezone=ZoneInfo("UTC"))
    assert set(threading.enumerate()) == before
    c.close()
    assert set(threading.enumerate()) == before
