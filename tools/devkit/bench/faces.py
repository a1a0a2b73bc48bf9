"""``community-hub bench faces --lfw DIR``: verification accuracy, open-set identification and speed on LFW.

DIR holds ``pairs.txt`` and ``images/<Name>/<Name>_NNNN.jpg``. Templates are computed from the images every run
(``--cache FILE`` keeps them for re-scoring). The last line printed is one JSON object with every figure.

Every open-set threshold is chosen on people disjoint from the people it is scored on: the people are split into
``--folds`` folds (by a hash of the name); for each fold the threshold is chosen on the other folds' strangers
and residents, the fold's own probes are scored with it, and the counts are pooled. ``held_out_*`` is the
threshold for FPIR 1e-3 chosen that way; ``operating_held_out_*`` is the hub's operating rule with its threshold
set by the rule's own procedure (:func:`hub.faces.decision.operating_threshold`) on the other folds.
``operating_*`` is the rule as shipped (``DEFAULT_RULE``): held out on any data but lfw-dev, which it was set on.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hub.exceptions import InvalidInputError
from hub.faces.lfw import (
    DEFAULT_PEOPLE_FOLDS,
    HeldOut,
    Pair,
    cohort_normalised,
    held_out,
    list_images,
    midpoint_threshold,
    person_folds,
    read_pairs,
    threshold_at_fpir,
)
from hub.faces.models import TEMPLATE_DIMENSIONS, FloatArray

_LOGGER = logging.getLogger(__name__)
FPIR_TARGET = 1e-3
COHORT_TOP = 10
BASELINE_DISTANCE = 0.6  # face_recognition's documented tolerance
_NO_FACE = np.full(TEMPLATE_DIMENSIONS, np.nan, dtype=np.float32)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lfw", type=Path, required=True, help="folder with pairs.txt and images/")
    parser.add_argument("--workers", type=int, default=1, help="processes encoding images (default 1)")
    parser.add_argument("--cache", type=Path, help="npz file to reuse templates from / save them to")
    parser.add_argument(
        "--folds", type=int, default=DEFAULT_PEOPLE_FOLDS,
        help=f"folds over the people for held-out thresholds (default {DEFAULT_PEOPLE_FOLDS})",
    )
    parser.add_argument(
        "--baseline", action="store_true",
        help="also score plain face_recognition (HOG upsampled once, one encoding, distance 0.6), "
        "taking the central face and the first detected face",
    )


# ---------------------------------------------------------------------------------------------- encoding
def _engine_chip(path: str) -> Any:
    from hub.faces.detect import detect_in_rgb, primary_face
    from hub.faces.encode import face_chip
    from hub.faces.imaging import to_rgb

    rgb = to_rgb(Path(path))
    face = primary_face(detect_in_rgb(rgb), rgb.shape)
    return None if face is None else face_chip(rgb, face)


def _encode_with_engine(path: str) -> tuple[FloatArray, FloatArray, float]:
    """(gate probe template, NaN, seconds): the primary face as the gate encodes it (NaN when none is found)."""
    from hub.faces.encode import encode_chips

    started = time.perf_counter()
    chip = _engine_chip(path)
    probe = _NO_FACE if chip is None else encode_chips([chip])[0]
    return probe, _NO_FACE, time.perf_counter() - started


def _encode_for_enrolment(path: str) -> tuple[FloatArray, FloatArray, float]:
    """(enrolment template, NaN, seconds): the same face encoded as enrolment encodes it (with jitter)."""
    from hub.faces.encode import ENROLMENT_JITTERS, encode_chips

    started = time.perf_counter()
    chip = _engine_chip(path)
    template = _NO_FACE if chip is None else encode_chips([chip], jitters=ENROLMENT_JITTERS)[0]
    return template, _NO_FACE, time.perf_counter() - started


def _encode_with_baseline(path: str) -> tuple[FloatArray, FloatArray, float]:
    """Plain face_recognition as its README shows: ``face_locations`` then ``face_encodings``; (the face nearest
    the centre, as the hub picks it; the first face found; seconds)."""
    import warnings

    from hub.faces.detect import CANDIDATE_RATIO

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import face_recognition  # type: ignore[import-untyped,unused-ignore]

    started = time.perf_counter()
    image = face_recognition.load_image_file(path)
    locations = face_recognition.face_locations(image)
    if not locations:
        return _NO_FACE, _NO_FACE, time.perf_counter() - started
    # (top, right, bottom, left); the hub's choice: of the faces at least half as wide as the widest, the one
    # nearest the frame's centre.
    widest = max(right - left for _, right, _, left in locations)
    candidates = [loc for loc in locations if loc[1] - loc[3] >= CANDIDATE_RATIO * widest]
    height, width = image.shape[:2]

    def off_centre(loc: tuple[int, int, int, int]) -> float:
        return float(np.hypot((loc[1] + loc[3]) / 2 - width / 2, (loc[0] + loc[2]) / 2 - height / 2))

    central = min(candidates, key=off_centre)
    wanted = [central] if central == locations[0] else [central, locations[0]]
    encodings = face_recognition.face_encodings(image, known_face_locations=wanted)
    elapsed = time.perf_counter() - started
    first = encodings[0] if central == locations[0] else encodings[1]
    return np.asarray(encodings[0], dtype=np.float32), np.asarray(first, dtype=np.float32), elapsed


def encode_all(
    paths: Sequence[Path], workers: int, encoder: Callable[[str], tuple[FloatArray, FloatArray, float]]
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.float64]]:
    """Two template sets (NaN rows where no face was found) and the seconds each image took on its core."""
    first = np.full((len(paths), TEMPLATE_DIMENSIONS), np.nan, dtype=np.float32)
    second = first.copy()
    seconds = np.zeros(len(paths))
    names = [str(p) for p in paths]
    if workers <= 1:
        results: Any = map(encoder, names)
        pool = None
    else:
        pool = ProcessPoolExecutor(max_workers=workers)
        results = pool.map(encoder, names, chunksize=16)
    try:
        for i, (a, b, elapsed) in enumerate(results):
            first[i], second[i], seconds[i] = a, b, elapsed
    finally:
        if pool is not None:
            pool.shutdown()
    return first, second, seconds


# ---------------------------------------------------------------------------------------------- verification
def verification(
    pairs: Sequence[Pair], index: dict[str, int], templates: FloatArray, enrolled: FloatArray | None = None
) -> dict[str, Any]:
    """Accuracy per pairs.txt fold, each fold's threshold chosen on the other folds (10-fold LFW practice).

    With ``enrolled``, a pair's first image is encoded as enrolment encodes it and its second as a gate probe.
    """
    same = np.array([p.same for p in pairs])
    folds = np.array([p.fold for p in pairs])
    first_rows = (templates if enrolled is None else enrolled)[[index[p.first] for p in pairs]]
    second_rows = templates[[index[p.second] for p in pairs]]
    missing = ~np.isfinite(first_rows).all(1) | ~np.isfinite(second_rows).all(1)
    a, b = np.nan_to_num(first_rows), np.nan_to_num(second_rows)
    plain = np.where(missing, -np.inf, np.sum(a * b, axis=1, dtype=np.float64))
    normalised = np.full(len(pairs), -np.inf)
    people_in_fold: dict[int, set[str]] = {}
    for p in pairs:
        people_in_fold.setdefault(p.fold, set()).update({p.first.split("/")[0], p.second.split("/")[0]})
    for fold in sorted(people_in_fold):
        # Cohort: faces of the people of the *other* folds, never anyone in the fold being scored.
        others = set().union(*(v for f, v in people_in_fold.items() if f != fold)) - people_in_fold[fold]
        rows = [i for name, i in index.items() if name.split("/")[0] in others and np.isfinite(templates[i]).all()]
        rows_in_fold = folds == fold
        normalised[rows_in_fold] = cohort_normalised(a[rows_in_fold], b[rows_in_fold], templates[rows], COHORT_TOP)
        normalised[rows_in_fold & missing] = -np.inf
    return {
        "verification_accuracy": round(_cross_validated(normalised, same, folds), 4),
        "verification_accuracy_plain": round(_cross_validated(plain, same, folds), 4),
        "pairs_without_face": int(missing.sum()),
    }


def _cross_validated(scores: npt.NDArray[np.float64], same: npt.NDArray[np.bool_], folds: npt.NDArray[Any]) -> float:
    accuracies = []
    for fold in np.unique(folds):
        train, test = folds != fold, folds == fold
        if not train.any():  # a single-fold file: nothing held out, say so through the figure's name in the docs
            train = test
        threshold = midpoint_threshold(scores[train], same[train])
        accuracies.append(float(np.mean((scores[test] >= threshold) == same[test])))
    return float(np.mean(accuracies))


# ---------------------------------------------------------------------------------------------- open set
def open_set_protocol(people: dict[str, list[str]]) -> tuple[list[str], list[str], list[tuple[str, str]], list[str]]:
    """(enrolled people, their enrolment images, mated probes as (image, person), stranger probes).

    Of the people with two or more images (sorted by name) every other one is enrolled, from their first image;
    their other images are mated probes, every image of everyone else is a stranger probe. On lfw-dev this is
    154 people enrolled, 364 mated and 1,065 stranger probes.
    """
    multi = [name for name, files in people.items() if len(files) >= 2]
    enrolled = multi[::2]
    chosen = set(enrolled)
    gallery = [people[name][0] for name in enrolled]
    mated = [(image, name) for name in enrolled for image in people[name][1:]]
    strangers = [image for name, files in people.items() if name not in chosen for image in files]
    return enrolled, gallery, mated, strangers


def _fpir_chooser(
    strangers: npt.NDArray[np.float64], _mated: npt.NDArray[np.float64], _hits: npt.NDArray[np.bool_]
) -> float:
    return threshold_at_fpir(strangers, FPIR_TARGET)


def _held_out_figures(prefix: str, result: HeldOut) -> dict[str, Any]:
    return {
        f"{prefix}fnir": round(result.fnir, 4),
        f"{prefix}fpir": round(result.fpir, 4),
        f"{prefix}false_accepts": result.false_accepts,
        f"{prefix}thresholds": result.thresholds,
    }


def open_set(
    people: dict[str, list[str]],
    index: dict[str, int],
    templates: FloatArray,
    enrolment_templates: FloatArray,
    folds: dict[str, int],
    k: int,
) -> dict[str, Any]:
    """Open-set identification with the hub's matcher and accept rule; thresholds held out over ``folds``."""
    from hub.faces.decision import DecisionRule, operating_threshold
    from hub.faces.matcher import Matcher
    from hub.faces.pipeline import DEFAULT_RULE

    enrolled, gallery, mated, strangers = open_set_protocol(people)
    matcher = Matcher()
    for name, image in zip(enrolled, gallery, strict=True):
        if np.isfinite(enrolment_templates[index[image]]).all():
            matcher.add(name, enrolment_templates[index[image]])
    rule = DEFAULT_RULE

    def search(images: Sequence[str]) -> list[Any]:
        rows = [index[x] for x in images]
        ok = [bool(np.isfinite(templates[i]).all()) for i in rows]
        found = iter(matcher.search_many(templates[[i for i, good in zip(rows, ok, strict=True) if good]]))
        return [next(found) if good else None for good in ok]

    def scores(results: Sequence[Any], rule: DecisionRule) -> npt.NDArray[np.float64]:
        # The curve uses the rule's score, still bounded by its absolute distance limit.
        return np.array(
            [rule.score(r) if r is not None and r.distance < rule.max_distance else np.inf for r in results]
        )

    mated_results = search([image for image, _ in mated])
    stranger_results = search(strangers)
    hits = np.array([r is not None and r.person_id == name for r, (_, name) in zip(mated_results, mated, strict=True)])
    mated_scores, stranger_scores = scores(mated_results, rule), scores(stranger_results, rule)
    mated_folds = np.array([folds[name] for _, name in mated], dtype=np.int64)
    stranger_folds = np.array([folds[image.split("/")[0]] for image in strangers], dtype=np.int64)
    at_fpir = held_out(mated_scores, hits, mated_folds, stranger_scores, stranger_folds, k, _fpir_chooser)

    def operating_chooser(
        train_strangers: npt.NDArray[np.float64], _mated: npt.NDArray[np.float64], _hits: npt.NDArray[np.bool_]
    ) -> float:
        try:
            return operating_threshold(train_strangers)
        except InvalidInputError:  # a tiny set: too few near strangers to estimate a tail from
            return threshold_at_fpir(train_strangers, FPIR_TARGET)

    operating = held_out(mated_scores, hits, mated_folds, stranger_scores, stranger_folds, k, operating_chooser)
    accepted_mated = np.array([r is not None and rule.accepts(r) for r in mated_results]) & hits
    accepted_strangers = np.array([r is not None and rule.accepts(r) for r in stranger_results])
    # The rule's threshold as its procedure sets it on all these people: what the shipped default would be.
    refit = replace(rule, max_score=round(operating_chooser(stranger_scores, mated_scores, hits), 3))
    return {
        "enrolled": matcher.person_count,
        "mated_probes": len(mated),
        "stranger_probes": len(strangers),
        "people_folds": k,
        "rank1_miss_rate": round(1.0 - float(hits.mean()), 4) if len(hits) else 0.0,
        **_held_out_figures("held_out_", at_fpir),
        # The name earlier runs used; now the held-out figure too (it used to be tuned on the strangers it scored).
        "fnir_at_fpir_1e-3": round(at_fpir.fnir, 4),
        **_held_out_figures("operating_held_out_", operating),
        "operating_fpir": round(float(accepted_strangers.mean()), 4) if len(strangers) else 0.0,
        "operating_fnir": round(1.0 - float(accepted_mated.mean()), 4) if len(mated) else 0.0,
        "operating_false_accepts": int(accepted_strangers.sum()),
        "operating_max_score": rule.max_score,
        "operating_max_score_refit_here": refit.max_score,
    }


