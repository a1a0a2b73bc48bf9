"""``bench build-bursts`` then ``bench bursts``, through the real CLI, on two community members: residents standing
still are let in as themselves, and ``--liveness off`` changes nothing but the liveness refusals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from devkit.cli import main
from hub.faces.paths import shared_faces_dir

COMMUNITY = shared_faces_dir() / "community"
PEOPLE = ("John_Salley", "John_Simm")


def _last_json(output: str) -> dict[str, object]:
    result: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Still residents and phone slideshows of two people (6 frames each), in the layout bench bursts reads."""
    from hub.faces.model_files import model_files

    pytest.importorskip("dlib")
    model_files()
    if not COMMUNITY.is_dir():
        pytest.skip(f"shared face photos not found at {COMMUNITY}")
    photos = tmp_path_factory.mktemp("photos")
    for name in PEOPLE:
        shutil.copytree(COMMUNITY / name, photos / name)
    out = tmp_path_factory.mktemp("bursts")
    assert main(["bench", "build-bursts", "--photos", str(photos), "--out", str(out), "--split", "none",
                 "--frames", "6", "--gallery-photos", "3", "--kinds", "still,replay_slideshow"]) == 0
    return out


def test_the_built_layout(built: Path) -> None:
    for name in PEOPLE:
        gallery = sorted(p.name for p in (built / "gallery" / name).glob("*.jpg"))
        assert gallery == sorted(p.name for p in (COMMUNITY / name).glob("*.jpg"))[:3]
        frames = sorted((built / "bursts" / "bona_fide" / name / "still").glob("*.jpg"))
        assert len(frames) == 6
        assert not {f.read_bytes() for f in frames} & {p.read_bytes() for p in (COMMUNITY / name).glob("*.jpg")}
        assert len(list((built / "bursts" / "attack" / "replay_slideshow" / name / "1").glob("*.jpg"))) == 6


def test_bench_bursts_with_and_without_liveness(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["bench", "bursts", "--gallery", str(built / "gallery"), "--bursts", str(built / "bursts")]
    capsys.readouterr()
    assert main(args) == 0
    on = _last_json(capsys.readouterr().out)
    assert main([*args, "--liveness", "off"]) == 0
    off = _last_json(capsys.readouterr().out)

    for figures in (on, off):
        assert set(figures) == {"bona_fide", "attack", "p50_ms"}
        assert set(figures["attack"]) == {"replay_slideshow"}  # type: ignore[arg-type]
        for tally in (figures["bona_fide"], figures["attack"]["replay_slideshow"]):  # type: ignore[index]
            assert set(tally) == {"n", "accepted", "accept_rate", "refusals"}
            assert tally["n"] == 2
        assert isinstance(figures["p50_ms"], float)
    # Both residents standing still are let in as themselves, with liveness on.
    assert on["bona_fide"] == {"n": 2, "accepted": 2, "accept_rate": 1.0, "refusals": {}}
    # Liveness off changes only the liveness refusals: each not_live refusal becomes an acceptance.
    for kind_on, kind_off in ((on["bona_fide"], off["bona_fide"]),
                              (on["attack"]["replay_slideshow"], off["attack"]["replay_slideshow"])):  # type: ignore[index]
        refusals_on = dict(kind_on["refusals"])
        not_live = refusals_on.pop("not_live", 0)
        assert kind_off["refusals"] == refusals_on
        assert kind_off["accepted"] == kind_on["accepted"] + not_live
    assert on["attack"]["replay_slideshow"]["refusals"].get("not_live", 0) >= 1  # type: ignore[index]


def test_bad_folders_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "bursts", "--gallery", str(tmp_path / "none"), "--bursts", str(tmp_path)]) == 2
    (tmp_path / "gallery").mkdir()
    assert main(["bench", "bursts", "--gallery", str(tmp_path / "gallery"), "--bursts", str(tmp_path)]) == 2
    assert "no bursts" in capsys.readouterr().out
    assert main(["bench", "build-bursts", "--photos", str(tmp_path), "--out", str(tmp_path / "o"),
                 "--kinds", "mask"]) == 2
