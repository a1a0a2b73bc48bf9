"""The gate path: a credential (card, PIN, visitor pass, or a face burst) at a door -> decision -> release.

Decisions never wait on the network: they need only the local database and, for faces, the local engine. The
blocking parts (SQLite, dlib) run through ``run_blocking`` (Home Assistant's executor, or a thread), never on the
event loop. Every decision, granted or not, is published on the community's bus as a
:class:`~hub.events.DecisionEvent`; every manual release as a :class:`~hub.events.ReleaseEvent`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from devices.exceptions import DeviceOutcomeUnknownError, DeviceTimeoutError
from devices.hub_native_map import CredentialKind as ReaderKind
from devices.models import CredentialRead

from .access.assurance import PAIR_WAIT, FacePairing, PendingFace, second_factor_of, waits_for_second_factor
from .access.models import Decision, FaceAssurance, FaceMatch
from .community import Community
from .doors import ReleaseReason
from .events import DecisionEvent, ReleaseEvent
from .journal import EventKind
from .residents.store import utc_now

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

RunBlocking = Callable[..., Awaitable[Any]]


# A gate's burst: frames 40 ms apart (a 25 fps camera) until three show a face, at most six; normally three
# frames, 80 ms after presence. Liveness compares consecutive frames (two steps in three frames; a slideshow
# changing every two frames still shows a jump): with five frames the camera alone took 160 ms of the 200 ms the
# gate may take. Measured with `bench bursts` on the tune half, reported on the report half:
# docs/face-verification.md.
BURST_FRAMES = 3
MAX_BURST_FRAMES = 6
FRAME_INTERVAL_S = 0.04
PASS_FRAMES = 2  # a visitor pass is looked for in the burst's first frames
# A keypad entry is two: the resident's keypad code, then their PIN (as "user ID + password" keypads do). A code
# waits this long for its PIN; a later entry starts again as a code.
KEYPAD_CODE_WAIT = timedelta(seconds=30)


class FaceBurst(Protocol):
    """One burst, fed frame by frame while the camera is still sending (blocking calls)."""

    def add(self, frame: bytes) -> bool:
        """Detect the frame's face and start encoding it; False when the frame shows no face."""

    @property
    def kept(self) -> int:
        """Frames with the face of the person now in front of the camera (a face that jumped, someone else,
        starts the count again)."""

    def finish(self) -> FaceMatch | None:
        """The burst's match with liveness; ``None`` if no usable face was seen."""

    def abandon(self) -> None:
        """Stop early and drop what was encoded."""


class FaceVerifier(Protocol):
    """What the gate needs of the face engine: a burst of frames in, one match (with liveness) out."""

    def verify(self, frames: Sequence[bytes]) -> FaceMatch | None:
        """Blocking: detect, encode, search, check liveness over the burst; ``None`` if no usable face."""

    def start(self) -> FaceBurst:
        """A burst to feed frame by frame."""


@dataclass(frozen=True)
class Actor:
    """Who asked for a manual release: a Home Assistant user (id and name), or an automation or script (its
    entity id, with the user whose action started it when Home Assistant's context says so)."""

    user_id: str | None = None
    user_name: str | None = None
    automation: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("user_id", self.user_id), ("user_name", self.user_name),
                                  ("automation", self.automation)) if v is not None}

    def __str__(self) -> str:
        return self.user_name or self.automation or self.user_id or "unknown"


@dataclass(frozen=True)
class AccessPoint:
    """A door where credentials are presented, and how to release it for a granted decision."""

    door_id: str
    name: str
    release: Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class GateOutcome:
    """A decision and whether the door was actually released for it."""

    decision: Decision
    released: bool
    at: datetime


