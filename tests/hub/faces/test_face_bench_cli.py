"""The face benchmarks run through the real CLI on small folders and end with one JSON line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from devkit.cli import main


def _last_json(output: str) -> dict[str, object]:
    result: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    return result


def test_bench_match(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "match", "--templates", "3000", "--per-person", "3", "--queries", "5"]) == 0
    figures = _last_json(capsys.readouterr().out)
    assert figures["templates"] == 3000
    assert figures["people"] == 1000
    assert {"ms_per_query", "mb"} <= figures.keys()


@pytest.fixture
def tiny_lfw(tmp_path: Path, community: dict[str, list[Path]]) -> Path:
    """An LFW-layout folder made from the community photos: 4 people x 3 images, 2 folds of 1+1 pairs."""
    names = list(community)[:4]
    for name in names:
        folder = tmp_path / "images" / name
        folder.mkdir(parents=True)
        for number, photo in enumerate(community[name][:3], start=1):
            shutil.copy(photo, folder / f"{name}_{number:04d}.jpg")
    a, b, c, d = names
    lines = ["2\t1", f"{a}\t1\t2", f"{a}\t1\t{b}\t1", f"{c}\t1\t2", f"{c}\t1\t{d}\t1"]
    (tmp_path / "pairs.txt").write_text("\n".join(lines) + "\n")
    return tmp_path


@pytest.mark.usefixtures("engine")
def test_bench_faces(tiny_lfw: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "templates.npz"
    assert main(["bench", "faces", "--lfw", str(tiny_lfw), "--cache", str(cache)]) == 0
    figures = _last_json(capsys.readouterr().out)
    assert figures["images"] == 12
    assert figures["enrolled"] == 2  # every other person with 2+ images
    for key in ("verification_accuracy", "fnir_at_fpir_1e-3", "operating_fpir", "operating_fnir", "sec_per_image"):
        assert key in figures
    assert 0.0 <= float(figures["verification_accuracy"]) <= 1.0  # type: ignore[arg-type]
    # A second run re-scores the cached templates and gives the same figures.
    assert main(["bench", "faces", "--lfw", str(tiny_lfw), "--cache", str(cache)]) == 0
    again = _last_json(capsys.readouterr().out)
    assert again["verification_accuracy"] == figures["verification_accuracy"]
