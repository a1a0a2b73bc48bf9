"""What the panel's browser tests share: the folder their screenshots are kept in."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_panel_browser import ARTEFACTS, _need_chromium


@pytest.fixture
def artefacts() -> Path:
    """``test-artifacts/panel/tasks``, made if needed; skips (or fails on CI) without Chromium."""
    _need_chromium()
    folder = ARTEFACTS / "tasks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
