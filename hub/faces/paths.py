"""Where the shared face photos live (tests and benchmarks); the SMART_COMMUNITY_FACES variable overrides it."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "SMART_COMMUNITY_FACES"


def shared_faces_dir() -> Path:
    """The shared photo folder: ``$SMART_COMMUNITY_FACES`` or ``../shared/faces`` next to the repository."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override)
    # hub/faces/paths.py -> parents[2] is the repository root; the shared folder sits beside it.
    return (Path(__file__).resolve().parents[2] / ".." / "shared" / "faces").resolve()
