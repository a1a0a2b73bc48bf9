"""``community-hub bench scale`` on a small community: every figure is printed, and the enrolments it makes
are followed by the gallery without a reload."""

from __future__ import annotations

import json

import pytest

from devkit.cli import main


def test_bench_scale_prints_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "scale", "--residents", "150", "--decisions", "20", "--enrolments", "5",
                 "--import-rows", "300"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(result) >= {"decision_p50_ms", "decision_after_enrolment_ms", "gallery_load_s", "summary_ms"}
    assert result["residents"] == 150
    assert result["templates"] == (150 + 5) * 3  # the five newcomers are in the gallery
    assert result["gallery_reloads"] == 1
    # The import ran alongside the decisions, and imported everyone (its residents have cards, not faces).
    assert result["import_rows"] == 300 and result["decisions_during_import"] >= 1
    assert result["decision_during_import_max_ms"] is not None
