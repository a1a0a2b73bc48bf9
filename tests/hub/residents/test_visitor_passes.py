"""Visitor passes: signed tokens, time limits, revocation, use counts, and the QR code round trip."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from PIL import Image

from hub.exceptions import InvalidInputError, NotFoundError
from hub.residents.pass_token import sign_token, verify_token
from hub.residents.qr import read_pass_token, read_qr_texts, render_qr_png
from hub.residents.registry_hub import ResidentRegistry

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # the registry fixture's clock starts here


def test_token_sign_verify_and_tamper() -> None:
    key = b"k" * 32
    token = sign_token(key, "pass_1", START, START + timedelta(hours=2))
    verified = verify_token(key, token)
    assert verified is not None
    assert verified.pass_id == "pass_1"
    assert verified.valid_until == START + timedelta(hours=2)
    assert verify_token(b"x" * 32, token) is None
    head, _payload, mac = token.split(".")
    forged = sign_token(key, "pass_2", START, START + timedelta(hours=2)).split(".")[1]
    assert verify_token(key, f"{head}.{forged}.{mac}") is None
    assert verify_token(key, "garbage") is None
    assert verify_token(key, token + "x" * 600) is None


@pytest.mark.usefixtures("doors")
def test_issue_pass_returns_qr_that_decodes_to_the_token(registry: ResidentRegistry) -> None:
    registry.residents.add_resident("mgr", "host", "Sun Li")
    issued = registry.passes.issue_pass(
        "mgr",
        "host",
        "Courier Wu",
        ["gate-n-in"],
        valid_from=START,
        valid_until=START + timedelta(hours=4),
        max_uses=2,
    )
    assert issued.visitor_pass.max_uses == 2
    assert issued.visitor_pass.door_ids == frozenset({"gate-n-in"})
    assert issued.qr_png.startswith(b"\x89PNG")
    assert read_pass_token(issued.qr_png) == issued.token
    assert registry.passes.pass_qr_png(issued.visitor_pass.pass_id) == issued.qr_png


def test_qr_read_from_a_camera_frame() -> None:
    token = sign_token(b"k" * 32, "pass_cam", START, START + timedelta(hours=1))
    code = Image.open(io.BytesIO(render_qr_png(token, scale=4))).convert("L")
    # A grey 640x480 frame with noise, the code pasted off-centre, as a phone held up to the gate camera.
    rng = np.random.default_rng(0)
    frame = rng.integers(90, 160, size=(480, 640), dtype=np.uint8)
    frame[100 : 100 + code.height, 250 : 250 + code.width] = np.asarray(code)
    assert read_pass_token(frame) == token
    bgr = np.repeat(frame[:, :, None], 3, axis=2)
    assert read_pass_token(bgr) == token
    assert read_pass_token(np.zeros((100, 100), dtype=np.uint8)) is None
    # A QR code that is not a visitor pass is ignored.
    assert read_pass_token(render_qr_png("https://example.org")) is None
    assert read_qr_texts(render_qr_png("https://example.org")) == ["https://example.org"]


def test_bad_images_are_invalid_input() -> None:
    with pytest.raises(InvalidInputError, match="not a readable image"):
        read_pass_token(b"not an image")
    with pytest.raises(InvalidInputError, match="uint8"):
        read_pass_token(np.zeros((10, 10), dtype=np.float32))  # type: ignore[arg-type]


@pytest.mark.usefixtures("doors")
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"door_ids": []}, "at least one door"),
        ({"door_ids": "gate-n-in"}, "list of door ids"),
        ({"visitor_name": ""}, "visitor_name"),
        ({"valid_until": START - timedelta(hours=1)}, "after valid_from"),
        ({"valid_until": START + timedelta(days=40)}, "at most 31 days"),
        ({"max_uses": 0}, "max_uses"),
        ({"max_uses": True}, "max_uses"),
        ({"valid_from": START - timedelta(days=3), "valid_until": START - timedelta(days=2)}, "in the past"),
        ({"issued_by": "ghost"}, "no resident"),
        ({"door_ids": ["gate-n-in", "nowhere"]}, "unknown doors"),
    ],
)
def test_bad_pass_requests_change_nothing(
    registry: ResidentRegistry, snapshot: Callable[..., Any], changes: dict[str, Any], message: str
) -> None:
    registry.residents.add_resident("mgr", "host", "Sun Li")
    request: dict[str, Any] = {
        "actor": "mgr",
        "issued_by": "host",
        "visitor_name": "Guest",
        "door_ids": ["gate-n-in"],
        "valid_from": START,
        "valid_until": START + timedelta(hours=2),
    }
    request.update(changes)
    before = snapshot(registry.conn)
    with pytest.raises((InvalidInputError, NotFoundError), match=message):
        registry.passes.issue_pass(**request)
    assert snapshot(registry.conn) == before


@pytest.mark.usefixtures("doors")
def test_revoke_and_list(registry: ResidentRegistry) -> None:
    registry.residents.add_resident("mgr", "host", "Sun Li")
    issued = registry.passes.issue_pass(
        "mgr", "host", "Guest", ["d1"], valid_from=START, valid_until=START + timedelta(hours=2)
    )
    revoked = registry.passes.revoke_pass("mgr", issued.visitor_pass.pass_id)
    assert revoked.revoked_at is not None
    with pytest.raises(InvalidInputError, match="already revoked"):
        registry.passes.revoke_pass("mgr", issued.visitor_pass.pass_id)
    with pytest.raises(NotFoundError):
        registry.passes.revoke_pass("mgr", "pass_missing")
    assert [p.pass_id for p in registry.passes.list_passes("host")] == [issued.visitor_pass.pass_id]


@pytest.mark.usefixtures("doors")
def test_purge_expired_passes(registry: ResidentRegistry) -> None:
    registry.residents.add_resident("mgr", "host", "Sun Li")
    registry.passes.issue_pass("mgr", "host", "Guest", ["d1"], valid_from=START, valid_until=START + timedelta(hours=1))
    assert registry.passes.purge_expired_passes("retention", START) == 0
    assert registry.passes.purge_expired_passes("retention", START + timedelta(days=1)) == 1
    assert registry.passes.list_passes() == []


@pytest.mark.usefixtures("doors")
def test_a_pass_is_active_only_inside_its_window_with_uses_left(registry: ResidentRegistry) -> None:
    registry.residents.add_resident("mgr", "host", "Sun Li")
    issued = registry.passes.issue_pass(
        "mgr", "host", "Guest", ["d1"], valid_from=START, valid_until=START + timedelta(hours=2), max_uses=1
    )
    record = issued.visitor_pass
    assert record.active_at(START) and record.active_at(START + timedelta(minutes=119))
    assert not record.active_at(START - timedelta(seconds=1))
    assert not record.active_at(START + timedelta(hours=2))
    assert not replace(record, uses=1).active_at(START)
    revoked = registry.passes.revoke_pass("mgr", record.pass_id)
    assert not revoked.active_at(START)
