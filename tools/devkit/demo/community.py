"""The demo community: simulators + Home Assistant + set-up through Home Assistant's own APIs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import aiohttp

from devices._pymodbus import LOGGER_NAME as PYMODBUS_LOGGER
from devkit.receiver import ReferenceReceiver
from devkit.receiver.hubs import load_hubs_file
from hub.doors import DoorId
from hub.exceptions import InvalidInputError
from hub.uplink import Secret

from . import ha_setup
from .car_park import DemoCarPark
from .console import SimulatorConsole
from .county_mqtt import TOPIC_PREFIX, DemoMqttCounty, MosquittoMissingError
from .devices import CAMERA_SERIAL, DemoDevices
from .faces import demo_faces_dir
from .frigate_broker import DemoFrigateBroker
from .residents import add_demo_residents
from .run import (
    DOMAIN,
    OWNER_USERNAME,
    console,
    install_signal_handlers,
    new_password,
    wait_for_stop,
    write_secret,
)

_LOGGER = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parents[3]
CAMERA_TITLE = "North gate camera"
COMMUNITY_TITLE = "Demo community"
# What the demo's doors are called (in order: controller 1's doors, then controller 2's, ...), set as the doors'
# device names in Home Assistant the way a manager renames a device; the panel, CSV and audit view show these.
DEMO_DOOR_NAMES = ("North gate", "Garden door", "Bike store", "Car park door", "South gate", "Pool gate",
                   "Back door", "Roof terrace")
ONBOARDING_EXTRAS = {"met", "radio_browser", "google_translate", "shopping_list"}

CONFIGURATION = """\
# Written by `community-hub run` on every start; edit the demo's code, not this file.
homeassistant:
  name: Demo community
  unit_system: metric
  time_zone: Asia/Shanghai
  country: CN
  currency: CNY
  latitude: 31.23
  longitude: 121.47
  elevation: 4
  allowlist_external_dirs:
    - {faces}{extra_dirs}
http:
  server_host: 127.0.0.1
  server_port: {port}
frontend:
config:
api:
onboarding:
auth:
person:
logger:
  default: warning
  logs:
    custom_components.smart_community: info
    hub: info
    devices: info
"""


class _StoppedError(Exception):
    """Ctrl-C arrived while the demo was still starting."""


async def _unless_stopped[T](stop: asyncio.Event, work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` unless ``stop`` is set first, in which case cancel it and raise :class:`_StoppedError`."""
    task = asyncio.create_task(work)
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise _StoppedError
    return task.result()


