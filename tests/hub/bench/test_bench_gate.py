"""The gate benchmark runs end to end with real photos and reports its figures (values not asserted)."""

from __future__ import annotations

import json

import pytest

from devkit.cli import main


def test_bench_gate_prints_json_last(capsys: pytest.CaptureFixture[str], socket_enabled: None) -> None:
    assert main(["bench", "gate", "--runs", "2", "--poll-ms", "20"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(figures) >= {"p50_ms", "p99_ms", "runs"}
    assert figures["not_let_in"] == 0  # every enrolled person walking up was let in
