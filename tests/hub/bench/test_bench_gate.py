"""The gate benchmark runs end to end on 1080p camera frames and reports its figures (values not asserted)."""

from __future__ import annotations

import json

import pytest

from devkit.cli import main


def test_bench_gate_prints_json_last(capsys: pytest.CaptureFixture[str], socket_enabled: None) -> None:
    assert main(["bench", "gate", "--runs", "2", "--poll-ms", "20", "--idle-s", "0.5"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(figures) >= {"p50_ms", "p99_ms", "decision_p50_ms", "runs", "idle_cpu_pct_per_gate", "refusals"}
    assert figures["frame_size"] == "1920x1080" and figures["runs"] == 2
    assert figures["decision_p50_ms"] > 0
    # Every run ended in a decision: let in, or refused with a recorded reason.
    assert figures["not_let_in"] == sum(figures["refusals"].values())
    assert figures["idle_cpu_pct_per_gate"] >= 0


def test_bench_gate_refuses_a_bad_frame_size(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["bench", "gate", "--frame-size", "big"])
    assert "WIDTHxHEIGHT" in capsys.readouterr().err
