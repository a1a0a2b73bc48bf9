"""LFW-style evaluation: the ``pairs.txt`` verification protocol and the open-set identification protocol.

Pure numpy over precomputed templates, so the protocols can be tested and re-scored without running dlib.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hub.exceptions import InvalidInputError
from hub.faces.models import FloatArray


@dataclass(frozen=True)
class Pair:
    fold: int
    first: str  # image path relative to images/
    second: str
    same: bool


def image_name(person: str, number: int) -> str:
    return f"{person}/{person}_{number:04d}.jpg"


def read_pairs(path: Path) -> list[Pair]:
    """Parse the standard LFW ``pairs.txt`` (header ``folds<TAB>n``, then per fold n same and n different)."""
    lines = [line.split("\t") for line in path.read_text().splitlines() if line.strip()]
    try:
        folds, per_kind = int(lines[0][0]), int(lines[0][1])
        pairs: list[Pair] = []
        for index, fields in enumerate(lines[1:]):
            fold = index // (2 * per_kind)
            if len(fields) == 3:
                first, second = image_name(fields[0], int(fields[1])), image_name(fields[0], int(fields[2]))
                pairs.append(Pair(fold, first, second, True))
            elif len(fields) == 4:
                first, second = image_name(fields[0], int(fields[1])), image_name(fields[2], int(fields[3]))
                pairs.append(Pair(fold, first, second, False))
            else:
                raise ValueError(f"line {index + 2} has {len(fields)} fields")
    except (ValueError, IndexError) as err:
        raise InvalidInputError(f"{path} is not an LFW pairs file: {err}") from err
    if len(pairs) != folds * 2 * per_kind:
        raise InvalidInputError(f"{path}: expected {folds * 2 * per_kind} pairs, found {len(pairs)}")
    return pairs


def list_images(images_dir: Path) -> dict[str, list[str]]:
    """Person -> their image paths (relative to ``images_dir``), both sorted by name."""
    people: dict[str, list[str]] = {}
    for person_dir in sorted(p for p in images_dir.iterdir() if p.is_dir()):
        files = sorted(f"{person_dir.name}/{f.name}" for f in person_dir.glob("*.jpg"))
        if files:
            people[person_dir.name] = files
    return people


def midpoint_threshold(scores: npt.NDArray[np.float64], same: npt.NDArray[np.bool_]) -> float:
    """The threshold (accept ``score >= t``) with the best accuracy; the middle of the best range on ties."""
    candidates = np.unique(scores[np.isfinite(scores)])
    if candidates.size == 0:
        return 0.0
    accuracy = np.array([np.mean((scores >= t) == same) for t in candidates])
    best = candidates[accuracy == accuracy.max()]
    # Ties are common with a few hundred pairs; the middle of the tied range generalises better than an end.
    return (float(best.min()) + float(best.max())) / 2


def cohort_normalised(a: FloatArray, b: FloatArray, cohort: FloatArray, top: int) -> npt.NDArray[np.float64]:
    """Pair similarity minus each side's mean similarity to its ``top`` nearest cohort faces.

    A face that resembles many people (a generic face, a poor photo) gets its similarity discounted; this is
    the 1:1 analogue of the margin term of the 1:N accept rule.
    """
    raw = np.sum(a * b, axis=1, dtype=np.float64)
    if cohort.shape[0] == 0:
        return np.asarray(raw, dtype=np.float64)
    k = min(top, cohort.shape[0])
    near_a = -np.sort(-(a @ cohort.T), axis=1)[:, :k].mean(axis=1)
    near_b = -np.sort(-(b @ cohort.T), axis=1)[:, :k].mean(axis=1)
    return np.asarray(raw - 0.5 * (near_a + near_b), dtype=np.float64)


def fnir_at_fpir(
    mated_scores: npt.NDArray[np.float64],
    mated_hits: npt.NDArray[np.bool_],
    stranger_scores: npt.NDArray[np.float64],
    fpir: float,
) -> tuple[float, float]:
    """(FNIR, threshold) at the loosest threshold (accept ``score < t``) whose stranger accept rate <= fpir."""
    allowed = int(np.floor(fpir * len(stranger_scores)))
    ordered = np.sort(stranger_scores)
    threshold = float(ordered[allowed]) if allowed < len(ordered) else float("inf")
    accepted = mated_hits & (mated_scores < threshold)
    return 1.0 - float(np.mean(accepted)) if len(mated_scores) else 0.0, threshold


# ---------------------------------------------------------------------------------------------- k-fold over people
DEFAULT_PEOPLE_FOLDS = 5


def person_folds(people: Iterable[str], folds: int = DEFAULT_PEOPLE_FOLDS) -> dict[str, int]:
    """Each person's fold, from a hash of the name: stable across runs, data sets and the order people come in.

    Folds are over *people*, not images: every image of a person (enrolled, probe or stranger) is in one fold.
    """
    if folds < 2:
        raise InvalidInputError(f"k-fold needs at least 2 folds, got {folds}")
    return {name: int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % folds for name in people}


@dataclass(frozen=True)
class FoldSplit:
    """One round of the k-fold: tune on ``train_*`` (the other folds' people), score ``test_*`` (this fold's)."""

    fold: int
    train_mated: npt.NDArray[np.bool_]
    train_strangers: npt.NDArray[np.bool_]
    test_mated: npt.NDArray[np.bool_]
    test_strangers: npt.NDArray[np.bool_]


def fold_splits(
    mated_folds: npt.NDArray[np.int64], stranger_folds: npt.NDArray[np.int64], folds: int
) -> list[FoldSplit]:
    """Masks over the mated and stranger probes for each fold (``*_folds``: the fold of each probe's person)."""
    return [
        FoldSplit(f, mated_folds != f, stranger_folds != f, mated_folds == f, stranger_folds == f) for f in range(folds)
    ]


def threshold_at_fpir(stranger_scores: npt.NDArray[np.float64], fpir: float) -> float:
    """The loosest threshold (accept ``score < t``) whose stranger accept rate is at most ``fpir``."""
    allowed = int(np.floor(fpir * len(stranger_scores)))
    ordered = np.sort(stranger_scores)
    return float(ordered[allowed]) if allowed < len(ordered) else float("inf")


@dataclass(frozen=True)
class HeldOut:
    """Figures with every threshold chosen on people disjoint from those scored, pooled over the folds."""

    fpir: float
    fnir: float
    false_accepts: int
    strangers: int
    mated: int
    thresholds: list[float]


def held_out(
    mated_scores: npt.NDArray[np.float64],
    mated_hits: npt.NDArray[np.bool_],
    mated_folds: npt.NDArray[np.int64],
    stranger_scores: npt.NDArray[np.float64],
    stranger_folds: npt.NDArray[np.int64],
    folds: int,
    choose: Callable[[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]], float],
) -> HeldOut:
    """k-fold: ``choose(train stranger scores, train mated scores, train hits)`` gives a threshold on k-1 folds'
    people, which then decides the held-out fold's probes (accept ``score < t``); counts are pooled."""
    false_accepts = accepted = strangers = mated = 0
    thresholds = []
    for split in fold_splits(mated_folds, stranger_folds, folds):
        threshold = choose(
            stranger_scores[split.train_strangers], mated_scores[split.train_mated], mated_hits[split.train_mated]
        )
        thresholds.append(round(threshold, 4))
        false_accepts += int((stranger_scores[split.test_strangers] < threshold).sum())
        strangers += int(split.test_strangers.sum())
        accepted += int((mated_hits[split.test_mated] & (mated_scores[split.test_mated] < threshold)).sum())
        mated += int(split.test_mated.sum())
    return HeldOut(
        fpir=false_accepts / max(strangers, 1),
        fnir=1 - accepted / max(mated, 1),
        false_accepts=false_accepts,
        strangers=strangers,
        mated=mated,
        thresholds=thresholds,
    )
