"""The accept rule, burst agreement and the LFW protocols (pure numpy, no dlib)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from devkit.bench.faces import open_set_protocol
from hub.faces.decision import DecisionRule, decide_burst
from hub.faces.lfw import cohort_normalised, fnir_at_fpir, list_images, midpoint_threshold, read_pairs
from hub.faces.models import FaceOutcome, SearchResult

RULE = DecisionRule()


def test_clear_match_is_accepted() -> None:
    result = SearchResult("alice", 0.25, "bob", 0.55)
    assert RULE.accepts(result)
    assert RULE.outcome(result) is FaceOutcome.ACCEPTED


def test_close_runner_up_makes_it_ambiguous() -> None:
    # Near enough to alice alone, but bob is almost as near: refuse rather than guess.
    result = SearchResult("alice", 0.30, "bob", 0.32)
    assert not RULE.accepts(result)
    assert RULE.outcome(result) is FaceOutcome.AMBIGUOUS


def test_far_face_is_unknown() -> None:
    assert RULE.outcome(SearchResult("alice", 0.50, "bob", 0.90)) is FaceOutcome.UNKNOWN_FACE
    assert RULE.outcome(SearchResult(None, float("inf"), None, float("inf"))) is FaceOutcome.EMPTY_GALLERY


def test_lone_resident_needs_a_close_match() -> None:
    # With one resident there is no runner-up; the capped second distance keeps the rule strict.
    assert RULE.accepts(SearchResult("alice", 0.30, None, float("inf")))
    assert not RULE.accepts(SearchResult("alice", 0.41, None, float("inf")))


def test_burst_needs_agreeing_frames() -> None:
    good = SearchResult("alice", 0.25, "bob", 0.6)
    poor = SearchResult("alice", 0.45, "bob", 0.6)
    assert decide_burst([good, good, poor], RULE).outcome is FaceOutcome.ACCEPTED
    assert decide_burst([good, poor, poor], RULE).outcome is FaceOutcome.FRAMES_DISAGREE
    assert decide_burst([good], RULE).outcome is FaceOutcome.ACCEPTED  # one frame: that one must accept
    other = SearchResult("bob", 0.25, "alice", 0.6)
    assert decide_burst([good, good, other], RULE).outcome is FaceOutcome.FRAMES_DISAGREE
    assert decide_burst([], RULE).outcome is FaceOutcome.NO_FACE
    assert decide_burst([poor, poor], RULE).outcome is FaceOutcome.UNKNOWN_FACE


def test_fnir_at_fpir_uses_loosest_safe_threshold() -> None:
    strangers = np.array([0.1, 0.5, 0.6, 0.7])
    mated = np.array([0.05, 0.2, 0.3])
    hits = np.array([True, True, False])
    fnir, threshold = fnir_at_fpir(mated, hits, strangers, fpir=0.0)
    assert threshold == 0.1
    assert fnir == pytest.approx(2 / 3)
    fnir, threshold = fnir_at_fpir(mated, hits, strangers, fpir=0.25)
    assert threshold == 0.5
    assert fnir == pytest.approx(1 / 3)  # the rank-1 miss stays a miss


def test_midpoint_threshold_and_cohort() -> None:
    scores = np.array([0.9, 0.8, 0.3, 0.2])
    same = np.array([True, True, False, False])
    threshold = midpoint_threshold(scores, same)
    assert 0.3 < threshold <= 0.8
    a = np.eye(128, dtype=np.float32)[:2]
    cohort = np.eye(128, dtype=np.float32)[2:5]
    assert np.allclose(cohort_normalised(a, a, cohort, top=2), 1.0)


def test_lfw_dev_protocols(faces_dir: Path) -> None:
    root = faces_dir / "lfw-dev"
    if not (root / "pairs.txt").exists():
        pytest.skip("lfw-dev not in the shared folder")
    pairs = read_pairs(root / "pairs.txt")
    assert len(pairs) == 1200  # header "2<TAB>300": two folds of 300 same and 300 different pairs
    assert sum(p.same for p in pairs) == 600
    assert {p.fold for p in pairs} == {0, 1}
    people = list_images(root / "images")
    enrolled, gallery, mated, strangers = open_set_protocol(people)
    assert (len(enrolled), len(mated), len(strangers)) == (154, 364, 1065)
    assert all(image.startswith(name + "/") for name, image in zip(enrolled, gallery, strict=True))
