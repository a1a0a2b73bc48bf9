"""The dlib models, loaded once on first use so that importing ``hub.faces`` stays cheap.

The model files come with the face-recognition-models package; :func:`hub.faces.model_files.model_files` finds
them without importing that package (its ``__init__`` needs ``pkg_resources``, gone from setuptools 82 on), and
nothing is downloaded at run time. dlib is used directly (the dlib-bin wheel); the face_recognition package is not
needed. The face encoder's weights are also read into :class:`hub.faces.resnet.ResNetEncoder`, which computes the
same descriptors with numpy's BLAS about five times faster than the prebuilt dlib (see resnet.py); dlib's own encoder
stays as the fallback should the model file ever be one that module cannot read.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hub.faces.blas import single_threaded_blas
from hub.faces.errors import FaceEngineUnavailableError
from hub.faces.model_files import INSTALL_HINT, model_files
from hub.faces.models import FloatArray, ImageArray
from hub.faces.resnet import ModelFormatError, ResNetEncoder

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class DlibModels:
    """The HOG detector, the 68-point shape predictor and the ResNet face encoder (numpy and dlib versions)."""

    dlib: Any
    detector: Any
    shape68: Any
    encoder: Any
    resnet: ResNetEncoder | None = None

    def describe(self, chips: Sequence[ImageArray]) -> FloatArray:
        """dlib's raw 128-d descriptors of aligned 150x150 chips, one row per chip.

        The numpy encoder needs no lock (it keeps no state between calls) and releases the GIL in its matrix
        products, so the event loop and other threads keep running meanwhile; dlib's holds both.
        """
        if self.resnet is not None:
            with single_threaded_blas():
                return self.resnet(chips)
        return self._dlib_describe(chips)

    def describe_early(self, chips: Sequence[ImageArray]) -> Any:
        """The first part of :meth:`describe` (the numpy encoder's narrow layers), for :meth:`describe_late`
        to finish later, batched with other chips' (a burst's frames). dlib's own encoder cannot be split: its
        part is the chips themselves."""
        if self.resnet is not None:
            with single_threaded_blas():
                return self.resnet.early(chips)
        return list(chips)

    def describe_late(self, parts: Sequence[Any]) -> FloatArray:
        """:meth:`describe` of every chip behind ``parts`` (from :meth:`describe_early`), in their order."""
        if self.resnet is not None:
            resnet = self.resnet
            with single_threaded_blas():
                return resnet.late(np.concatenate(parts)) if parts else resnet([])
        return self._dlib_describe([chip for part in parts for chip in part])

    def _dlib_describe(self, chips: Sequence[ImageArray]) -> FloatArray:
        with model_lock:
            raw = self.encoder.compute_face_descriptor(list(chips))
        return np.asarray([np.asarray(d) for d in raw], dtype=np.float32).reshape(len(chips), -1)


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
    except ImportError as err:
        raise FaceEngineUnavailableError(f"face verification needs dlib ({err}); {INSTALL_HINT}") from err
    files = model_files()
    encoder_file = str(files.encoder)
    try:
        resnet: ResNetEncoder | None = ResNetEncoder.from_file(encoder_file)
    except (OSError, ModelFormatError) as err:
        _LOGGER.warning("using dlib's slower face encoder: %s", err)
        resnet = None
    return DlibModels(
        dlib=dlib,
        detector=dlib.get_frontal_face_detector(),
        shape68=dlib.shape_predictor(str(files.shape68)),
        encoder=dlib.face_recognition_model_v1(encoder_file),
        resnet=resnet,
    )
