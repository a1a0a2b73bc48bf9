"""Kill the hub at random moments while it journals and uploads (``community-hub bench durability``, 20 cycles):
nothing it acknowledged is lost, each door's events reach the county in journal order, and every redelivery is
counted. The receiver here keeps every delivery (no unique index), so "stored twice" is measured, not hidden.
With ``power_loss`` each kill is a simulated power cut: every write after a file's last fsync is thrown away, so
the journal's ``synchronous=FULL`` is what keeps the acknowledged events (tests/hub/bench shows that ``OFF``
loses them under the same cuts)."""

from __future__ import annotations

import shutil
from collections import Counter

import pytest

from devkit.bench.durability import DurabilityResult, measure

CYCLES = 20


def _assert_consistent(result: DurabilityResult) -> None:
    ids = [d.id for d in result.deliveries]
    stored = set(ids)
    acknowledged = set(result.acknowledged_ids)
    assert result.cycles == CYCLES
    assert len(acknowledged) > CYCLES  # it did journal between kills
    assert acknowledged <= stored, "an acknowledged event never reached the receiver"
    assert acknowledged <= set(result.journal), "an acknowledged journal row vanished"
    assert set(result.journal) <= stored, "a journalled event was never sent"
    figures = result.figures()
    assert figures["lost"] == 0
    assert figures["out_of_order"] == 0
    assert figures["duplicates_at_receiver"] == len(ids) - len(stored)
    assert figures["redelivered"] == sum(1 for n in Counter(ids).values() if n > 1)
    assert figures["redelivered"] <= figures["duplicates_at_receiver"]
    for door in {door for _, door in result.journal.values()}:  # first arrivals per door follow the journal
        first_seen: list[int] = []
        for delivery in result.deliveries:
            seq, journal_door = result.journal[delivery.id]
            if journal_door == door and seq not in first_seen:
                first_seen.append(seq)
        assert first_seen == sorted(first_seen), f"{door} arrived out of order"
    assert result.rejected_requests == 0  # every request carried a valid signature


NO_CC = shutil.which("cc") is None and shutil.which("gcc") is None


@pytest.mark.parametrize("power_loss", [
    False, pytest.param(True, marks=pytest.mark.skipif(NO_CC, reason="the power-loss shim needs a C compiler")),
], ids=["sigkill", "power-cut"])
async def test_random_kills_lose_nothing_acknowledged_and_keep_door_order(
    power_loss: bool, socket_enabled: None
) -> None:
    result = await measure(CYCLES, power_loss=power_loss, seed=1400)
    _assert_consistent(result)
    assert sum(result.kills.values()) >= CYCLES
    if power_loss:
        assert result.cut.writes_undone > 0  # the cuts did throw unsynced writes away
        assert not result.cut.notes  # nothing the shim cannot model happened
