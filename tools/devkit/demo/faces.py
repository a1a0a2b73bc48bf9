"""Where the demo's face photos are: the project's own copy (``demo/faces``) or the shared folder."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]


def demo_faces_dir() -> Path | None:
    """The folder of ``<Name>/*.jpg`` photos the demo enrols (``SMART_COMMUNITY_FACES`` overrides)."""
    candidates = [
        os.environ.get("SMART_COMMUNITY_DEMO_FACES"),
        REPO_ROOT / "demo" / "faces",
        REPO_ROOT.parent / "shared" / "faces" / "community",
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def stranger_faces_dir() -> Path | None:
    """Photos of people who are not residents (from the shared LFW set, when there)."""
    candidate = REPO_ROOT.parent / "shared" / "faces" / "lfw-dev" / "images"
    return candidate if candidate.is_dir() else None
