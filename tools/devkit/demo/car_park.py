"""The demo's car park: an ``entry`` and an ``exit`` lane, each watched by a simulated plate-recognition camera
(Hikvision at the entry, Vzenith at the exit, :mod:`devkit.sim.anpr`), their barriers on the relays of the last
simulated door controller, a resident's car, a visitor-vehicle invitation and a blacklisted plate.

Everything is set up through Home Assistant, as a manager would: the cameras in the community entry's options flow
(which shows each camera's push URL), the cars with the integration's actions. The push URLs carry the lanes'
secrets: they are kept in the demo folder (``car-park.json``, mode 0600) for the next start, and printed on the
console, as the options flow shows them to the manager. ``car <lane> <plate>`` makes that lane's camera push the
plate; the console answers with the lane's decision from the vehicle log.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from devices.anpr.models import PlateColor
from devkit.sim.anpr import AnprCameraSim, make_records
from devkit.sim.door_controller import DoorControllerSim

from . import ha_setup
from .faces import demo_faces_dir
from .residents import lock_entity, resident_id
from .run import console, write_secret

CAR_PARK = "carpark"
ENTRANCE = "main"
RESIDENT_PLATE = "沪A12345"
VISITOR_PLATE = "沪B67890"
BLACK_PLATE = "沪C44444"
UNKNOWN_PLATE = "沪D97531"  # registered nowhere: refused while temporary vehicles are (the default)
OWNER_FALLBACK = ("r-car-owner", "Wang Fang")  # when the demo has no photos, hence no residents of its own


@dataclass(frozen=True)
class DemoLane:
    """One lane of the demo's car park and its simulated camera."""

    name: str  # what the console calls it: entry / exit
    format: str
    direction: str
    lane_no: int
    camera_id: str
    door: int  # 0-based relay (door) of the barrier's controller


LANES = (
    DemoLane("entry", "hikvision", "entry", 1, "44:19:b6:00:00:11", 0),
    DemoLane("exit", "vzenith", "exit", 2, "VZDEMOEXIT01", 1),
)


def _lane_input(lane: DemoLane, lock: str) -> dict[str, Any]:
    """The options flow's "Add a plate-recognition camera" form, as the manager fills it in."""
    answer: dict[str, Any] = {"format": lane.format, "car_park": CAR_PARK, "entrance": ENTRANCE,
                              "lane_no": lane.lane_no, "direction": lane.direction, "barrier": "door", "lock": lock}
    if lane.format == "vzenith":
        answer["allowed_addresses"] = "127.0.0.1"  # Vzenith cameras cannot authenticate: only their address
    return answer


async def _service(session: aiohttp.ClientSession, base: str, token: str, service: str, data: dict[str, Any], *,
                   response: bool = False) -> dict[str, Any]:
    url = f"{base}/api/services/smart_community/{service}" + ("?return_response" if response else "")
    async with session.post(url, json=data, headers={"Authorization": f"Bearer {token}"}) as resp:
        if resp.status != 200:
            raise ha_setup.HomeAssistantSetupError(f"{service} failed: {resp.status} {await resp.text()}")
        result: dict[str, Any] = await resp.json()
    return result


