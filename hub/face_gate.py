"""Face verification for the gate path: the community's enrolled templates as one in-memory gallery, the face
engine's verdict on a burst of frames turned into the access decision's input.

The gallery is decrypted from the database once and kept in memory (templates never leave the hub). After that it
follows each change to templates or consent (enrolment, withdrawal, erasure) one resident at a time, on the
community's writer thread right after the change commits, so no gate burst ever pays for a reload and the
gallery never waits on a lock the writer needs (see :mod:`hub.writer`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from contextlib import ExitStack
from dataclasses import replace

from .access.models import FaceMatch
from .community import Community
from .events import ManagerActionEvent
from .exceptions import InvalidInputError
from .faces.blas import single_threaded_blas
from .faces.enrol_review import PhotoReview, review_set
from .faces.liveness import DEFAULT_LIVENESS, LivenessLimits
from .faces.matcher import Matcher
from .faces.models import Enrolment, FaceOutcome, FaceResult
from .faces.pipeline import DEFAULT_RULE, BurstEncoder, verify_burst, verify_encoded
from .residents.bulk_import import PhotoCheck

# Audit actions of the enrolment review (not "face.": those make the gallery follow the change).
CLOSE_MATCH_ACCEPTED = "enrolment.close_match_accepted"
PHOTO_REMOVED = "enrolment.photo_removed"

_GALLERY_ACTIONS = ("face.enrol", "face.delete_templates", "consent.")
_ERASURE_ACTIONS = ("resident.erase", "resident.remove")

# Outcomes where nobody usable stood at the gate: no decision is made (the resident may use a card).
_NO_ATTEMPT = {FaceOutcome.NO_FACE, FaceOutcome.EMPTY_GALLERY}


class CommunityFaces:
    """The gate's face verifier and the manager's enrolment, over one community's registry."""

    def __init__(self, community: Community, *, liveness: LivenessLimits | None = DEFAULT_LIVENESS) -> None:
        self.community = community
        # The burst's liveness limits; ``None`` skips only the liveness check (``bench bursts --liveness off``
        # measures what liveness costs residents that way). A gate in the product always has them.
        self.liveness = liveness
        # Set and changed only on the writer thread; read (one reference) from any thread.
        self._matcher: Matcher | None = None
        self.reloads = 0  # whole-gallery loads: one per process, unless a change could not be followed
        self.unsubscribe = community.events.subscribe(ManagerActionEvent, self._on_action)

    def _on_action(self, event: ManagerActionEvent) -> None:
        # Runs on the writer thread, after the change committed (the stores' audit hook).
        action, details = event.action, event.details
        matcher = self._matcher
        if matcher is None:
            return  # not loaded yet: the first load will read the change
        resident_id = details.get("resident_id")
        if action.startswith(_GALLERY_ACTIONS) and isinstance(resident_id, str):
            self._follow(matcher, resident_id)
        elif action.startswith(_ERASURE_ACTIONS):
            # The erasure's audit record names nobody; drop whoever no longer has an active template.
            faces = self.community.registry.faces
            still_enrolled = set(faces.enrolled_residents())
            for person in matcher.people():
                if person not in still_enrolled:
                    matcher.remove(person)
        elif action.startswith(("face.", "consent.")):
            self._matcher = None  # a gallery change that names nobody: load again on the next burst

    def _follow(self, matcher: Matcher, resident_id: str) -> None:
        loaded = self.community.registry.faces.load_gallery(resident_id)
        matcher.replace(resident_id, loaded.templates)

    def gallery(self) -> Matcher:
        """The enrolled templates (active consents only) as a matcher: loaded once, then kept up to date."""
        matcher = self._matcher
        if matcher is None:
            matcher = self.community.call(self._load)
        return matcher

    def _load(self) -> Matcher:
        # On the writer thread, so no change can commit between the load and the matcher taking over.
        if self._matcher is None:
            loaded = self.community.registry.faces.load_gallery()
            self._matcher = Matcher.from_arrays(list(loaded.resident_ids), loaded.templates)
            self.reloads += 1
        return self._matcher

    def verify(self, frames: Sequence[bytes]) -> FaceMatch | None:
        """Blocking: who is at the gate. ``None`` when no usable face was seen (no attempt to record)."""
        return _to_match(verify_burst(list(frames), self.gallery(), liveness=self.liveness))

    def start(self) -> FaceBurst:
        """A burst to feed frame by frame as the camera sends them (see :class:`FaceBurst`)."""
        return FaceBurst(self)

    def enrol(
        self, actor: str, resident_id: str, photos: Sequence[bytes], *, enrol_anyway: bool = False,
        names: Sequence[str] | None = None,
    ) -> Enrolment:
        """Check each photo's quality, encode the good ones and store their templates (needs consent).

        The photos themselves are not kept. Raises the registry's error (and stores nothing) when the resident
        has no active consent or no photo passed the quality check, and (as :meth:`enrol_checked`) when the
        photos are not all one person, or one is close to another resident and ``enrol_anyway`` is not set.
        ``names`` names the photos in those messages (default ``photo 1``, ``photo 2``, ...).
        """
        from .faces.enrol import check_photo

        for number, photo in enumerate(photos, start=1):
            if not _is_image(photo):
                raise InvalidInputError(f"photo {number} is not a JPEG or PNG image")
        labels = list(names) if names is not None else [f"photo {i + 1}" for i in range(len(photos))]
        checks, reports = [], []
        for label, photo in zip(labels, photos, strict=True):
            report, template, probe = check_photo(photo)
            reports.append(report)
            checks.append(PhotoCheck(filename=label, accepted=template is not None,
                                     reason=None if template is not None else report.message,
                                     template=template, probe=probe))
        enrolment = Enrolment(templates=[c.template for c in checks if c.template is not None], reports=reports)
        if not enrolment.templates:
            reasons = "; ".join(f"photo {i + 1}: {r.message}" for i, r in enrolment.rejected)
            raise InvalidInputError(f"no photo was good enough to enrol ({reasons})")
        self.enrol_checked(actor, resident_id, checks, range(len(checks)) if enrol_anyway else ())
        return enrolment

    def check_photo(self, filename: str, photo: bytes) -> PhotoCheck:
        """Blocking: one photo's quality verdict and, when accepted, its template (the photo is not kept).

        The panel checks photos one at a time, so a manager sees progress and each photo's reason, then
        confirms the accepted ones with :meth:`enrol_checked` (or a bulk import).
        """
        from .faces.enrol import check_photo

        if not _is_image(photo):
            return PhotoCheck(filename=filename, accepted=False, reason="not a JPEG or PNG image", template=None)
        report, template, probe = check_photo(photo)
        if template is None:
            return PhotoCheck(filename=filename, accepted=False, reason=report.message, template=None)
        return PhotoCheck(filename=filename, accepted=True, reason=None, template=template, probe=probe)

    def review(self, resident_id: str, checks: Sequence[PhotoCheck]) -> list[PhotoReview | None]:
        """Blocking: whether the accepted photos of a set are one person, that resident, and nobody else enrolled
        (see :mod:`hub.faces.enrol_review`); one review per check (``None`` for a photo the quality check refused),
        indices into ``checks``."""
        accepted = [i for i, c in enumerate(checks) if c.accepted and c.template is not None]
        templates = [t for t in (checks[i].template for i in accepted) if t is not None]
        probes = [p for p in (checks[i].probe if checks[i].probe is not None else checks[i].template
                              for i in accepted) if p is not None]
        reviewed = review_set(templates, probes, resident_id, self.gallery(), DEFAULT_RULE)
        out: list[PhotoReview | None] = [None] * len(checks)
        for photo in reviewed.photos:
            out[accepted[photo.index]] = replace(
                photo, index=accepted[photo.index], not_matching=tuple(accepted[j] for j in photo.not_matching)
            )
        return out

    def enrol_checked(
        self, actor: str, resident_id: str, checks: Sequence[PhotoCheck], enrol_anyway: Collection[int] = ()
    ) -> int:
        """Store the templates of accepted, checked photos (needs consent); returns how many were stored.

        The set is reviewed again first (the gallery may have changed since the manager saw it): a photo that is
        not the same person as the others is refused (remove it), and a photo close to another resident is
        enrolled only when its index is in ``enrol_anyway``, which the audit log then records, with who, as
        ``enrolment.close_match_accepted``. A refusal stores nothing.
        """
        templates = [c.template for c in checks if c.accepted and c.template is not None]
        if not templates:
            raise InvalidInputError("none of these photos was accepted; add a photo that passes the check")
        reviews = self.review(resident_id, checks)
        odd = [checks[r.index].filename for r in reviews if r is not None and r.odd_one]
        if odd:
            raise InvalidInputError(
                f"{', '.join(odd)}: not the same person as the other photos of the set; remove "
                f"{'it' if len(odd) == 1 else 'the photos of whoever is not this resident'} before enrolling"
            )
        close = [r for r in reviews if r is not None and r.close_to is not None]
        undecided = [r for r in close if r.index not in enrol_anyway]
        if undecided:
            names = ", ".join(checks[r.index].filename for r in undecided)
            raise InvalidInputError(
                f"{names}: close to another resident's enrolled face; choose to enrol anyway or remove the photo"
            )
        self.community.call(self.community.registry.faces.enrol_templates, actor, resident_id, templates)
        for r in close:
            self.community.record_action(actor, CLOSE_MATCH_ACCEPTED, {
                "resident_id": resident_id, "close_to": r.close_to, "distance": r.close_distance,
                "gate_would_accept": r.gate_would_accept,
            })
        return len(templates)

    def photo_removed(self, actor: str, resident_id: str, accepted: bool) -> None:
        """Blocking: audit that a manager took one checked photo out of a resident's set before enrolling."""
        self.community.record_action(actor, PHOTO_REMOVED, {"resident_id": resident_id, "accepted": accepted})


