"""The gate benchmark runs end to end on 1080p camera frames, in both capture modes (frames after presence, and
the product's ring buffer of the camera stream), and lets every enrolled resident in (timings not asserted)."""

from __future__ import annotations

import json

import pytest

from devkit.cli import main


@pytest.mark.parametrize("capture", ["after", "ring"])
def test_bench_gate_lets_every_resident_in(capture: str, capsys: pytest.CaptureFixture[str],
                                           socket_enabled: None) -> None:
    assert main(["bench", "gate", "--runs", "3", "--poll-ms", "20", "--idle-s", "0.5", "--capture", capture]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(figures) >= {"p50_ms", "p99_ms", "decision_p50_ms", "runs", "idle_cpu_pct_per_gate", "refusals"}
    assert (figures["frame_size"], figures["runs"], figures["capture"]) == ("1920x1080", 3, capture)
    # Every run is a different enrolled resident standing still at the gate, and every one is let in.
    assert figures["not_let_in"] == 0 and figures["refusals"] == {}
    assert figures["p50_ms"] > 0 and figures["p99_ms"] >= figures["p50_ms"]
    assert figures["idle_cpu_pct_per_gate"] >= 0


def test_bench_gate_refuses_a_bad_frame_size(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["bench", "gate", "--frame-size", "big"])
    assert "WIDTHxHEIGHT" in capsys.readouterr().err
