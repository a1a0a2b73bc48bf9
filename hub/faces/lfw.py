"""LFW-style evaluation: the ``pairs.txt`` verification protocol and the open-set identification protocol.

Pure numpy over precomputed templates, so the protocols can be tested and re-scored without running dlib.
"""

from __future__ import annotations

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