class DemoCarPark:
    """The car park's set-up through Home Assistant, its banner lines, and the ``car`` console command."""

    def __init__(self, demo_dir: Path, base: str) -> None:
        self.file = demo_dir / "car-park.json"
        self.base = base
        self.token: str | None = None
        self.urls: dict[str, str] = {}  # lane name -> push URL (with its secret)
        self.owner: str | None = None

    def load(self) -> bool:
        """The lanes set up on an earlier start, if any."""
        if not self.file.exists():
            return False
        stored = json.loads(self.file.read_text())
        self.urls, self.owner = dict(stored["urls"]), stored.get("owner")
        return True

    async def set_up(self, session: aiohttp.ClientSession, token: str, community_title: str,
                     controllers: list[DoorControllerSim]) -> None:
        """Add both cameras in the options flow (keeping the push URLs it shows), the resident's car, a visitor's
        invitation and a blacklisted plate through the integration's actions."""
        if not controllers:
            raise ha_setup.HomeAssistantSetupError("the car park's barriers need a door controller")
        barrier = controllers[-1]
        urls: dict[str, str] = {}
        for lane in LANES:
            console(f"Adding the car park's {lane.name} camera ({lane.format}) through the options flow...")
            lock = lock_entity(barrier.serial, min(lane.door, len(barrier.doors) - 1))
            _menu, shown, _saved = await ha_setup.community_options_answers(
                session, self.base, token, community_title,
                [{"next_step_id": "add_anpr_lane"}, _lane_input(lane, lock), {}])
            url = str(shown.get("description_placeholders", {}).get("url", ""))
            if "/api/smart_community/anpr/" not in url:
                raise ha_setup.HomeAssistantSetupError(f"the options flow showed no push URL: {shown}")
            # Home Assistant may not know its own address: the path (with the lane's secret) is what matters.
            urls[lane.name] = self.base + url[url.index("/api/"):]
        faces = demo_faces_dir()
        people = sorted(p.name for p in faces.iterdir() if p.is_dir()) if faces else []
        if people:
            owner = resident_id(people[0])
        else:
            owner = OWNER_FALLBACK[0]
            await _service(session, self.base, token, "add_resident",
                           {"resident_id": owner, "full_name": OWNER_FALLBACK[1], "building": "1", "unit": "101"})
        await _service(session, self.base, token, "add_vehicle", {"resident_id": owner, "plate": RESIDENT_PLATE})
        until = (datetime.now(UTC) + timedelta(days=7)).isoformat()
        await _service(session, self.base, token, "invite_vehicle",
                       {"resident_id": owner, "plate": VISITOR_PLATE, "valid_until": until})
        await _service(session, self.base, token, "list_plate",
                       {"plate": BLACK_PLATE, "list": "black", "note": "Demo: reported stolen"})
        self.urls, self.owner = urls, owner
        write_secret(self.file, json.dumps({"urls": urls, "owner": owner}, ensure_ascii=False))

    def banner(self) -> list[str]:
        """One line per camera with its push URL, then the cars to try."""
        lines = [f"  ANPR push ({lane.format}): {self.urls[lane.name]}" for lane in LANES if lane.name in self.urls]
        if self.urls:
            lines += [f"  Resident car: {RESIDENT_PLATE}",
                      f"  Visitor car: {VISITOR_PLATE} (invited for a week); blacklisted plate: {BLACK_PLATE}",
                      "  Drive a car through with: car entry|exit PLATE"]
        return lines

    async def drive(self, lane_name: str, plate: str) -> str:
        """The lane's camera reads ``plate`` and pushes it; the lane's decision as the vehicle log recorded it."""
        lane = next((lane for lane in LANES if lane.name == lane_name), None)
        if lane is None or lane.name not in self.urls:
            raise ValueError(f"there is no lane {lane_name!r} (entry or exit)")
        # A new record id in the camera's own form (Vzenith's counts up: from the clock, so a restart of the demo
        # does not reuse one, which the hub would take for a resend).
        (record,) = make_records(lane.format, plate=plate, color=PlateColor.BLUE, backlog=0, rng=random.Random(),
                                 first_id=int(time.time() * 1000))
        try:
            async with AnprCameraSim(lane.format, self.urls[lane.name], camera_id=lane.camera_id) as camera:
                status = await camera.send(record)
            if status != 200:
                return f"{lane.name} camera: the hub answered HTTP {status}"
            if self.token is None:
                return f"{lane.name} camera pushed {plate}"
            async with aiohttp.ClientSession() as session:
                reply = await _service(session, self.base, self.token, "vehicle_log", {"limit": 1}, response=True)
        except (aiohttp.ClientError, ha_setup.HomeAssistantSetupError) as err:
            return f"error: {lane.name} camera: {err}"
        entries = reply.get("service_response", {}).get("entries", [])
        if not entries:
            return f"{lane.name} camera pushed {plate}"
        last = entries[0]
        barrier = "the barrier opens" if last["result"] == "granted" else "the barrier stays down"
        return f"{lane.name}: {last['plate']} {last['result']} ({last['reason']}), {barrier}"
