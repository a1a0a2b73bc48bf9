"""The vehicle benchmark, run as the command it is (a subprocess): real camera pushes in each vendor's wire format
to the real ANPR receiver, decisions on a real community database, the barrier's relay released on the simulated
Modbus controller, then a resent backlog drained to the county's reference receiver. Timing is printed, never
asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

KEYS = {"p50_ms", "p99_ms", "passes", "cadence_ms_per_lane", "granted_fresh", "relay_releases_live", "duplicates",
        "barrier_opens_during_backlog", "relay_releases_during_backlog", "backfilled", "resends_counted",
        "backlog_resends_sent", "upstream_vehicle_events", "missing_upstream"}


def _bench(*args: str) -> tuple[int, list[str], dict[str, Any]]:
    done = subprocess.run([sys.executable, "-m", "devkit.cli", "bench", "vehicles", *args],
                          capture_output=True, text=True, timeout=300, check=False)
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr
    return done.returncode, lines, json.loads(lines[-1])


@pytest.mark.parametrize("fmt", ["hikvision", "dahua", "vzenith"])
def test_live_passes_open_the_barrier_and_the_resent_backlog_adds_nothing_twice(fmt: str) -> None:
    code, lines, figures = _bench("--passes", "30", "--backlog", "300", "--format", fmt, "--interval-ms", "50")
    assert code == 0, "\n".join(lines)
    assert set(figures) >= KEYS and figures["format"] == fmt
    assert lines[0].split() == ["figure", "value"]  # the table comes first, the JSON line last
    # Every registered car at the lanes was let through: each granted fresh pass released its relay on the
    # simulated controller (its own release counter, read back), and only those.
    assert figures["passes"] == 30 and figures["granted_fresh"] == 30 and figures["not_opened"] == 0
    assert figures["relay_releases_live"] == figures["granted_fresh"]
    # The backlog: every record once, back-filled, the resends absorbed, the barrier never moved.
    assert figures["backfilled"] == 300 and figures["backfilled_granted"] > 0
    assert figures["resends_counted"] == figures["backlog_resends_sent"] > 0
    assert figures["barrier_opens_during_backlog"] == 0 and figures["relay_releases_during_backlog"] == 0
    # Upstream: each pass exactly once at the county's receiver.
    assert figures["duplicates"] == 0 and figures["duplicates_by_time_and_plate"] == 0
    assert figures["missing_upstream"] == 0 and figures["upstream_unknown"] == 0
    assert figures["upstream_vehicle_events"] == figures["stored_passes"] == 300 + 30 + 2  # + the warm-up car
    assert figures["upstream_backfilled"] == 300


def test_bad_options_are_refused_with_a_clear_error() -> None:
    done = subprocess.run([sys.executable, "-m", "devkit.cli", "bench", "vehicles", "--passes", "1"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "--passes must be at least 2" in done.stderr
