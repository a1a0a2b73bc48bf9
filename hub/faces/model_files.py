"""Where dlib's model files are, found without running the package that ships them.

The files come in the ``face-recognition-models`` distribution (a pure-data sdist). Its ``__init__`` imports
``pkg_resources``, which setuptools removed in version 82 (Home Assistant 2026.10 ships setuptools 84), so
importing that package fails there. The files are plain data in a folder next to the ``__init__``:
:func:`importlib.util.find_spec` gives the package's folder without executing any of its code.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from hub.faces.errors import FaceEngineUnavailableError

PACKAGE = "face_recognition_models"
ENCODER_FILE = "dlib_face_recognition_resnet_model_v1.dat"
SHAPE68_FILE = "shape_predictor_68_face_landmarks.dat"
SHAPE5_FILE = "shape_predictor_5_face_landmarks.dat"
INSTALL_HINT = (
    "install the 'faces' extra: pip install 'smart-community-hub[faces]' (dlib-bin and face-recognition-models)"
)


@dataclass(frozen=True)
class ModelFiles:
    """The three dlib model files the face engine reads."""

    encoder: Path  # the ResNet face encoder, dlib_face_recognition_resnet_model_v1.dat
    shape68: Path  # the 68-point shape predictor the engine aligns with
    shape5: Path  # the 5-point shape predictor (not used by the engine; tests use it as a "wrong network" file)


def model_files() -> ModelFiles:
    """The model files of the installed ``face-recognition-models``; raises :class:`FaceEngineUnavailableError`,
    naming what to install, when the package or one of its files is missing. Never imports that package."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):  # ValueError: a module of that name is loaded with no spec
        spec = None
    folders = [] if spec is None or spec.submodule_search_locations is None else list(spec.submodule_search_locations)
    if not folders:
        raise FaceEngineUnavailableError(f"face verification needs the package face-recognition-models; {INSTALL_HINT}")
    names = (ENCODER_FILE, SHAPE68_FILE, SHAPE5_FILE)
    for folder in folders:
        models = Path(folder) / "models"
        if all((models / name).is_file() for name in names):
            return ModelFiles(encoder=models / ENCODER_FILE, shape68=models / SHAPE68_FILE, shape5=models / SHAPE5_FILE)
    models = Path(folders[0]) / "models"
    missing = ", ".join(name for name in names if not (models / name).is_file())
    raise FaceEngineUnavailableError(
        f"face-recognition-models is installed at {folders[0]} but lacks {missing} in {models}; "
        f"reinstall it ({INSTALL_HINT})"
    )
