"""Face verification for the gate path: the community's enrolled templates as one in-memory gallery, the face
engine's verdict on a burst of frames turned into the access decision's input.

The gallery is decrypted from the database once and kept in memory (templates never leave the hub). After that it
follows each change to templates or consent (enrolment, withdrawal, erasure) one resident at a time, on the
community's writer thread right after the change commits, so no gate burst ever pays for a reload and the
gallery never waits on a lock the writer needs (see :mod:`hub.writer`).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack

from .access.models import FaceMatch
from .community import Community
from .events import ManagerActionEvent
from .faces.blas import single_threaded_blas
from .faces.liveness import DEFAULT_LIVENESS, LivenessLimits
from .faces.matcher import Matcher
from .faces.models import Enrolment, FaceOutcome, FaceResult
from .faces.pipeline import BurstEncoder, verify_burst, verify_encoded
from .residents.bulk_import import PhotoCheck

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

    def enrol(self, actor: str, resident_id: str, photos: Sequence[bytes]) -> Enrolment:
        """Check each photo's quality, encode the good ones and store their templates (needs consent).

        The photos themselves are not kept. Raises the registry's error (and stores nothing) when the resident
        has no active consent or no photo passed the quality check.
        """
        from .exceptions import InvalidInputError
        from .faces.enrol import enrol_photos

        for number, photo in enumerate(photos, start=1):
            if not _is_image(photo):
                raise InvalidInputError(f"photo {number} is not a JPEG or PNG image")
        enrolment = enrol_photos(list(photos))
        if not enrolment.templates:
            reasons = "; ".join(f"photo {i + 1}: {r.message}" for i, r in enrolment.rejected)
            raise InvalidInputError(f"no photo was good enough to enrol ({reasons})")
        self.community.call(self.community.registry.faces.enrol_templates, actor, resident_id, enrolment.templates)
        return enrolment

    def check_photo(self, filename: str, photo: bytes) -> PhotoCheck:
        """Blocking: one photo's quality verdict and, when accepted, its template (the photo is not kept).

        The panel checks photos one at a time, so a manager sees progress and each photo's reason, then
        confirms the accepted ones with :meth:`enrol_checked` (or a bulk import).
        """
        from .faces.enrol import enrol_photos

        if not _is_image(photo):
            return PhotoCheck(filename=filename, accepted=False, reason="not a JPEG or PNG image", template=None)
        enrolment = enrol_photos([photo])
        report = enrolment.reports[0]
        if not report.accepted or not enrolment.templates:
            return PhotoCheck(filename=filename, accepted=False, reason=report.message, template=None)
        return PhotoCheck(filename=filename, accepted=True, reason=None, template=enrolment.templates[0])

    def enrol_checked(self, actor: str, resident_id: str, checks: Sequence[PhotoCheck]) -> int:
        """Store the templates of accepted, checked photos (needs consent); returns how many were stored."""
        from .exceptions import InvalidInputError

        templates = [c.template for c in checks if c.accepted and c.template is not None]
        if not templates:
            raise InvalidInputError("none of these photos was accepted; add a photo that passes the check")
        self.community.call(self.community.registry.faces.enrol_templates, actor, resident_id, templates)
        return len(templates)


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
