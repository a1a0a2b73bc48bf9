"""The demo's car park: two entrances, each lane watched by a simulated plate-recognition camera
(:mod:`devkit.sim.anpr`) in its vendor's real wire format, a resident's car, a visitor-vehicle invitation and a
blacklisted plate.

- ``main`` entrance: lane 1 ``entry``, a Hikvision camera pushing to Home Assistant's own HTTP server (the URL
  secret); lane 2 ``exit``, a Vzenith camera (the URL secret and its address, 127.0.0.1); their barriers on the two
  relays of the last simulated door controller;
- ``east`` entrance, one barrier (relay 2 of the first controller) for both its lanes: lane 1 ``east-entry``, a
  Dahua camera posting to Dahua's fixed paths on the hub's own port with HTTP Digest; lane 2 ``east-exit``, Frigate
  publishing over MQTT to the demo's own Mosquitto (:mod:`.frigate_broker`), set up only when Mosquitto is installed.

Everything is set up through Home Assistant, as a manager would: the cameras in the community entry's options flow
(which shows each camera's push URL), the cars with the integration's actions. The push URLs and the cameras'
credentials are kept in the demo folder (``car-park.json``, mode 0600) for the next start, and printed on the
console, as the options flow shows them to the manager. ``car <lane> <plate>`` makes that lane's camera push the
plate; the console answers with the lane's decision from the vehicle log.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from devices.anpr.models import PlateColor
from devkit.sim.anpr import AnprCameraSim, make_records
from devkit.sim.door_controller import DoorControllerSim

from . import frigate_broker, ha_setup
from .faces import demo_faces_dir
from .residents import lock_entity, resident_id
from .run import console, write_secret

CAR_PARK = "carpark"
ENTRANCE = "main"
EAST = "east"
RESIDENT_PLATE = "沪A12345"
VISITOR_PLATE = "沪B67890"
BLACK_PLATE = "沪C44444"
UNKNOWN_PLATE = "沪D97531"  # registered nowhere: refused while temporary vehicles are (the default)
OWNER_FALLBACK = ("r-car-owner", "Wang Fang")  # when the demo has no photos, hence no residents of its own
DAHUA_USER = "dahua-east"
FRIGATE_TOPIC = f"{frigate_broker.TOPIC_PREFIX}/tracked_object_update"


@dataclass(frozen=True)
class DemoLane:
    """One lane of the demo's car park and its simulated camera."""

    name: str  # what the console calls it: entry / exit / east-entry / east-exit
    format: str
    direction: str
    lane_no: int
    camera_id: str
    door: int  # 0-based relay (door) of the barrier's controller
    entrance: str = ENTRANCE
    controller: int = -1  # which simulated controller holds the barrier's relay (-1: the last)

    @property
    def lane_id(self) -> str:
        return f"{CAR_PARK}:{self.entrance}:{self.lane_no}"


LANES = (
    DemoLane("entry", "hikvision", "entry", 1, "44:19:b6:00:00:11", 0),
    DemoLane("exit", "vzenith", "exit", 2, "VZDEMOEXIT01", 1),
    DemoLane("east-entry", "dahua", "entry", 1, "DHDEMOEAST01", 1, EAST, 0),
    DemoLane("east-exit", "frigate", "exit", 2, "east_exit", 1, EAST, 0),
)
LANE_NAMES = "|".join(lane.name for lane in LANES)