class FaceBurst:
    """One gate burst, encoded while it is captured: :meth:`add` each frame as it arrives (blocking, a few ms:
    the face is found and its encoding started on the engine's threads), then :meth:`finish` for the match.

    By the time the last frame arrives the earlier ones are encoded, so the decision comes one frame's work after
    the capture ends rather than a whole burst's. :meth:`abandon` ends it early (a visitor pass was read).
    """

    def __init__(self, faces: CommunityFaces) -> None:
        self._faces = faces
        self._stack = ExitStack()
        self._stack.enter_context(single_threaded_blas())
        self._encoder = BurstEncoder()
        self._stack.callback(self._encoder.abandon)
        self.result: FaceResult | None = None  # the engine's verdict once finished (why it refused, for the bench)

    def add(self, frame: bytes) -> bool:
        """Blocking: detect the frame's face and start encoding it; False (and skipped) when it shows none."""
        return self._encoder.add(frame)

    @property
    def kept(self) -> int:
        """Frames of the person now in front of the camera (a face that jumped starts the count again)."""
        return self._encoder.kept

    def finish(self) -> FaceMatch | None:
        """Blocking: the burst's match (with liveness); ``None`` when no usable face was seen."""
        try:
            self.result = verify_encoded(self._encoder.result(), self._faces.gallery(), liveness=self._faces.liveness)
            return _to_match(self.result)
        finally:
            self._stack.close()

    def abandon(self) -> None:
        """Blocking: stop, dropping what was encoded."""
        self._stack.close()


def _to_match(result: FaceResult) -> FaceMatch | None:
    """The engine's verdict as the access decision's input (``None``: nobody usable stood at the gate)."""
    if result.outcome in _NO_ATTEMPT:
        return None
    if result.outcome is FaceOutcome.NOT_LIVE:
        return FaceMatch(resident_id=None, distance=result.distance, live=False)
    if result.outcome is FaceOutcome.ACCEPTED:
        return FaceMatch(resident_id=result.person_id, distance=result.distance, live=True)
    return FaceMatch(resident_id=None, distance=result.distance, live=True)


def _is_image(data: bytes) -> bool:
    """Whether Pillow can read the bytes as an image (before the face engine gets them)."""
    from io import BytesIO

    from PIL import Image, UnidentifiedImageError

    from .faces.imaging import check_size

    try:
        with Image.open(BytesIO(data)) as image:
            check_size(*image.size)  # a file claiming a huge picture is refused before anything is decoded
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False
    return True
