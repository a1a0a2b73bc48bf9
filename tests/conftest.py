"""Checks for the whole suite."""

from __future__ import annotations

import os

import pytest

from hub.faces.paths import shared_faces_dir


def pytest_sessionstart(session: pytest.Session) -> None:
    """On CI the shared photos must be there: without them the face and camera tests would only skip."""
    folder = shared_faces_dir()
    if os.environ.get("CI") and not (folder / "community").is_dir():
        raise pytest.UsageError(
            f"CI is set but the shared face photos are not at {folder} (../shared/faces next to the checkout,"
            " or SMART_COMMUNITY_FACES): the face and camera tests would be skipped, not run"
        )
