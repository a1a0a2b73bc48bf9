"""Fixtures for the face engine tests: the shared photo folder and encodings computed once per module."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from hub.faces.errors import FaceEngineUnavailableError
from hub.faces.model_files import model_files
from hub.faces.paths import shared_faces_dir

if TYPE_CHECKING:
    from hub.faces.matcher import Matcher


def _engine_missing() -> bool:
    if importlib.util.find_spec("dlib") is None:
        return True
    try:
        model_files()  # found without importing face_recognition_models (its pkg_resources may be gone)
    except FaceEngineUnavailableError:
        return True
    return False


ENGINE_MISSING = _engine_missing()


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    """The shared photos (``$SMART_COMMUNITY_FACES`` or ``../shared/faces``); tests skip when it is missing."""
    folder = shared_faces_dir()
    if not (folder / "community").is_dir():
        pytest.skip(f"shared face photos not found at {folder} (set SMART_COMMUNITY_FACES)")
    return folder


@pytest.fixture(scope="session")
def engine() -> None:
    """Skip tests that need dlib when the 'faces' extra is not installed."""
    if ENGINE_MISSING:
        pytest.skip("the 'faces' extra (dlib-bin, face_recognition_models) is not installed")


@pytest.fixture(scope="session")
def community(faces_dir: Path) -> dict[str, list[Path]]:
    """Person -> their 11 aligned photos, sorted."""
    return {p.name: sorted(p.glob("*.jpg")) for p in sorted((faces_dir / "community").iterdir()) if p.is_dir()}


ENROL_PHOTOS = 3  # the first three photos of each community member are enrolled, the rest are probes


@pytest.fixture(scope="session")
def enrolled_photos() -> int:
    """How many photos of each community member ``community_gallery`` enrolled (the first ones, sorted)."""
    return ENROL_PHOTOS


@pytest.fixture(scope="session")
def community_gallery(engine: None, community: dict[str, list[Path]]) -> Matcher:
    """A gallery of the five community members, each enrolled from their first three photos."""
    from hub.faces.enrol import enrol_photos
    from hub.faces.matcher import Matcher

    gallery = Matcher()
    for name, photos in community.items():
        enrolment = enrol_photos(photos[:ENROL_PHOTOS])
        assert enrolment.templates, f"{name}: {[r.message for r in enrolment.reports]}"
        gallery.add(name, np.stack(enrolment.templates))
    return gallery
