"""A gate without the QR decoder still decides: cards, PINs, typed pass codes and faces as before; a camera frame
that might hold a visitor pass is skipped (one warning, no decision, nothing recorded) instead of failing.

zxing-cpp has no musllinux wheel, so on Home Assistant OS it is missing. musl cannot run on this machine, so the
missing wheel is simulated with ``sys.modules["zxingcpp"] = None``, which makes ``import zxingcpp`` fail as it does
where the package is not installed.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from devices.hub_native_map import CredentialKind as ReaderKind
from devices.models import CredentialRead
from hub.access.models import AccessRule, FaceAssurance, FaceMatch, Reason
from hub.access.service import AccessService
from hub.community import Community
from hub.gate import AccessPoint, GateKeeper, GateOutcome
from hub.residents.models import IssuedPass

NOW = datetime.now(UTC).replace(microsecond=0)  # the registry checks pass times against its real clock
SKIPPED = "visitor-pass QR codes in camera frames are skipped"


class _Burst:
    def __init__(self, match: FaceMatch) -> None:
        self.match = match
        self.frames = 0

    def add(self, frame: bytes) -> bool:
        self.frames += 1
        return True

    @property
    def kept(self) -> int:
        return self.frames

    def finish(self) -> FaceMatch | None:
        return self.match

    def abandon(self) -> None:
        pass


class _Faces:
    """Stands in for the face engine: every frame shows resident r1, live (or, with ``resident_id=None``, a live
    face that is no resident's)."""

    def __init__(self, resident_id: str | None = "r1") -> None:
        self.match = FaceMatch(resident_id, 0.2 if resident_id else 0.8, True)

    def verify(self, frames: Sequence[bytes]) -> FaceMatch | None:
        return self.match

    def start(self) -> _Burst:
        return _Burst(self.match)


@pytest.fixture
def community(tmp_path: Path) -> Iterator[Community]:
    c = Community(tmp_path / "c.db", tmp_path / "keys" / "k.key", timezone=ZoneInfo("UTC"))
    c.ensure_door("gate", "North gate", face=True)
    c.set_face_assurance("gate", FaceAssurance.FACE_ALONE)
    c.access_config.add_rule(
        "mgr", AccessRule(rule_id="all", door_ids=frozenset({"gate"}), applies_to_all=True), name="All"
    )
    registry = c.registry
    registry.residents.add_resident("mgr", "r1", "Wu Min")
    registry.credentials.add_card("mgr", "r1", "11112222")
    registry.credentials.set_pin("mgr", "r1", "480213", keypad_code="301001")
    registry.consents.record_consent("mgr", "r1", scope="gates", given_at=NOW - timedelta(days=1))
    yield c
    c.close()


@pytest.fixture
def visitor(community: Community) -> IssuedPass:
    return community.registry.passes.issue_pass(
        "mgr", "r1", "Plumber Ma", ["gate"], valid_from=NOW - timedelta(minutes=5), valid_until=NOW + timedelta(hours=2)
    )


@pytest.fixture
def no_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """zxing-cpp not installed, as on musl (simulated: musl cannot run here)."""
    monkeypatch.setitem(sys.modules, "zxingcpp", None)


def _attempt_kinds(community: Community) -> list[str]:
    return [r["kind"] for r in community.registry.conn.execute("SELECT kind FROM access_attempts ORDER BY attempt_id")]


@pytest.mark.usefixtures("no_decoder")
def test_service_without_decoder(community: Community, visitor: IssuedPass, caplog: pytest.LogCaptureFixture) -> None:
    service = AccessService(community.registry.conn, community.registry.keys, timezone=UTC)
    caplog.set_level(logging.WARNING, logger="hub.access.service")
    assert service.present_card("gate", "11112222", NOW).granted
    assert service.enter_pin("gate", "301001", "480213", NOW).granted
    assert service.enter_pin("gate", "301001", "000000", NOW).reason is Reason.WRONG_PIN
    for _ in range(5):  # a pass held up to the camera: skipped, not denied, and said once
        assert service.present_pass_image("gate", visitor.qr_png, NOW) is None
    assert len(caplog.records) == 1
    message = caplog.records[0].getMessage()
    assert message.startswith(SKIPPED) and "zxing-cpp is not installed" in message
    assert service.present_pass("gate", visitor.token, NOW).granted  # the same pass, its code typed in
    assert _attempt_kinds(community) == ["card", "pin", "pin", "pass"]


async def test_gate_without_decoder_decides_by_face(
    community: Community, visitor: IssuedPass, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    released: list[str] = []

    async def release() -> None:
        released.append("gate")

    point = AccessPoint(door_id="gate", name="North gate", release=release)
    frames = [visitor.qr_png] * 5  # the visitor's pass is in view in every frame
    # The visitor's face is no resident's: the pass in the first frames is what decides.
    visitor_gate = GateKeeper(community, asyncio.to_thread, faces=_Faces(None), clock=lambda: NOW)
    keeper = GateKeeper(community, asyncio.to_thread, faces=_Faces(), clock=lambda: NOW)

    # With the decoder, the pass decides.
    with_decoder = await visitor_gate.camera_burst(point, frames)
    assert with_decoder is not None and with_decoder.decision.pass_id == visitor.visitor_pass.pass_id

    monkeypatch.setitem(sys.modules, "zxingcpp", None)  # now without it (a simulated musl install)
    caplog.set_level(logging.WARNING)
    outcomes: list[GateOutcome] = []
    for gate in (visitor_gate, keeper, keeper):
        outcome = await gate.camera_burst(point, frames)
        assert outcome is not None
        outcomes.append(outcome)
    assert [(o.decision.kind.value, o.decision.resident_id, o.released) for o in outcomes] == [
        ("face", None, False), ("face", "r1", True), ("face", "r1", True)]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith(SKIPPED)

    # Cards and PINs at the same gate are untouched.
    card = await keeper.credential_read(point, CredentialRead(sequence=1, kind=ReaderKind.CARD, value="11112222"))
    assert card.decision.granted
    assert _attempt_kinds(community) == ["pass", "face", "face", "face", "card"]
    assert released == ["gate"] * 4
