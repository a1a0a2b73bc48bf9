"""Gates: a door whose camera (any Home Assistant camera entity) is watched for faces and visitor passes when
someone is present. Configured in the community entry's options; run by the community's gate keeper."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import time
from typing import Any

from homeassistant.components.camera import async_get_image
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event

from devices.exceptions import DeviceValueError
from hub.access.models import DEFAULT_FACE_ASSURANCE, FaceAssurance, FaceAssuranceWindow
from hub.doors import DoorId
from hub.frame_ring import DEFAULT_FRAME_TIMEOUT_S, FrameRing, FrameSource
from hub.gate import BURST_FRAMES, FRAME_INTERVAL_S, MAX_BURST_FRAMES, GateOutcome

from .camera import CameraRuntimeData
from .community import CommunityRuntimeData
from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)

CONF_GATES = "gates"
CONF_LOCK = "lock"
CONF_CAMERA = "camera"
CONF_PRESENCE = "presence"
CONF_FRAMES = "frames"
CONF_FACE_ASSURANCE = "face_assurance"
CONF_FACE_WINDOWS = "face_windows"  # [{"level", "start": "HH:MM", "end": "HH:MM"}], every day
DEFAULT_FRAMES = BURST_FRAMES
OLD_DEFAULT_FRAMES = 5  # the gate form's default before config entry minor version 2
FACE_ASSURANCE_LEVELS = [level.value for level in FaceAssurance]



@dataclass(frozen=True)
class Gate:
    """One configured gate."""

    lock: str
    camera: str
    presence: str | None
    frames: int
    face_assurance: FaceAssurance = DEFAULT_FACE_ASSURANCE
    face_windows: tuple[FaceAssuranceWindow, ...] = ()

    @classmethod
    def from_options(cls, raw: dict[str, Any]) -> Gate:
        """A gate from its stored options. Gates stored before face assurance levels existed take the secure
        default (a face only with a card or PIN of the same resident)."""
        # Liveness needs at least BURST_FRAMES frames with a face; older options may ask for fewer.
        frames = max(BURST_FRAMES, int(raw.get(CONF_FRAMES, DEFAULT_FRAMES)))
        level = FaceAssurance(raw.get(CONF_FACE_ASSURANCE) or DEFAULT_FACE_ASSURANCE)
        windows = tuple(window_from_options(w) for w in raw.get(CONF_FACE_WINDOWS) or ())
        return cls(raw[CONF_LOCK], raw[CONF_CAMERA], raw.get(CONF_PRESENCE), frames, level, windows)


def migrated_gates(gates: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Stored gates with the old default frame count moved to today's, and how many moved (any other count is
    a manager's choice and stays)."""
    moved = [{**g, CONF_FRAMES: DEFAULT_FRAMES} if g.get(CONF_FRAMES) == OLD_DEFAULT_FRAMES else g for g in gates]
    return moved, sum(1 for g in gates if g.get(CONF_FRAMES) == OLD_DEFAULT_FRAMES)


def window_from_options(raw: dict[str, Any]) -> FaceAssuranceWindow:
    """A face assurance window as the options keep it (every day of the week)."""
    return FaceAssuranceWindow(FaceAssurance(raw["level"]), time.fromisoformat(raw["start"]),
                               time.fromisoformat(raw["end"]))


def window_options(level: str, start: str, end: str) -> dict[str, str]:
    """A face assurance window for the options, times as ``HH:MM`` (a time selector gives ``HH:MM:SS``)."""
    return {"level": FaceAssurance(level).value, "start": time.fromisoformat(start).strftime("%H:%M"),
            "end": time.fromisoformat(end).strftime("%H:%M")}


def door_id_of_lock(hass: HomeAssistant, lock_entity_id: str) -> str | None:
    """The access-control door id behind one of this integration's lock entities."""
    entity = er.async_get(hass).async_get(lock_entity_id)
    if entity is None or not entity.unique_id.endswith("-lock"):
        return None
    door = DoorId.try_parse(entity.unique_id.removesuffix("-lock"))
    return None if door is None else str(door)


async def camera_frames(hass: HomeAssistant, camera: str, frames: int) -> AsyncGenerator[bytes]:
    """A short burst of JPEG frames from a camera entity (any integration's), yielded as each arrives, one
    camera frame interval apart; a camera that stops answering ends the burst early."""
    started = hass.loop.time()
    for i in range(frames):
        try:
            yield (await async_get_image(hass, camera, timeout=5)).content
        except HomeAssistantError as err:
            _LOGGER.warning("gate camera %s gave no frame: %s", camera, err)
            return
        if i + 1 < frames:  # keep the frames on the camera's cadence, however long a fetch took
            await asyncio.sleep(max(0.0, started + (i + 1) * FRAME_INTERVAL_S - hass.loop.time()))


