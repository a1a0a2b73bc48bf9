"""The 1:N matcher: vectorised search agrees with a naive loop; enrol, remove and edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from hub.exceptions import InvalidInputError
from hub.faces.matcher import Matcher, normalise


def _naive(person_ids: list[str], templates: np.ndarray, probe: np.ndarray) -> tuple[str, float, str, float]:
    units = templates / np.linalg.norm(templates, axis=1, keepdims=True)
    unit_probe = probe / np.linalg.norm(probe)
    best: dict[str, float] = {}
    for person, row in zip(person_ids, units, strict=True):
        distance = float(np.linalg.norm(row - unit_probe))
        best[person] = min(distance, best.get(person, np.inf))
    ranked = sorted(best.items(), key=lambda kv: kv[1])
    return ranked[0][0], ranked[0][1], ranked[1][0], ranked[1][1]


def test_search_matches_naive_loop() -> None:
    rng = np.random.default_rng(1)
    templates = rng.standard_normal((500, 128)).astype(np.float32)
    person_ids = [f"person-{i % 97}" for i in range(500)]  # several templates per person
    matcher = Matcher.from_arrays(person_ids, templates)
    probes = rng.standard_normal((20, 128)).astype(np.float32)
    for probe, result in zip(probes, matcher.search_many(probes), strict=True):
        person, distance, second, second_distance = _naive(person_ids, templates, probe)
        assert result.person_id == person
        assert result.second_person_id == second
        assert result.distance == pytest.approx(distance, abs=1e-5)
        assert result.second_distance == pytest.approx(second_distance, abs=1e-5)
        assert result.margin == pytest.approx(second_distance - distance, abs=1e-5)


def test_runner_up_is_another_person() -> None:
    base = np.zeros(128, dtype=np.float32)
    base[0] = 1.0
    near = base.copy()
    near[1] = 0.05
    other = np.zeros(128, dtype=np.float32)
    other[2] = 1.0
    matcher = Matcher()
    matcher.add("alice", np.stack([base, near]))
    matcher.add("bob", other)
    result = matcher.search(base)
    assert (result.person_id, result.second_person_id) == ("alice", "bob")
    assert result.distance == pytest.approx(0.0, abs=1e-6)
    assert result.second_distance == pytest.approx(np.sqrt(2), abs=1e-5)


def test_search_excluding_a_person_is_the_search_without_them() -> None:
    """Enrolment asks who *else* a photo is near: the same answer as a gallery that never held that person."""
    rng = np.random.default_rng(2)
    templates = rng.standard_normal((300, 128)).astype(np.float32)
    person_ids = [f"person-{i % 31}" for i in range(300)]
    matcher = Matcher.from_arrays(person_ids, templates)
    kept = [i for i, p in enumerate(person_ids) if p != "person-3"]
    without = Matcher.from_arrays([person_ids[i] for i in kept], templates[kept])
    probes = np.concatenate([templates[person_ids.index("person-3")][None, :],
                             rng.standard_normal((5, 128)).astype(np.float32)])
    assert matcher.search_many(probes, exclude="person-3") == without.search_many(probes)
    assert matcher.search(probes[0]).person_id == "person-3"  # the gallery itself is unchanged
    assert matcher.search_many(probes, exclude="nobody") == matcher.search_many(probes)
    alone = Matcher()
    alone.add("solo", templates[0])
    assert alone.search_many(templates[0], exclude="solo")[0].person_id is None


def test_add_remove_and_growth() -> None:
    rng = np.random.default_rng(2)
    matcher = Matcher()
    for i in range(200):  # beyond the initial capacity, so the matrix grows
        matcher.add(f"p{i}", rng.standard_normal(128))
    assert len(matcher) == 200
    assert matcher.person_count == 200
    target = matcher.templates_of("p50")[0]
    assert matcher.search(target).person_id == "p50"
    assert matcher.remove("p50") == 1
    assert "p50" not in matcher
    assert matcher.remove("p50") == 0
    assert matcher.search(target).person_id != "p50"
    assert len(matcher) == 199
    assert matcher.templates_of("p50").shape == (0, 128)


def test_single_person_and_empty_gallery() -> None:
    matcher = Matcher()
    empty = matcher.search(np.ones(128))
    assert empty.person_id is None
    assert empty.distance == np.inf
    matcher.add("only", np.ones(128))
    alone = matcher.search(np.ones(128))
    assert alone.person_id == "only"
    assert alone.second_person_id is None
    assert alone.second_distance == np.inf


@pytest.mark.parametrize(
    "bad",
    [np.zeros(128), np.ones(127), np.full(128, np.nan), np.ones((2, 3))],
    ids=["zero", "short", "nan", "shape"],
)
def test_rejects_bad_templates(bad: np.ndarray) -> None:
    with pytest.raises(InvalidInputError):
        normalise(bad)


def test_from_arrays_checks_lengths() -> None:
    with pytest.raises(InvalidInputError):
        Matcher.from_arrays(["a", "b"], np.ones((3, 128)))
    with pytest.raises(InvalidInputError):
        Matcher().add("", np.ones(128))