class GateKeeper:
    """Runs the gate path for every access point of the community."""

    def __init__(
        self,
        community: Community,
        run_blocking: RunBlocking,
        *,
        faces: FaceVerifier | None = None,
        clock: Callable[[], datetime] = utc_now,
        pair_wait: timedelta = PAIR_WAIT,
    ) -> None:
        self.community = community
        self.faces = faces
        self._run_blocking = run_blocking
        self._clock = clock
        self._keypad_codes: dict[str, tuple[str, datetime]] = {}  # door id -> (code typed, when), awaiting a PIN
        # Faces at face_and_second_factor doors waiting for a card or PIN of the same resident (and the reverse).
        self._pairing = FacePairing(pair_wait)
        self._points: dict[str, AccessPoint] = {}  # door id -> the point a waiting face was seen at
        self._factor_opened: dict[str, bool] = {}  # door id -> whether the waiting card or PIN opened the door
        self._expiry: asyncio.TimerHandle | None = None
        self._expiring: set[asyncio.Task[list[GateOutcome]]] = set()

    async def _blocking(self, func: Callable[..., T], *args: Any) -> T:
        """Run a registry or access call as a job on the community's writer thread, without holding an executor
        thread while it waits its turn."""
        result: T = await asyncio.wrap_future(self.community.submit(func, *args))
        return result

    async def credential_read(self, point: AccessPoint, read: CredentialRead) -> GateOutcome | None:
        """A card swipe or keypad entry at the door's reader; ``None`` for a keypad code still awaiting its PIN."""
        now = self._clock()
        access = self.community.access
        if read.kind is ReaderKind.CARD:
            decision = await self._blocking(access.present_card, point.door_id, read.value, now)
            return await self._second_factor(point, await self._finish(point, decision, now))
        waiting = self._keypad_codes.pop(point.door_id, None)
        if waiting is None or now - waiting[1] > KEYPAD_CODE_WAIT:
            self._keypad_codes[point.door_id] = (read.value, now)
            return None
        decision = await self._blocking(access.enter_pin, point.door_id, waiting[0], read.value, now)
        return await self._second_factor(point, await self._finish(point, decision, now))

    # ---- face assurance: a face with a card or PIN of the same resident -----------------------------------

    async def _face(self, point: AccessPoint, match: FaceMatch, now: datetime) -> GateOutcome | None:
        """A face match at a door, held to its face assurance level now: decided at once (face alone, or a face
        that would be refused anyway), paired with a card or PIN shown there just before, or left waiting for
        one (``None``: no decision yet; it is recorded when the pair completes or its wait is over). At a
        ``face_off`` door the camera is not used for decisions: nothing is decided or recorded."""
        access = self.community.access
        level = await self._blocking(access.face_assurance, point.door_id, now)
        if level is FaceAssurance.FACE_OFF:
            return None
        factor = None
        if level is FaceAssurance.FACE_AND_SECOND_FACTOR and waits_for_second_factor(match):
            factor = self._pairing.face_seen(point.door_id, match, now)
            if factor is None:
                self._points[point.door_id] = point
                self._arm_expiry()
                return None
        opened = factor is not None and self._factor_opened.pop(point.door_id, False)
        decision = await self._blocking(access.present_face, point.door_id, match, now, factor)
        return await self._finish(point, decision, now, released_already=opened)

    async def _second_factor(self, point: AccessPoint, outcome: GateOutcome) -> GateOutcome:
        """After a card or PIN's own decision (a card alone opens as it would at any door): complete the pair
        with a face waiting at the door, or keep the factor for a face that follows. The face's decision is
        published and journalled as its own; the door is not released twice."""
        factor = second_factor_of(outcome.decision)
        if factor is None:
            return outcome
        face = self._pairing.factor_seen(point.door_id, factor, outcome.at)
        if face is None:
            self._factor_opened[point.door_id] = outcome.released
            return outcome
        decision = await self._blocking(
            self.community.access.present_face, point.door_id, face.match, outcome.at, factor
        )
        await self._finish(point, decision, outcome.at, released_already=outcome.released)
        return outcome

    async def expire_faces(self) -> list[GateOutcome]:
        """Record every face whose wait for a second factor is over as refused (``second_factor_missing``), at
        the moment it was seen. Run by a timer after each wait; callable any time."""
        outcomes = []
        for face in self._pairing.expired(self._clock()):
            point = self._points.get(face.door_id)
            if point is None:
                continue
            outcomes.append(await self._face_timed_out(point, face))
        if self._pairing.waiting():
            self._arm_expiry()
        return outcomes

    async def close(self) -> None:
        """Stop the pairing timer; faces still waiting are recorded as refused (``second_factor_missing``) now,
        before the community closes."""
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        for task in list(self._expiring):
            await task
        for face in self._pairing.expired(self._clock() + self._pairing.wait + timedelta(seconds=1)):
            point = self._points.get(face.door_id)
            if point is not None:
                await self._face_timed_out(point, face)

    async def _face_timed_out(self, point: AccessPoint, face: PendingFace) -> GateOutcome:
        decision = await self._blocking(self.community.access.present_face, point.door_id, face.match, face.at)
        return await self._finish(point, decision, face.at)

    def _arm_expiry(self) -> None:
        """One timer for the waiting faces: it fires just after the oldest one's wait."""
        if self._expiry is not None:
            self._expiry.cancel()
        loop = asyncio.get_running_loop()
        oldest = min(f.at for f in self._pairing.waiting())
        delay = max(0.0, (oldest + self._pairing.wait - self._clock()).total_seconds()) + 0.05

        def fire() -> None:
            self._expiry = None
            task = loop.create_task(self.expire_faces())
            self._expiring.add(task)
            task.add_done_callback(self._expiring.discard)

        self._expiry = loop.call_later(delay, fire)

    async def visitor_pass(self, point: AccessPoint, token: str) -> GateOutcome:
        """A visitor pass token (typed in, or read from its QR code elsewhere)."""
        now = self._clock()
        decision = await self._blocking(self.community.access.present_pass, point.door_id, token, now)
        return await self._finish(point, decision, now)

    async def camera_burst(self, point: AccessPoint, frames: Sequence[bytes]) -> GateOutcome | None:
        """A burst already captured: see :meth:`camera_stream`."""

        async def captured() -> AsyncIterator[bytes]:
            for frame in frames:
                yield frame

        return await self.camera_stream(point, captured())

    async def camera_stream(
        self, point: AccessPoint, frames: AsyncIterator[bytes], *, faces_needed: int | None = None
    ) -> GateOutcome | None:
        """Frames from the gate camera (a gate's ring buffer of the approach, then live ones; or frames taken
        after presence), handled as they arrive: every frame's face is found and encoded while the next is
        captured, and a visitor pass held up is looked for in the first frames, off the face path.

        The pass scan (a whole-frame decode and a QR search, about as long as a face's detection at 1080p) runs
        only where it can change the outcome: on a first frame that shows no face (a pass held in front of the
        face), and, after the burst, on the first frames when the face found is no resident's. A resident's
        decision never waits on it; a pass still wins over a stranger's or a refused face, as before.

        The capture runs in its own task, so the camera's frame interval is not added to the engine's work; it
        is stopped as soon as ``faces_needed`` frames have shown a face (the source may offer more, for
        frames where the face was missed). Returns ``None`` when the burst holds neither a pass nor a usable
        face (or face verification is off).
        """
        now = self._clock()
        access = self.community.access
        needed = BURST_FRAMES if faces_needed is None else faces_needed
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()

        async def capture() -> None:
            try:
                async for frame in frames:
                    queue.put_nowait(frame)
            finally:
                queue.put_nowait(None)

        async def pass_in(frame: bytes) -> GateOutcome | None:
            # The frame is decoded off the writer thread; only a token found is decided on it.
            token: str | None = await self._run_blocking(access.pass_token_in, frame)
            if token is None:
                return None
            decision = await self._blocking(access.present_pass, point.door_id, token, now)
            return await self._finish(point, decision, now)

        capturing = asyncio.create_task(capture())
        burst: FaceBurst | None = None
        unscanned: list[bytes] = []  # first frames with a face: scanned for a pass only if the face is no one's
        try:
            count = 0
            while (frame := await queue.get()) is not None:
                count += 1
                if self.faces is None:
                    if count <= PASS_FRAMES and (outcome := await pass_in(frame)) is not None:
                        return outcome
                    if count >= PASS_FRAMES:
                        break
                    continue
                if burst is None:
                    burst = self.faces.start()
                if await self._run_blocking(burst.add, frame):
                    if count <= PASS_FRAMES:
                        unscanned.append(frame)
                    if burst.kept >= needed:  # frames of one person: a face that jumped starts the count again
                        break
                elif count <= PASS_FRAMES and (outcome := await pass_in(frame)) is not None:
                    return outcome
            if capturing.done():
                await capturing  # the capture's own error, if it failed
            if burst is None:
                return None
            match: FaceMatch | None = await self._run_blocking(burst.finish)
            burst = None
        finally:
            if not capturing.done():
                capturing.cancel()
            if burst is not None:
                await self._run_blocking(burst.abandon)
        if match is None or match.resident_id is None:
            for frame in unscanned:
                if (outcome := await pass_in(frame)) is not None:
                    return outcome
        if match is None:
            return None
        return await self._face(point, match, now)

    async def _finish(
        self, point: AccessPoint, decision: Decision, now: datetime, *, released_already: bool = False
    ) -> GateOutcome:
        # The decision and its journal row committed together before this point: the door only moves for a
        # decision whose record would survive a power cut.
        self.community.decided()
        released = decision.granted and released_already  # a face paired with the card that just opened the door
        if decision.granted and not released_already:
            try:
                await point.release()
                released = True
            except Exception as err:  # a dead controller must not lose the decision's record
                _LOGGER.exception("granted at %s but the door could not be released", point.name)
                await self._journal_release(point, ReleaseReason.DECISION, failed=True, error=err)
        outcome = GateOutcome(decision=decision, released=released, at=now)
        _LOGGER.info(
            "%s: %s (%s)", point.name, "granted" if decision.granted else "denied", decision.reason.value
        )
        # A failing subscriber is logged by the bus: the decision and the release already happened.
        self.community.events.publish(
            DecisionEvent(door=point.door_id, decision=decision, released=released, at=now)
        )
        return outcome

    async def manager_release(
        self, point: AccessPoint, actor: Actor, release: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """A door released by hand (a manager, an automation): journalled with who asked, then released (by
        ``release``, e.g. the controller's release with the manager's reason; the point's own by default).

        The record is committed first, so no manual release goes unrecorded; a release that then fails is
        journalled too and the error is raised to the caller.
        """
        await self._journal_release(point, ReleaseReason.MANAGER, failed=False, actor=actor)
        try:
            await (release or point.release)()
        except Exception as err:
            await self._journal_release(point, ReleaseReason.MANAGER, failed=True, actor=actor, error=err)
            self._publish_release(point, actor, released=False)
            raise
        self._publish_release(point, actor, released=True)

    async def manager_door_change(
        self,
        point: AccessPoint,
        actor: Actor,
        action: str,
        details: Mapping[str, object],
        apply: Callable[[], Awaitable[None]],
    ) -> None:
        """A manager's change to a door other than a release (its mode: locked down or held open for free
        passage; ending a release early): written to the audit log with who asked before it is applied, so no
        change goes untraced; a change that then fails is audited too (``<action>.failed``) and raised."""
        record: dict[str, object] = {"door": point.door_id, **details, "actor": actor.as_dict()}
        await self._blocking(self.community.record_action, str(actor), action, record)
        await self._journal_change(point, action, details, "requested")
        try:
            await apply()
        except Exception as err:
            failed = {**record, "error": type(err).__name__}
            try:
                await self._blocking(self.community.record_action, str(actor), f"{action}.failed", failed)
                await self._journal_change(point, action, details, _failure_outcome(err))
            except Exception:
                _LOGGER.exception("could not record the failed %s at %s", action, point.name)
            raise

    async def _journal_change(
        self, point: AccessPoint, action: str, details: Mapping[str, object], outcome: str
    ) -> None:
        """A ``door_change`` event (it goes upstream like a decision; who asked stays in the audit log)."""
        payload = {"change": action.removeprefix("door."), **details, "outcome": outcome}
        await self._blocking(self.community.journal_event, EventKind.DOOR_CHANGE, point.door_id, payload,
                             self._clock())
        self.community.decided()

    def _publish_release(self, point: AccessPoint, actor: Actor, *, released: bool) -> None:
        self.community.events.publish(ReleaseEvent(
            door=point.door_id, reason=ReleaseReason.MANAGER, actor=actor.as_dict(), released=released,
            at=self._clock(),
        ))

    async def _journal_release(
        self,
        point: AccessPoint,
        reason: ReleaseReason,
        *,
        failed: bool,
        actor: Actor | None = None,
        error: BaseException | None = None,
    ) -> None:
        """A ``release`` event: a manual release requested (journalled before the door moves), or any release
        that failed (a granted decision's own record already says its door was to be released). A release whose
        answer never came back (the link dropped while it was in flight) is recorded as ``unknown``: the door may
        have opened."""
        outcome = _failure_outcome(error) if failed else "requested"
        payload: dict[str, Any] = {"release_reason": reason.value, "outcome": outcome}
        if actor is not None:
            payload["actor"] = actor.as_dict()
        if error is not None:
            payload["error"] = type(error).__name__
        try:
            await self._blocking(self.community.journal_event, EventKind.RELEASE, point.door_id, payload,
                                 self._clock())
            self.community.decided()
        except Exception:
            if not failed:
                raise  # no record, no release
            _LOGGER.exception("could not journal the failed release at %s", point.name)


def _failure_outcome(error: BaseException | None) -> str:
    """``unknown`` when the command left for the device and no answer came back (it may have been applied)."""
    return "unknown" if isinstance(error, (DeviceOutcomeUnknownError, DeviceTimeoutError)) else "failed"