def _lane_input(lane: DemoLane, lock: str, credentials: dict[str, str], *, anpr_port: int,
                frigate_url: str | None) -> dict[str, Any]:
    """The options flow's "Add a plate-recognition camera" form, as the manager fills it in."""
    answer: dict[str, Any] = {"format": lane.format, "car_park": CAR_PARK, "entrance": lane.entrance,
                              "lane_no": lane.lane_no, "direction": lane.direction, "barrier": "door", "lock": lock}
    if lane.format == "vzenith":
        answer["allowed_addresses"] = "127.0.0.1"  # Vzenith cameras cannot authenticate: only their address
    if lane.format == "dahua":  # HTTP Digest, on the hub's own port (Dahua's paths are fixed)
        answer.update(username=DAHUA_USER, password=credentials["dahua_password"], anpr_port=anpr_port)
    if lane.format == "frigate":  # the hub subscribes with its own, read-only broker user
        answer.update(broker_url=frigate_url, username=frigate_broker.SUBSCRIBER,
                      password=credentials["frigate_hub_password"])
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
    """The car park's set-up through Home Assistant, its banner lines, and the ``car`` console command.

    ``anpr_port`` is the hub's own receiver port (Dahua); ``frigate`` the demo's broker for the Frigate lane, or
    ``None`` when Mosquitto is not installed (that lane is then left out)."""

    def __init__(self, demo_dir: Path, base: str, *, anpr_port: int = 8480,
                 frigate: frigate_broker.DemoFrigateBroker | None = None) -> None:
        self.file = demo_dir / "car-park.json"
        self.base = base
        self.anpr_port = anpr_port
        self.frigate = frigate
        self.token: str | None = None
        self.urls: dict[str, str] = {}  # lane name -> push URL (with its secret)
        self.owner: str | None = None
        self.credentials: dict[str, str] = {}
        self.no_frigate_because = "Mosquitto is not installed; apt-get install mosquitto adds it"

    def _stored(self) -> dict[str, Any]:
        if not self.file.exists():
            return {}
        stored: dict[str, Any] = json.loads(self.file.read_text())
        return stored

    def _save(self) -> None:
        write_secret(self.file, json.dumps({"urls": self.urls, "owner": self.owner, "credentials": self.credentials},
                                           ensure_ascii=False))

    def load_credentials(self) -> dict[str, str]:
        """The cameras' and the Frigate broker's passwords: random, made once, kept in ``car-park.json`` (0600);
        needed before Home Assistant starts (the broker's users)."""
        stored = self._stored()
        self.urls, self.owner = dict(stored.get("urls", {})), stored.get("owner")
        self.credentials = dict(stored.get("credentials", {}))
        for key in ("dahua_password", "frigate_hub_password", "frigate_camera_password"):
            self.credentials.setdefault(key, secrets.token_urlsafe(12))
        self._save()
        return self.credentials

    def reset(self) -> None:
        """Forget the lanes and cars (a new community entry has none); the credentials stay."""
        if not self.credentials:
            self.load_credentials()
        self.urls, self.owner = {}, None
        self._save()

    def frigate_passwords(self) -> dict[str, str]:
        """The Frigate broker's users and passwords."""
        return {frigate_broker.PUBLISHER: self.credentials["frigate_camera_password"],
                frigate_broker.SUBSCRIBER: self.credentials["frigate_hub_password"]}

    def lanes_wanted(self) -> list[DemoLane]:
        """The lanes this start can have (Frigate's only with its broker)."""
        return [lane for lane in LANES if lane.format != "frigate" or self.frigate is not None]

    def load(self) -> bool:
        """Whether every lane this start can have was set up on an earlier start."""
        if not self.credentials:
            self.load_credentials()
        return self.owner is not None and all(lane.name in self.urls for lane in self.lanes_wanted())

    async def set_up(self, session: aiohttp.ClientSession, token: str, community_title: str,
                     controllers: list[DoorControllerSim]) -> None:
        """Add the cameras not added yet in the options flow (keeping the push URLs it shows); on the first start,
        the resident's car, a visitor's invitation and a blacklisted plate through the integration's actions."""
        if not controllers:
            raise ha_setup.HomeAssistantSetupError("the car park's barriers need a door controller")
        if not self.credentials:
            self.load_credentials()
        for lane in self.lanes_wanted():
            if lane.name in self.urls:
                continue
            console(f"Adding the car park's {lane.name} camera ({lane.format}) through the options flow...")
            barrier = controllers[lane.controller]
            lock = lock_entity(barrier.serial, min(lane.door, len(barrier.doors) - 1))
            answer = _lane_input(lane, lock, self.credentials, anpr_port=self.anpr_port,
                                 frigate_url=self.frigate.url if self.frigate else None)
            _menu, shown, _saved = await ha_setup.community_options_answers(
                session, self.base, token, community_title, [{"next_step_id": "add_anpr_lane"}, answer, {}])
            url = str(shown.get("description_placeholders", {}).get("url", ""))
            if lane.format in ("hikvision", "vzenith"):
                if "/api/smart_community/anpr/" not in url:
                    raise ha_setup.HomeAssistantSetupError(f"the options flow showed no push URL: {shown}")
                # Home Assistant may not know its own address: the path (with the lane's secret) is what matters.
                self.urls[lane.name] = self.base + url[url.index("/api/"):]
            elif lane.format == "dahua":
                if not url.endswith(f":{self.anpr_port}/NotificationInfo/TollgateInfo"):
                    raise ha_setup.HomeAssistantSetupError(f"the options flow showed no Dahua push URL: {shown}")
                self.urls[lane.name] = f"http://127.0.0.1:{self.anpr_port}/NotificationInfo/TollgateInfo"
            else:
                self.urls[lane.name] = url.split(" ", 1)[0]  # the broker's URL (then "topic ...")
            self._save()
        if self.owner is None:
            self.owner = await self._add_cars(session, token)
            self._save()

    async def _add_cars(self, session: aiohttp.ClientSession, token: str) -> str:
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
        return owner

    def _push_line(self, lane: DemoLane) -> str:
        url = self.urls[lane.name]
        if lane.format == "dahua":
            return (f"  ANPR push (dahua): {url} (and /NotificationInfo/KeepAlive; HTTP Digest user {DAHUA_USER} "
                    f"password {self.credentials['dahua_password']})")
        if lane.format == "frigate":
            return (f"  ANPR push (frigate): {url} topic {FRIGATE_TOPIC} (MQTT user {frigate_broker.PUBLISHER} "
                    f"password {self.credentials['frigate_camera_password']})")
        return f"  ANPR push ({lane.format}): {url}"

    def banner(self) -> list[str]:
        """One line per camera with its push URL (and credentials where the format has them), then the cars."""
        lines = [self._push_line(lane) for lane in self.lanes_wanted() if lane.name in self.urls]
        if self.frigate is None:
            lines.append(f"  (no Frigate lane: {self.no_frigate_because})")
        if self.urls:
            lines += [f"  Resident car: {RESIDENT_PLATE}",
                      f"  Visitor car: {VISITOR_PLATE} (invited for a week); blacklisted plate: {BLACK_PLATE}",
                      f"  Drive a car through with: car {LANE_NAMES} PLATE"]
        return lines

    async def drive(self, lane_name: str, plate: str) -> str:
        """The lane's camera reads ``plate`` and pushes it; the lane's decision as the vehicle log recorded it."""
        lane = next((lane for lane in self.lanes_wanted() if lane.name == lane_name), None)
        if lane is None or lane.name not in self.urls:
            names = "|".join(lane.name for lane in self.lanes_wanted() if lane.name in self.urls)
            raise ValueError(f"there is no lane {lane_name!r} ({names})")
        # A new record id in the camera's own form (Vzenith's counts up: from the clock, so a restart of the demo
        # does not reuse one, which the hub would take for a resend).
        (record,) = make_records(lane.format, plate=plate, color=PlateColor.BLUE, backlog=0, rng=random.Random(),
                                 first_id=int(time.time() * 1000))
        try:
            async with aiohttp.ClientSession() as session:
                before = await self._last_pass(session)
                status = await self._push(lane, record)
                if status not in (0, 200):
                    return f"{lane.name} camera: the hub answered HTTP {status}"
                if self.token is None:
                    return f"{lane.name} camera pushed {plate}"
                last = await self._last_pass(session)
                for _ in range(100):  # an MQTT publish has no answer: wait for the pass to be recorded
                    if last is not None and last.get("pass_id") != (before or {}).get("pass_id"):
                        break
                    await asyncio.sleep(0.1)
                    last = await self._last_pass(session)
        except (aiohttp.ClientError, OSError, ha_setup.HomeAssistantSetupError) as err:
            return f"error: {lane.name} camera: {err}"
        except Exception as err:  # the MQTT client's errors (aiomqtt.MqttError)
            return f"error: {lane.name} camera: {type(err).__name__}: {err}"
        if last is None or last.get("pass_id") == (before or {}).get("pass_id"):
            return f"{lane.name} camera pushed {plate}"
        barrier = "the barrier opens" if last["result"] == "granted" else "the barrier stays down"
        return f"{lane.name}: {last['plate']} {last['result']} ({last['reason']}), {barrier}"

    async def _push(self, lane: DemoLane, record: Any) -> int:
        url = self.urls[lane.name]
        if lane.format == "dahua":
            base = "{0.scheme}://{0.netloc}".format(urlsplit(url))
            async with AnprCameraSim("dahua", base, camera_id=lane.camera_id, username=DAHUA_USER,
                                     password=self.credentials["dahua_password"]) as camera:
                return await camera.send(record)
        if lane.format == "frigate":
            async with AnprCameraSim("frigate", url, camera_id=lane.camera_id, username=frigate_broker.PUBLISHER,
                                     password=self.credentials["frigate_camera_password"]) as camera:
                await camera.publish_frigate([record])
            return 0
        async with AnprCameraSim(lane.format, url, camera_id=lane.camera_id) as camera:
            return await camera.send(record)

    async def _last_pass(self, session: aiohttp.ClientSession) -> dict[str, Any] | None:
        if self.token is None:
            return None
        reply = await _service(session, self.base, self.token, "vehicle_log", {"limit": 1}, response=True)
        entries = reply.get("service_response", {}).get("entries", [])
        return dict(entries[0]) if entries else None