class DemoCommunity:
    """Everything ``make run`` starts, and its orderly shutdown."""

    def __init__(
        self, *, port: int, demo_dir: Path, modbus_port: int, controllers: int, doors: int,
        startup_timeout: float, uplink: str = "json",
    ) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.demo_dir = demo_dir
        self.config_dir = demo_dir / "config"
        self.startup_timeout = startup_timeout
        self.devices = DemoDevices(base_port=modbus_port, controllers=controllers, doors=doors)
        self.sims = self.devices.controllers
        self.hass: asyncio.subprocess.Process | None = None
        self.receiver_port = modbus_port + 50
        self.receiver: ReferenceReceiver | None = None
        self.hubs_file = demo_dir / "county-hubs"
        self.read_token_file = demo_dir / "county-read-token"
        # Which county the community's uplink was pointed at (json / mqtt), written once it was.
        self.uplink = uplink
        self.uplink_file = demo_dir / "uplink-profile"
        self.mqtt = DemoMqttCounty(demo_dir, broker_port=modbus_port + 52, read_api_port=modbus_port + 51) \
            if uplink == "mqtt" else None
        # The Frigate lane's broker, when Mosquitto is installed (the demo runs without it, minus that lane).
        self.frigate = DemoFrigateBroker(demo_dir, modbus_port + 54) if DemoFrigateBroker.available() else None
        self.car_park = DemoCarPark(demo_dir, self.base, anpr_port=modbus_port + 53, frigate=self.frigate)

    def _write_configuration(self) -> None:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        faces = demo_faces_dir() or REPO_ROOT / "demo" / "faces"
        # With the MQTT uplink, Home Assistant may read the hub's certificate, key and the county's CA (and only those).
        extra = f"\n    - {self.mqtt.hub_folder}" if self.mqtt is not None else ""
        (self.config_dir / "configuration.yaml").write_text(
            CONFIGURATION.format(port=self.port, faces=faces, extra_dirs=extra))
        # Home Assistant 2026.x keeps its HTTP settings in storage and reads the YAML above only once; the stored
        # copy is dropped so that every start binds the address and port asked for now
        # (see ha_setup.confirm_http_config).
        (self.config_dir / ".storage" / "http").unlink(missing_ok=True)
        components = self.config_dir / "custom_components"
        components.mkdir(exist_ok=True)
        link = components / DOMAIN
        target = REPO_ROOT / "custom_components" / DOMAIN
        if link.is_symlink() or link.exists():
            if link.resolve() == target:
                return
            link.unlink()
        link.symlink_to(target)

    async def _start_hass(self) -> asyncio.subprocess.Process:
        log = open(self.demo_dir / "home-assistant.log", "ab")  # noqa: SIM115, ASYNC230 - handed to the child, at once
        try:
            return await asyncio.create_subprocess_exec(
                sys.executable, "-m", "homeassistant", "-c", str(self.config_dir), "--skip-pip",
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True,  # Ctrl-C reaches the demo, which then stops Home Assistant in order
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        finally:
            log.close()

    async def _stop_hass(self) -> None:
        if self.hass is None or self.hass.returncode is not None:
            return
        self.hass.terminate()
        try:
            await asyncio.wait_for(self.hass.wait(), 60)
        except TimeoutError:
            self.hass.kill()
            await self.hass.wait()

    async def _set_up_home_assistant(self, session: aiohttp.ClientSession) -> tuple[str, str | None]:
        """Onboard on first start; returns (long-lived token, password if it was just created)."""
        password_file = self.demo_dir / "owner-password"
        token_file = self.demo_dir / "token"
        fresh_password: str | None = None
        if not ha_setup.onboarding_done(self.config_dir):
            await ha_setup.wait_for_onboarding_view(session, self.base, self.startup_timeout)
            fresh_password = new_password()
            write_secret(password_file, fresh_password)
            access = await ha_setup.onboard(
                session, self.base, name="Property manager", username=OWNER_USERNAME, password=fresh_password
            )
            token_file.unlink(missing_ok=True)
        if token_file.exists():
            token = token_file.read_text().strip()
            async with session.get(f"{self.base}/api/", headers={"Authorization": f"Bearer {token}"}) as resp:
                if resp.status == 200:
                    return token, fresh_password
        if fresh_password is None:
            if not password_file.exists():
                raise ha_setup.HomeAssistantSetupError(
                    f"{password_file} is missing; delete {self.demo_dir} to start the demo afresh"
                )
            access = await ha_setup.login(session, self.base, OWNER_USERNAME, password_file.read_text().strip())
        token = await ha_setup.long_lived_token(session, self.base, access, "community-hub demo")
        write_secret(token_file, token)
        return token, fresh_password

    def _place_names(self) -> dict[str, str]:
        """The demo's door names by door id (``<serial>-door<n>``), beyond the list: "Door 9", ..."""
        door_ids = [str(DoorId.for_controller(sim.serial, index))
                    for sim in self.sims for index in range(len(sim.doors))]
        return {door_id: DEMO_DOOR_NAMES[n] if n < len(DEMO_DOOR_NAMES) else f"Door {n + 1}"
                for n, door_id in enumerate(door_ids)}

    async def _add_devices(self, session: aiohttp.ClientSession, token: str) -> bool:
        """Add what is missing through the config flow; returns whether the community hub was just added."""
        # Home Assistant's API does not show unique ids; the demo's entries are known by their titles.
        known = {entry.get("title") for entry in await ha_setup.config_entries(session, self.base, token, DOMAIN)}
        for sim in self.sims:
            if f"{sim.model} {sim.serial}" in known:
                continue
            console(f"Adding door controller {sim.serial} through the config flow...")
            await ha_setup.add_through_config_flow(
                session, self.base, token, DOMAIN, "controller", {"host": sim.host, "port": sim.port}
            )
        camera = self.devices.camera
        if camera is not None and CAMERA_TITLE not in known:
            console("Adding the gate camera through the config flow...")
            await ha_setup.add_through_config_flow(
                session, self.base, token, DOMAIN, "camera",
                {"name": CAMERA_TITLE, "snapshot_url": camera.snapshot_url, "mjpeg_url": camera.mjpeg_url,
                 "auth": "digest"},
            )
        if COMMUNITY_TITLE in known:
            return False
        console("Adding the community hub through the config flow...")
        await ha_setup.add_through_config_flow(session, self.base, token, DOMAIN, "community",
                                               {"name": COMMUNITY_TITLE})
        return True

    def _banner(self, fresh_password: str | None) -> None:
        console()
        console("=" * 72)
        console(f"Demo community is up.  Open {self.base} in a browser.")
        if fresh_password:
            console(f"  Log in as '{OWNER_USERNAME}' with password: {fresh_password}")
            console(f"  (shown once; it is also kept in {self.demo_dir / 'owner-password'}, mode 0600)")
        else:
            console(f"  Log in as '{OWNER_USERNAME}'; the password is in {self.demo_dir / 'owner-password'}")
        console(f"  API token for scripts: {self.demo_dir / 'token'}")
        for sim, control in zip(self.sims, self.devices.control_ports, strict=False):
            console(f"  Door controller {sim.serial}: Modbus TCP {sim.host}:{sim.port}, {len(sim.doors)} doors, "
                    f"control http://127.0.0.1:{control}")
        if self.devices.camera is not None:
            console(f"  Gate camera {CAMERA_SERIAL}: {self.devices.camera.snapshot_url}, control "
                    f"http://127.0.0.1:{self.devices.control_ports[-1]}")
        if self.receiver is not None:
            console(f"  County platform (reference receiver): {self.receiver.url}/api/v1/events "
                    f"(read token: {self.read_token_file})")
        if self.mqtt is not None:
            console(f"  County platform (MQTT consumer): {self.mqtt.read_api}/events "
                    f"(read token: {self.mqtt.read_token_file}); broker {self.mqtt.url} (Mosquitto, TLS)")
        for line in self.car_park.banner():
            console(line)
        console("  Type 'help' for simulator commands (open a door, press an exit button, swipe a card).")
        console("  Ctrl-C stops everything.")
        console("=" * 72)

    def _make_uplink_secret(self) -> None:
        """The hub's uplink secret: random, made once, kept in the demo folder (0600), never printed."""
        secret_file = self.demo_dir / "uplink-secret"
        if not secret_file.exists():
            write_secret(secret_file, secrets.token_urlsafe(32))

    async def _start_receiver(self) -> None:
        """The county side of the JSON uplink profile. The hub's secret is random and kept in the demo folder, and
        so is the list of hubs the receiver accepts (one line, written once the community hub exists and its id
        is known); the read API's token is made anew on every start. Nothing secret is printed."""
        self._make_uplink_secret()
        write_secret(self.read_token_file, secrets.token_urlsafe(32))
        hubs = load_hubs_file(self.hubs_file) if self.hubs_file.exists() else {}
        self.receiver = ReferenceReceiver(
            self.demo_dir / "county-receiver.db", hubs, read_token=Secret.from_file(self.read_token_file),
            port=self.receiver_port,
        )
        await self.receiver.start()

    async def _hub_id(self, session: aiohttp.ClientSession, token: str) -> str:
        entries = await ha_setup.config_entries(session, self.base, token, DOMAIN)
        community = next((e for e in entries if e.get("title") == COMMUNITY_TITLE), None)
        if community is None:
            raise ha_setup.HomeAssistantSetupError(f"no community entry titled {COMMUNITY_TITLE!r}")
        return ha_setup.community_hub_id(community["entry_id"])

    def _write_hubs_file(self, hub_id: str) -> None:
        write_secret(self.hubs_file, f"# hubs the demo's county accepts: HUB_ID SECRET_FILE\n{hub_id} uplink-secret")

    async def _bind_hub(self, session: aiohttp.ClientSession, token: str) -> None:
        """Let the county accept the community hub, with the demo's uplink secret (before the hub sends): the
        receiver learns it, or the MQTT county's consumer starts for it (and its certificate is issued)."""
        hub_id = await self._hub_id(session, token)
        if self.mqtt is not None:
            self._write_hubs_file(hub_id)
            await asyncio.to_thread(self.mqtt.hub_files, hub_id)
            try:
                await self.mqtt.start_consumer({hub_id: Secret.from_file(self.demo_dir / "uplink-secret")})
            except TimeoutError:
                raise ha_setup.HomeAssistantSetupError(
                    f"the county consumer did not subscribe at {self.mqtt.url} within 20 s: see "
                    f"{self.mqtt.folder / 'broker' / 'mosquitto.log'}") from None
            return
        assert self.receiver is not None
        if self.receiver.hub_ids == {hub_id}:
            return
        for gone in self.receiver.hub_ids - {hub_id}:  # a community entry made afresh has a new id
            self.receiver.remove_hub(gone)
        self.receiver.add_hub(hub_id, Secret.from_file(self.demo_dir / "uplink-secret"))
        self._write_hubs_file(hub_id)

    async def _point_uplink(self, session: aiohttp.ClientSession, token: str) -> None:
        """Set the community's uplink options through the options flow, as a manager would in the UI."""
        secret = (self.demo_dir / "uplink-secret").read_text().strip()
        if self.mqtt is None:
            assert self.receiver is not None
            await ha_setup.set_uplink(session, self.base, token, COMMUNITY_TITLE, self.receiver.url, secret)
        else:
            cert, key = await asyncio.to_thread(self.mqtt.hub_files, await self._hub_id(session, token))
            await ha_setup.set_uplink_mqtt(
                session, self.base, token, COMMUNITY_TITLE, url=self.mqtt.url, secret=secret,
                topic_prefix=TOPIC_PREFIX, ca_file=self.mqtt.ca_file, client_cert=cert, client_key=key)
        self.uplink_file.write_text(self.uplink + "\n")

    def _recorded_uplink(self) -> str | None:
        """The county this demo folder's community sends to, if it was set up already."""
        if self.uplink_file.exists():
            return self.uplink_file.read_text().strip()
        # Set up before the demo recorded it: only the JSON receiver existed then.
        return "json" if (self.demo_dir / "county-receiver.db").exists() else None

    async def _bring_up(self, hass: asyncio.subprocess.Process) -> str | None:
        """Wait for Home Assistant, onboard it, add the controllers; returns a freshly made password."""
        async with aiohttp.ClientSession() as session:
            await ha_setup.wait_until_up(session, self.base, self.startup_timeout, lambda: hass.returncode is None)
            token, fresh_password = await self._set_up_home_assistant(session)
            await ha_setup.confirm_http_config(session, self.base, token)
            if fresh_password is not None:
                await ha_setup.remove_entries(session, self.base, token, ONBOARDING_EXTRAS)
            added = await self._add_devices(session, token)
            await ha_setup.name_places(session, self.base, token, DOMAIN, self._place_names())
            await self._bind_hub(session, token)
            if added or not self.uplink_file.exists():
                await self._point_uplink(session, token)
            if added:
                await add_demo_residents(session, self.base, token, self.sims, self.devices.camera)
            if added:  # a new community entry: its lanes are new too
                self.car_park.reset()
            if added or not self.car_park.load():
                await self.car_park.set_up(session, token, COMMUNITY_TITLE, self.sims)
            self.car_park.token = token
        return fresh_password

    async def _start_frigate_broker(self) -> None:
        """The Frigate lane's Mosquitto, with the users kept in the car park's file; left out if it cannot start."""
        self.car_park.load_credentials()
        if self.frigate is None:
            return
        try:
            await self.frigate.start(self.car_park.frigate_passwords())
        except (RuntimeError, OSError) as err:
            console(f"The Frigate lane is left out: {err}")
            self.frigate = self.car_park.frigate = None
            self.car_park.no_frigate_because = f"its Mosquitto did not start ({err})"

    async def main(self) -> int:
        """Bring the community up, serve until stopped, shut down in order."""
        logging.getLogger(PYMODBUS_LOGGER).setLevel(logging.ERROR)
        stop = asyncio.Event()
        install_signal_handlers(stop)
        recorded = self._recorded_uplink()
        if recorded is not None and recorded != self.uplink:
            console(f"{self.demo_dir} was set up with the {recorded} uplink: that county holds what the hub sent "
                    f"so far, and a county stores an event only after its predecessor, so the {self.uplink} one "
                    f"would hold back all that follows. Use another folder (--demo-dir; make run "
                    f"UPLINK={self.uplink} DEMO_DIR=.demo-{self.uplink}) or delete {self.demo_dir}.")
            return 2
        if self.mqtt is not None:
            self._make_uplink_secret()
            try:
                await self.mqtt.start_broker()
            except MosquittoMissingError as err:
                console(f"Cannot run the MQTT county: {err}.")
                return 1
            except RuntimeError as err:  # it exited or did not listen: its log's tail says why
                console(f"Cannot start Mosquitto on 127.0.0.1:{self.mqtt.broker_port}: {err}")
                await self.mqtt.stop()
                return 1
        self._write_configuration()
        try:
            await self.devices.start()
            if self.mqtt is None:
                await self._start_receiver()
        except OSError as err:
            console(f"Cannot start the simulated controllers: {err}. Is another demo running? "
                    "Use --modbus-port to pick other ports.")
            if self.mqtt is not None:
                await self.mqtt.stop()
            return 1
        except InvalidInputError as err:
            console(f"Cannot start the county receiver: {err}. Delete {self.hubs_file} to start it afresh.")
            await self.devices.stop()
            return 1
        await self._start_frigate_broker()
        simulator_console = SimulatorConsole(self.sims, self.devices.camera, self.car_park)
        try:
            console(f"Starting Home Assistant on {self.base} (log: {self.demo_dir / 'home-assistant.log'})...")
            self.hass = await self._start_hass()
            hass = self.hass
            fresh_password = await _unless_stopped(stop, self._bring_up(hass))
            self._banner(fresh_password)
            simulator_console.start()
            await wait_for_stop(stop, hass)
            if hass.returncode is not None and not stop.is_set():
                console(f"Home Assistant exited with code {hass.returncode}: see {self.demo_dir}/home-assistant.log")
                return 1
            return 0
        except ha_setup.HomeAssistantSetupError as err:
            console(f"Set-up failed: {err}")
            return 1
        except _StoppedError:
            return 0
        finally:
            console("Stopping...")
            await simulator_console.stop()
            await self._stop_hass()
            await self.devices.stop()
            if self.frigate is not None:
                await self.frigate.stop()
            if self.receiver is not None:
                await self.receiver.stop()
            if self.mqtt is not None:
                await self.mqtt.stop()
            console("Stopped.")
