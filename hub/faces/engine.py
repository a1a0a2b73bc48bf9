"""The dlib models, loaded once on first use so that importing ``hub.faces`` stays cheap.

face_recognition_models ships the model files inside the wheel; nothing is downloaded at run time.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from typing import Any

from hub.faces.errors import FaceEngineUnavailableError


@dataclass(frozen=True)
class DlibModels:
    """The HOG detector, the 68-point shape predictor and the ResNet face encoder."""

    dlib: Any
    detector: Any
    shape68: Any
    encoder: Any


_lock = threading.Lock()
_models: DlibModels | None = None
# dlib does not promise that one detector/predictor/encoder object may be used by two threads at once, and
# Home Assistant's executor has many threads: every call into the models holds this lock. The work is
# CPU-bound in C++ anyway; more throughput comes from processes, not threads.
model_lock = threading.RLock()


def models() -> DlibModels:
    """The loaded models (thread-safe; Home Assistant calls the engine from executor threads)."""
    global _models
    if _models is not None:
        return _models
    with _lock:
        if _models is None:
            _models = _load()
        return _models


def _load() -> DlibModels:
    try:
        import dlib  # type: ignore[import-untyped,unused-ignore]

        with warnings.catch_warnings():
            # face_recognition_models imports pkg_resources, which warns on every start-up.
            warnings.simplefilter("ignore")
            import face_recognition_models  # type: ignore[import-untyped,unused-ignore]
    except ImportError as err:
        raise FaceEngineUnavailableError(
            "face verification needs the 'faces' extra (face_recognition, dlib-bin, face_recognition_models)"
        ) from err
    return DlibModels(
        dlib=dlib,
        detector=dlib.get_frontal_face_detector(),
        shape68=dlib.shape_predictor(face_recognition_models.pose_predictor_model_location()),
        encoder=dlib.face_recognition_model_v1(face_recognition_models.face_recognition_model_location()),
    )
