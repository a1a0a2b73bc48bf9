"""Errors of the face engine, all under the hub's one ``HubError`` hierarchy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.exceptions import FeatureUnavailableError, HubError, InvalidInputError

if TYPE_CHECKING:
    from hub.faces.models import QualityReport


class FaceError(HubError):
    """Base class of the face engine's errors."""


class FaceEngineUnavailableError(FaceError, FeatureUnavailableError):
    """dlib or the model files (the ``faces`` extra: dlib-bin, face-recognition-models) are missing, so faces
    cannot be processed; the message names what to install."""


class ImageDecodeError(FaceError, InvalidInputError):
    """The bytes or array given are not an image the engine can read."""


class FaceQualityError(FaceError, InvalidInputError):
    """An enrolment photo was rejected; ``report`` says why in words a property manager understands."""

    def __init__(self, report: QualityReport) -> None:
        super().__init__(report.message)
        self.report = report
