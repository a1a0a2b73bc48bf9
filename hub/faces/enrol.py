"""Enrolment: photos of one person -> quality reports and one template per accepted photo."""

from __future__ import annotations

from collections.abc import Sequence

from hub.exceptions import InvalidInputError
from hub.faces.encode import ENROLMENT_JITTERS, encode_chips
from hub.faces.errors import FaceQualityError
from hub.faces.imaging import ImageInput, to_rgb
from hub.faces.models import Enrolment, FloatArray, ImageArray, QualityReport
from hub.faces.quality import DEFAULT_LIMITS, QualityLimits, assess_rgb


def enrol_photos(photos: Sequence[ImageInput], limits: QualityLimits = DEFAULT_LIMITS) -> Enrolment:
    """Check every photo and encode the accepted ones; refused photos are reported, not raised.

    Keeping one template per photo (rather than their mean) lets the 1:N search use the nearest view of a
    person, which matters when photos differ in pose, glasses or lighting.
    """
    reports = []
    chips: list[ImageArray] = []
    for photo in photos:
        report, chip = assess_rgb(to_rgb(photo), limits)
        reports.append(report)
        if chip is not None:
            chips.append(chip)
    templates = encode_chips(chips, jitters=ENROLMENT_JITTERS)  # once per photo: cost does not matter
    return Enrolment(templates=[row.copy() for row in templates], reports=reports)


def enrol_or_raise(photos: Sequence[ImageInput], limits: QualityLimits = DEFAULT_LIMITS) -> Enrolment:
    """:func:`enrol_photos`, raising :class:`FaceQualityError` (first refusal) when no photo was accepted."""
    if not photos:
        raise InvalidInputError("at least one photo is needed to enrol a face")
    enrolment = enrol_photos(photos, limits)
    if not enrolment.templates:
        raise FaceQualityError(enrolment.reports[0])
    return enrolment


def check_photo(
    photo: ImageInput, limits: QualityLimits = DEFAULT_LIMITS
) -> tuple[QualityReport, FloatArray | None, FloatArray | None]:
    """One photo's quality report and, when accepted, its enrolment template and its *probe*: the same face
    encoded as the gates encode a camera frame (no jitter). The enrolment review compares probes with enrolled
    templates, the pairing the product's thresholds were measured on (see :mod:`hub.faces.enrol_review`)."""
    report, chip = assess_rgb(to_rgb(photo), limits)
    if chip is None:
        return report, None, None
    template = encode_chips([chip], jitters=ENROLMENT_JITTERS)[0].copy()
    probe = encode_chips([chip])[0].copy()
    return report, template, probe