def own_camera_stream(hass: HomeAssistant, camera: str) -> FrameSource | None:
    """The MJPEG stream of one of this integration's cameras, for a gate's ring buffer; ``None`` for another
    integration's camera entity (asking it for 25 snapshots a second while nobody is there could cost more than the
    gate: some run ffmpeg per snapshot), whose frames are taken when presence fires."""
    entity = er.async_get(hass).async_get(camera)
    if entity is None or entity.platform != DOMAIN or entity.config_entry_id is None:
        return None
    entry_id = entity.config_entry_id

    async def stream() -> AsyncGenerator[bytes]:
        camera_entry = hass.config_entries.async_get_entry(entry_id)
        runtime = getattr(camera_entry, "runtime_data", None) if camera_entry is not None else None
        client = runtime.client if isinstance(runtime, CameraRuntimeData) else None
        if client is None or client.mjpeg_url is None:  # not loaded yet, or snapshots only: the ring retries
            raise DeviceValueError(f"{camera} has no MJPEG stream to keep")
        async with contextlib.aclosing(client.frames(None, frame_timeout=DEFAULT_FRAME_TIMEOUT_S)) as frames:
            async for frame in frames:
                yield frame

    return stream


async def async_run_gate(
    hass: HomeAssistant, runtime: CommunityRuntimeData, gate: Gate
) -> GateOutcome | None:
    """Presence at the gate (or a manager's request): frames -> pass or face -> decision -> release.

    A gate on one of this integration's cameras starts on the frames its ring buffer kept from before presence
    fired (the person walking up: no wait for new frames), then live ones; the ring holds only frames taken since
    the gate's previous decision and since presence last ended, and the gate keeper keeps one person's frames in a
    row (a face that jumps starts the burst again), so a burst never mixes the resident who just went through with
    the next person. Any other camera, or ours while its stream is down, gives fresh frames after presence.
    """
    door_id = door_id_of_lock(hass, gate.lock)
    point = runtime.points.get(door_id) if door_id else None
    if point is None:
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="gate_door_missing", translation_placeholders={"door": gate.lock}
        )
    # Up to a few frames more than the gate's burst, for frames where the face is missed; the gate keeper stops
    # the capture once it has its burst.
    offered = gate.frames + MAX_BURST_FRAMES - BURST_FRAMES
    ring = runtime.gate_rings.get(gate.lock)

    def fresh() -> AsyncGenerator[bytes]:
        return camera_frames(hass, gate.camera, offered)

    frames = ring.burst(gate.frames, offered=offered, fallback=fresh) if ring is not None and ring.streaming \
        else fresh()
    try:
        return await runtime.gatekeeper.camera_stream(point, frames, faces_needed=gate.frames)
    finally:
        if ring is not None:
            ring.clear()  # the frames so far show the person just decided


async def async_setup_gates(hass: HomeAssistant, entry: ConfigEntry[CommunityRuntimeData]) -> None:
    """Accept faces exactly at the gates; watch every gate's presence sensor, one verification at a time."""
    runtime = entry.runtime_data
    gates = [Gate.from_options(raw) for raw in entry.options.get(CONF_GATES, [])]
    face_doors = {door for door in (door_id_of_lock(hass, gate.lock) for gate in gates) if door}
    runtime.face_doors = face_doors
    await hass.async_add_executor_job(runtime.community.set_face_doors, face_doors)
    for gate in gates:
        door_id = door_id_of_lock(hass, gate.lock)
        if door_id is not None:
            await hass.async_add_executor_job(
                runtime.community.set_face_assurance, door_id, gate.face_assurance, gate.face_windows
            )
    runtime.gate_rings = {}
    for gate in gates:
        if (source := own_camera_stream(hass, gate.camera)) is None:
            continue
        ring = FrameRing(source, interval_s=FRAME_INTERVAL_S, name=gate.camera)
        ring.start(lambda feed, name: entry.async_create_background_task(hass, feed, name))
        entry.async_on_unload(ring.stop)
        runtime.gate_rings[gate.lock] = ring
    busy: set[str] = set()
    for gate in gates:
        if gate.presence is None:
            continue

        @callback
        def presence_changed(event: Event[EventStateChangedData], gate: Gate = gate) -> None:
            new = event.data["new_state"]
            if new is not None and new.state == "off" and (ring := runtime.gate_rings.get(gate.lock)) is not None:
                ring.clear()  # whoever stood there has gone: their frames are no one's approach
            if new is None or new.state != "on" or gate.lock in busy:
                return
            busy.add(gate.lock)

            async def verify() -> None:
                try:
                    await async_run_gate(hass, runtime, gate)
                except HomeAssistantError as err:
                    _LOGGER.warning("gate %s: %s", gate.lock, err)
                finally:
                    busy.discard(gate.lock)

            entry.async_create_background_task(hass, verify(), f"gate {gate.lock}")

        entry.async_on_unload(async_track_state_change_event(hass, [gate.presence], presence_changed))