# ---------------------------------------------------------------------------------------------- baseline
def baseline_figures(
    pairs: Sequence[Pair],
    people: dict[str, list[str]],
    index: dict[str, int],
    raw: FloatArray,
    folds: dict[str, int],
    k: int,
    prefix: str,
) -> dict[str, Any]:
    """Plain face_recognition: ``face_distance`` on its raw descriptors, ``compare_faces`` at 0.6; a photo where
    it finds no face is "different" in a pair and never a match in the open set (what a gate would do)."""
    same = np.array([p.same for p in pairs])
    pair_folds = np.array([p.fold for p in pairs])
    d = np.linalg.norm(raw[[index[p.first] for p in pairs]] - raw[[index[p.second] for p in pairs]], axis=1)
    d = np.where(np.isfinite(d), d, np.inf)
    enrolled, gallery, mated, strangers = open_set_protocol(people)
    gallery_matrix = np.nan_to_num(raw[[index[g] for g in gallery]], nan=1e3)

    def nearest(images: Sequence[str]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        probes = np.nan_to_num(raw[[index[x] for x in images]], nan=-1e3)
        distances = np.linalg.norm(probes[:, None, :] - gallery_matrix[None, :, :], axis=2)
        return distances.min(axis=1).astype(np.float64), distances.argmin(axis=1)

    mated_d, mated_arg = nearest([m[0] for m in mated])
    hits = np.array([enrolled[a] == name for a, (_, name) in zip(mated_arg, mated, strict=True)])
    stranger_d, _ = nearest(strangers)
    mated_folds = np.array([folds[name] for _, name in mated], dtype=np.int64)
    stranger_folds = np.array([folds[image.split("/")[0]] for image in strangers], dtype=np.int64)
    result = held_out(mated_d, hits, mated_folds, stranger_d, stranger_folds, k, _fpir_chooser)
    return {
        f"{prefix}verification_accuracy_at_0.6": round(float(np.mean((d < BASELINE_DISTANCE) == same)), 4),
        f"{prefix}verification_accuracy": round(_cross_validated(-d, same, pair_folds), 4),
        f"{prefix}pairs_without_face": int((~np.isfinite(d)).sum()),
        **_held_out_figures(f"{prefix}held_out_", result),
        f"{prefix}fpir_at_0.6": round(float(np.mean(stranger_d < BASELINE_DISTANCE)), 4),
        f"{prefix}fnir_at_0.6": round(1 - float(np.mean(hits & (mated_d < BASELINE_DISTANCE))), 4),
    }


# ---------------------------------------------------------------------------------------------- command
def run(args: argparse.Namespace) -> int:
    root: Path = args.lfw
    if args.folds < 2:
        print("--folds must be at least 2")
        return 2
    if args.baseline and importlib.util.find_spec("face_recognition") is None:
        # Asked for before any image is encoded, so a missing baseline costs nothing.
        print("--baseline needs the face_recognition package (pip install face_recognition==1.3.0; its models "
              "package needs setuptools<81 for pkg_resources), which the hub itself does not use")
        return 2
    pairs = read_pairs(root / "pairs.txt")
    people = list_images(root / "images")
    names = [image for files in people.values() for image in files]
    index = {name: i for i, name in enumerate(names)}
    for pair in pairs:
        for image in (pair.first, pair.second):
            if image not in index:
                print(f"pairs.txt names {image}, which is not under {root / 'images'}")
                return 2
    folds = person_folds(people, args.folds)
    _, gallery, _, _ = open_set_protocol(people)
    templates, enrolment, seconds = _templates(args, root, names, [*gallery, *(p.first for p in pairs)])
    figures: dict[str, Any] = {"images": len(names), "images_without_face": int((~np.isfinite(templates).all(1)).sum())}
    figures.update(verification(pairs, index, templates, enrolment))
    figures.update(open_set(people, index, templates, enrolment, folds, args.folds))
    figures["sec_per_image"] = round(float(seconds.mean()), 4) if seconds.size else None
    if args.baseline:
        central, first, raw_seconds = _baseline(args, root, names)
        figures.update(baseline_figures(pairs, people, index, central, folds, args.folds, "baseline_"))
        figures.update(baseline_figures(pairs, people, index, first, folds, args.folds, "baseline_first_face_"))
        figures["baseline_sec_per_image"] = round(float(raw_seconds.mean()), 4)
    print(f"Face engine on {root} ({len(pairs)} pairs, {len(names)} images, {args.folds} folds over the people)")
    for key, value in figures.items():
        print(f"  {key:<44} {value}")
    print(json.dumps(figures))
    return 0


def _cached(
    cache: Path | None, kind: str, names: list[str], compute: Callable[[], tuple[FloatArray, FloatArray, Any]]
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.float64]]:
    path = None if cache is None else cache.with_name(f"{cache.stem}{kind}{cache.suffix or '.npz'}")
    if path is not None and path.exists():
        stored = np.load(path, allow_pickle=False)
        if list(stored["names"]) == names and "second" in stored:
            _LOGGER.info("templates from %s", path)
            return stored["first"], stored["second"], stored["seconds"]
        _LOGGER.warning("%s was made from other images; computing again", path)
    first, second, seconds = compute()
    if path is not None:
        np.savez(path, names=np.array(names), first=first, second=second, seconds=seconds)
    return first, second, seconds


def _templates(
    args: argparse.Namespace, root: Path, names: list[str], enrolled: Sequence[str]
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.float64]]:
    """Every image as a gate probe; the images that are enrolled somewhere (open-set gallery, first image of a
    pair) also as enrolment encodes them (NaN rows for the others)."""
    paths = [root / "images" / n for n in names]
    chosen = set(enrolled)
    wanted = [n for n in names if n in chosen]
    row_of = {n: i for i, n in enumerate(names)}

    def compute() -> tuple[FloatArray, FloatArray, npt.NDArray[np.float64]]:
        probes, _, seconds = encode_all(paths, args.workers, _encode_with_engine)
        enrolment = np.full_like(probes, np.nan)
        rows, _, _ = encode_all([root / "images" / n for n in wanted], args.workers, _encode_for_enrolment)
        enrolment[[row_of[n] for n in wanted]] = rows
        return probes, enrolment, seconds

    return _cached(args.cache, "", names, compute)


def _baseline(
    args: argparse.Namespace, root: Path, names: list[str]
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.float64]]:
    paths = [root / "images" / n for n in names]
    return _cached(args.cache, "-baseline", names, lambda: encode_all(paths, args.workers, _encode_with_baseline))
