"""QR reading is optional: zxing-cpp publishes no wheel for musl Linux (Home Assistant OS and container), so there
the decoder is missing. Passes are still issued and rendered; reading says clearly that it cannot.

musl cannot run on this machine, so the missing wheel is simulated: ``sys.modules["zxingcpp"] = None`` makes
``import zxingcpp`` fail exactly as it does where the package is not installed.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.exceptions import FeatureUnavailableError, HubError
from hub.residents.pass_token import sign_token
from hub.residents.qr import (
    QrDecoderUnavailableError,
    qr_decoder_available,
    qr_decoder_status,
    read_pass_token,
    read_qr_texts,
    render_qr_png,
)
from hub.residents.registry_hub import ResidentRegistry

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def no_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """zxing-cpp not installed, as on musl (simulated: musl cannot run here)."""
    monkeypatch.setitem(sys.modules, "zxingcpp", None)


@pytest.mark.usefixtures("no_decoder")
def test_without_the_decoder_status_says_why() -> None:
    assert qr_decoder_available() is False
    status = qr_decoder_status()
    assert status.available is False
    assert status.version is None
    assert status.reason is not None
    assert status.reason.startswith("zxing-cpp is not installed")
    assert "musl" in status.reason and "Home Assistant OS" in status.reason
    assert "smart-community-hub[qr]" in status.reason


@pytest.mark.usefixtures("doors", "no_decoder")
def test_without_the_decoder_passes_still_render(registry: ResidentRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    registry.residents.add_resident("mgr", "host", "Sun Li")
    issued = registry.passes.issue_pass(
        "mgr", "host", "Courier Wu", ["gate-n-in"], valid_from=START, valid_until=START + timedelta(hours=4)
    )
    assert issued.qr_png.startswith(b"\x89PNG")
    assert registry.passes.pass_qr_png(issued.visitor_pass.pass_id) == issued.qr_png
    png = render_qr_png("https://example.org")
    assert png.startswith(b"\x89PNG")

    with pytest.raises(QrDecoderUnavailableError, match="zxing-cpp is not installed") as caught:
        read_pass_token(issued.qr_png)
    assert isinstance(caught.value, FeatureUnavailableError) and isinstance(caught.value, HubError)
    with pytest.raises(QrDecoderUnavailableError):
        read_qr_texts(png)

    monkeypatch.undo()  # the decoder is back: what was rendered without it reads as the pass
    assert read_pass_token(issued.qr_png) == issued.token


def test_a_decoder_that_does_not_load_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Installed but broken (say a build linked against the wrong C library): the status carries the error."""
    (tmp_path / "zxingcpp.py").write_text("raise ImportError('libstdc++.so.6: cannot open shared object file')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "zxingcpp", raising=False)
    status = qr_decoder_status()
    assert not status.available
    assert status.reason is not None
    assert "installed but could not be loaded" in status.reason and "libstdc++" in status.reason
    with pytest.raises(QrDecoderUnavailableError, match="libstdc"):
        read_pass_token(render_qr_png("x"))


def test_with_the_decoder_reading_works() -> None:
    status = qr_decoder_status()
    assert status.available and status.reason is None and status.version
    assert qr_decoder_available()
    token = sign_token(b"k" * 32, "pass_1", START, START + timedelta(hours=1))
    assert read_pass_token(render_qr_png(token)) == token
