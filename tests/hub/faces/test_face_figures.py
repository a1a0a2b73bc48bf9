"""The held-out protocol behind ``bench faces``: k-fold over people never scores a person it tuned on; the
operating threshold's tail estimate; the plain face_recognition baseline both ways; enrolment jitter."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from devkit.bench.faces import _encode_with_baseline, open_set_protocol
from devkit.cli import main
from hub.exceptions import InvalidInputError
from hub.faces.decision import operating_threshold
from hub.faces.lfw import fold_splits, held_out, list_images, person_folds


@pytest.fixture
def lfw_people(faces_dir: Path) -> dict[str, list[str]]:
    images = faces_dir / "lfw-dev" / "images"
    if not images.is_dir():
        pytest.skip("lfw-dev not found")
    return list_images(images)


def _probe_people(people: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    _, _, mated, strangers = open_set_protocol(people)
    return [name for _, name in mated], [image.split("/")[0] for image in strangers]


def test_kfold_split_never_scores_a_person_it_tuned_on(lfw_people: dict[str, list[str]]) -> None:
    folds = person_folds(lfw_people, 5)
    mated_people, stranger_people = _probe_people(lfw_people)
    mated_folds = np.array([folds[p] for p in mated_people])
    stranger_folds = np.array([folds[p] for p in stranger_people])
    tested_mated = np.zeros(len(mated_people), dtype=int)
    tested_strangers = np.zeros(len(stranger_people), dtype=int)
    for split in fold_splits(mated_folds, stranger_folds, 5):
        tuned = {p for p, m in zip(mated_people, split.train_mated, strict=True) if m}
        tuned |= {p for p, m in zip(stranger_people, split.train_strangers, strict=True) if m}
        scored = {p for p, m in zip(mated_people, split.test_mated, strict=True) if m}
        scored |= {p for p, m in zip(stranger_people, split.test_strangers, strict=True) if m}
        assert scored, "every fold scores someone"
        assert not tuned & scored
        tested_mated += split.test_mated
        tested_strangers += split.test_strangers
    # Every probe is scored exactly once over the folds (the pooled figures count each once).
    assert (tested_mated == 1).all() and (tested_strangers == 1).all()


def test_folds_are_stable_and_by_person() -> None:
    names = [f"Person_{i}" for i in range(200)]
    assert person_folds(names, 5) == person_folds(reversed(names), 5)  # not the order people come in
    assert set(person_folds(names, 5).values()) == set(range(5))
    with pytest.raises(InvalidInputError):
        person_folds(names, 1)


def test_held_out_chooser_sees_only_the_other_folds() -> None:
    rng = np.random.default_rng(1)
    mated_folds = rng.integers(0, 4, 300)
    stranger_folds = rng.integers(0, 4, 900)
    # Every score is unique, so what the chooser is given tells which probes it saw.
    mated = rng.permutation(300).astype(np.float64) / 1000
    strangers = 0.5 + rng.permutation(900).astype(np.float64) / 1000
    hits = np.ones(300, dtype=bool)
    seen: list[tuple[set[float], set[float]]] = []

    def choose(s: npt.NDArray[np.float64], m: npt.NDArray[np.float64], _h: npt.NDArray[np.bool_]) -> float:
        seen.append((set(s.tolist()), set(m.tolist())))
        return 0.2

    result = held_out(mated, hits, mated_folds, strangers, stranger_folds, 4, choose)
    for fold, (s, m) in enumerate(seen):
        assert not s & set(strangers[stranger_folds == fold].tolist())
        assert not m & set(mated[mated_folds == fold].tolist())
    assert result.strangers == 900 and result.mated == 300
    assert result.false_accepts == 0 and result.fnir == pytest.approx(1 - float(np.mean(mated < 0.2)))


def test_operating_threshold_follows_the_tail() -> None:
    # Scores with an exponential lower tail: P(score < t) = 0.5 * exp((t - 1) / 0.05) below 1.
    rng = np.random.default_rng(3)
    lower = 1 - rng.exponential(0.05, 20_000)
    scores = np.concatenate([lower, 1 + rng.exponential(0.05, 20_000)])
    true = 1 + 0.05 * np.log(1e-3 / 0.5)
    assert operating_threshold(scores, 1e-3) == pytest.approx(true, abs=0.02)
    assert operating_threshold(scores, 1e-4) < operating_threshold(scores, 1e-3)
    with pytest.raises(InvalidInputError):
        operating_threshold([0.1, float("inf")], 1e-3)
    with pytest.raises(InvalidInputError):
        operating_threshold(scores, 0)


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


@pytest.mark.usefixtures("engine")
def test_baseline_takes_the_central_face_and_the_first_face(
    community: dict[str, list[Path]], tmp_path: Path
) -> None:
    """Plain face_recognition both ways on a frame with the resident in the middle and someone else at the edge."""
    resident, passer_by = list(community)[:2]
    canvas = Image.new("RGB", (900, 500), (120, 120, 120))
    with Image.open(community[resident][0]) as a, Image.open(community[passer_by][0]) as b:
        canvas.paste(a.resize((220, 220)), (340, 140))
        canvas.paste(b.resize((200, 200)), (10, 10))
        a.save(tmp_path / "alone.jpg")
    frame = tmp_path / "frame.jpg"
    frame.write_bytes(_jpeg(canvas))
    central, first, seconds = _encode_with_baseline(str(frame))
    alone, _, _ = _encode_with_baseline(str(tmp_path / "alone.jpg"))
    assert seconds > 0
    assert np.isfinite(central).all() and np.isfinite(first).all()
    assert np.linalg.norm(central - alone) < 0.6  # the central face is the resident
    # The first detected face is whichever dlib lists first: the resident or the passer-by, never neither.
    assert np.linalg.norm(first - alone) < 0.6 or np.linalg.norm(first - central) > 0.6


@pytest.fixture
def small_lfw(tmp_path: Path, community: dict[str, list[Path]]) -> Path:
    """An LFW-layout folder from the community photos: 5 people x 3 images, 2 folds of 1+1 pairs."""
    names = list(community)[:5]
    for name in names:
        folder = tmp_path / "lfw" / "images" / name
        folder.mkdir(parents=True)
        for number, photo in enumerate(community[name][:3], start=1):
            shutil.copy(photo, folder / f"{name}_{number:04d}.jpg")
    a, b, c, d, _ = names
    lines = ["2\t1", f"{a}\t1\t2", f"{a}\t1\t{b}\t1", f"{c}\t1\t2", f"{c}\t1\t{d}\t1"]
    (tmp_path / "lfw" / "pairs.txt").write_text("\n".join(lines) + "\n")
    return tmp_path / "lfw"


@pytest.mark.usefixtures("engine")
def test_bench_faces_json_with_the_baseline_both_ways(small_lfw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "faces", "--lfw", str(small_lfw), "--baseline", "--folds", "2"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("verification_accuracy", "held_out_fnir", "held_out_fpir", "operating_fnir", "operating_fpir",
                "operating_held_out_fnir", "operating_held_out_fpir", "held_out_thresholds", "people_folds",
                "sec_per_image"):
        assert key in figures, key
    assert figures["people_folds"] == 2 and len(figures["held_out_thresholds"]) == 2
    for way in ("baseline_", "baseline_first_face_"):
        for key in ("verification_accuracy", "verification_accuracy_at_0.6", "held_out_fnir", "held_out_fpir",
                    "fpir_at_0.6", "fnir_at_0.6"):
            assert f"{way}{key}" in figures, way + key
    # One face per photo here: the central face is the first face, so both ways agree.
    assert figures["baseline_held_out_fnir"] == figures["baseline_first_face_held_out_fnir"]
    assert 0 <= figures["held_out_fnir"] <= 1 and 0 <= figures["verification_accuracy"] <= 1


def test_bench_faces_refuses_one_fold(small_lfw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "faces", "--lfw", str(small_lfw), "--folds", "1"]) == 2
    assert "--folds" in capsys.readouterr().out


@pytest.mark.usefixtures("engine")
def test_enrolment_jitter_is_deterministic_and_stays_the_same_face(community: dict[str, list[Path]]) -> None:
    from hub.faces.encode import ENROLMENT_JITTERS, encode_chips, jittered

    with Image.open(next(iter(community.values()))[0]) as img:
        chip = np.asarray(img.convert("RGB").resize((150, 150)), dtype=np.uint8)
    first, again = jittered(chip, 4), jittered(chip, 4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not any(np.array_equal(a, chip) for a in first)  # each copy is moved
    plain = encode_chips([chip])[0]
    enrolled = encode_chips([chip], jitters=ENROLMENT_JITTERS)[0]
    assert np.linalg.norm(enrolled) == pytest.approx(1.0, abs=1e-5)
    assert 0 < np.linalg.norm(enrolled - plain) < 0.2  # the same face, a slightly different template
