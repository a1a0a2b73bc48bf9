"""The demo's residents, added the way a property manager would: through the integration's actions."""

from __future__ import annotations

import re
from typing import Any

import aiohttp

from devkit.sim.camera import CameraSim
from devkit.sim.door_controller import DoorControllerSim
from hub.access.assurance import FACE_ALONE_RISK

from . import ha_setup
from .faces import demo_faces_dir
from .run import console

FIRST_CARD = 10_000_001
# The other photos of each person are what the simulated gate camera shows.
ENROL_PHOTOS = 3


def resident_id(name: str) -> str:
    """A resident id from a folder name (``John_Salley`` -> ``r-john-salley``)."""
    return "r-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def lock_entity(serial: str, door: int) -> str:
    """The lock entity Home Assistant made for a controller's door (0-based)."""
    return f"lock.{re.sub(r'[^a-z0-9]+', '_', serial.lower())}_door_{door + 1}"


async def _call(session: aiohttp.ClientSession, base: str, token: str, service: str,
                data: dict[str, Any]) -> dict[str, Any]:
    async with session.post(
        f"{base}/api/services/smart_community/{service}", json=data,
        headers={"Authorization": f"Bearer {token}"},
    ) as resp:
        if resp.status != 200:
            raise ha_setup.HomeAssistantSetupError(f"{service} failed: {resp.status} {await resp.text()}")
        result: dict[str, Any] = await resp.json()
    return result


async def add_demo_residents(
    session: aiohttp.ClientSession, base: str, token: str, controllers: list[DoorControllerSim],
    camera: CameraSim | None,
) -> list[tuple[str, str, int]]:
    """Add one resident per person in the demo photos, with a card each, and a rule letting residents through
    every door; returns (resident id, name, card number) for the console."""
    faces = demo_faces_dir()
    people = sorted(p.name for p in faces.iterdir() if p.is_dir()) if faces else []
    added = []
    for i, folder in enumerate(people):
        rid, name, card = resident_id(folder), folder.replace("_", " "), FIRST_CARD + i
        await _call(session, base, token, "add_resident",
                    {"resident_id": rid, "full_name": name, "building": str(1 + i % 3), "unit": f"{101 + i}"})
        await _call(session, base, token, "add_card", {"resident_id": rid, "card_number": str(card)})
        added.append((rid, name, card))
    doors = [lock_entity(sim.serial, d) for sim in controllers for d in range(len(sim.doors))]
    await _call(session, base, token, "add_access_rule",
                {"rule_id": "residents-all-doors", "name": "Residents, every door, any time", "doors": doors,
                 "everyone": True})
    enrolled = 0
    if faces is not None:
        for rid, name, _card in added:
            photos = sorted((faces / name.replace(" ", "_")).glob("*.jpg"))[:ENROL_PHOTOS]
            await _call(session, base, token, "record_consent",
                        {"resident_id": rid, "scope": "Demo: face verification at the North gate, templates only"})
            await _call(session, base, token, "enrol_face", {"resident_id": rid, "photos": [str(p) for p in photos]})
            enrolled += 1
    if controllers and camera is not None:
        gate = controllers[0]
        presence = f"binary_sensor.{re.sub(r'[^a-z0-9]+', '_', gate.serial.lower())}_door_1_presence"
        await ha_setup.enable_entity(session, base, token, presence)
        await ha_setup.reload_entry(session, base, token, "smart_community", f"{gate.model} {gate.serial}")
        # The North gate is set to face alone, so a face opens it by itself (the demo's camera scenes need that);
        # a real gate's default is a face plus a card or PIN. Say what that costs.
        await ha_setup.add_gate(session, base, token, "Demo community", lock_entity(gate.serial, 0),
                                "camera.north_gate_camera", presence, face_assurance="face_alone")
        console(f"North gate: face alone (convenience level). WARNING: {FACE_ALONE_RISK}")
    console(f"Added {len(added)} demo residents, each with an access card; {enrolled} enrolled their faces:")
    for rid, name, card in added:
        console(f"  {name:<16} {rid:<18} card {card}")
    return added
