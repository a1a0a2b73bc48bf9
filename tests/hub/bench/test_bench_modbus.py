"""The Modbus benchmark runs end to end and reports its figures (their values are not asserted)."""

from __future__ import annotations

import json

import pytest

from devkit.cli import main


def test_bench_modbus_prints_json_last(capsys: pytest.CaptureFixture[str], socket_enabled: None) -> None:
    """A small run prints the table and a JSON line with every figure the issue asks for."""
    assert main(["bench", "modbus", "--doors", "4", "--samples", "6", "--no-search", "--poll-ms", "20"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    figures = json.loads(last)
    assert set(figures) >= {"release_rtt_p50_ms", "release_rtt_p99_ms", "input_latency_p99_ms",
                            "largest_doors_under_250ms"}
    assert figures["doors"] == 4
    assert figures["input_latency_p99_ms"] != float("inf")


def test_bench_modbus_rejects_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    """Nonsense arguments get a clear message and a non-zero exit."""
    assert main(["bench", "modbus", "--doors", "0"]) == 2
    assert "--doors" in capsys.readouterr().out
