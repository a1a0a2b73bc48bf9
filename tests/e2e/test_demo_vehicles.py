"""End to end: the demo's car park (`make run`). The console prints each simulated camera's push URL and the
resident's car; `car entry <that plate>` makes the entry camera push it to Home Assistant, which opens the entry
barrier (relay 1 of the second simulated controller, read back by an independent Modbus client) and fires the
lane's event entity without the plate in its state; an unknown plate at the exit lane is refused and its barrier
stays down."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from demo_process import read_until, running_demo

from devices.door_controller import DoorController

pytestmark = pytest.mark.usefixtures("socket_enabled")
UNKNOWN_PLATE = "沪D97531"
BLACK_PLATE, VISITOR_PLATE = "沪C44444", "沪B67890"  # the demo's blacklisted plate and visitor invitation


async def _states(session: aiohttp.ClientSession, base: str, token: str) -> list[dict[str, Any]]:
    async with session.get(f"{base}/api/states", headers={"Authorization": f"Bearer {token}"}) as resp:
        states: list[dict[str, Any]] = await resp.json()
    return states


async def _lane_event(session: aiohttp.ClientSession, base: str, token: str, lane_no: int,
                      event_type: str) -> dict[str, Any]:
    """The main entrance's lane's vehicle event entity once it fired ``event_type``."""
    state: dict[str, Any] = {}
    for _ in range(200):
        lanes = [s for s in await _states(session, base, token) if s["entity_id"].startswith("event.")
                 and f"_main_lane_{lane_no}_" in s["entity_id"]]
        assert len(lanes) == 1, [s["entity_id"] for s in lanes]
        state = lanes[0]
        if state["attributes"].get("event_type") == event_type:
            return state
        await asyncio.sleep(0.05)
    raise AssertionError(f"lane {lane_no} never fired {event_type}: {state}")


async def _barriers(modbus: int) -> tuple[int, int]:
    """Releases of the second controller's two relays (the entry and exit barriers), over Modbus."""
    outside = DoorController("127.0.0.1", modbus + 1)
    try:
        doors = await outside.read_doors()
    finally:
        await outside.close()
    return doors[0].releases, doors[1].releases


async def test_the_demo_car_park_lets_the_residents_car_in_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    async with running_demo(tmp_path / "demo") as demo:
        output = "".join(demo.output)
        pushes = dict(re.findall(r"ANPR push \((\w+)\): (\S+)", output))
        assert {"hikvision", "vzenith", "dahua"} <= set(pushes) <= {"hikvision", "vzenith", "dahua", "frigate"}, output
        for fmt in ("hikvision", "vzenith"):
            assert pushes[fmt].startswith(demo.base + "/api/smart_community/anpr/"), pushes[fmt]
        assert pushes["dahua"].endswith(f":{demo.modbus + 53}/NotificationInfo/TollgateInfo"), pushes["dahua"]
        resident = re.search(r"Resident car: (\S+)", output)
        assert resident, output
        plate = resident.group(1)
        assert (tmp_path / "demo" / "car-park.json").stat().st_mode & 0o777 == 0o600
        assert await _barriers(demo.modbus) == (0, 0)
        assert demo.process.stdout is not None

        await demo.console(f"car entry {plate}")
        await read_until(demo.process.stdout, f"entry: {plate} granted", 60, demo.output)
        async with aiohttp.ClientSession() as session:
            entry = await _lane_event(session, demo.base, demo.token, 1, "granted")
            assert entry["attributes"]["reason"] == "resident_vehicle"
            assert entry["attributes"]["opened"] is True
            assert plate not in json.dumps(entry, ensure_ascii=False)
            assert await _barriers(demo.modbus) == (1, 0)

            await demo.console(f"car exit {UNKNOWN_PLATE}")
            await read_until(demo.process.stdout, f"exit: {UNKNOWN_PLATE} denied (exit_without_entry)", 60,
                             demo.output)
            exit_lane = await _lane_event(session, demo.base, demo.token, 2, "denied")
            assert exit_lane["attributes"]["opened"] is False
            assert UNKNOWN_PLATE not in json.dumps(exit_lane, ensure_ascii=False)
            assert await _barriers(demo.modbus) == (1, 0)
            # No plate anywhere in Home Assistant's states.
            text = json.dumps(await _states(session, demo.base, demo.token), ensure_ascii=False)
            assert plate not in text and UNKNOWN_PLATE not in text

            # What README's demo section says the other cars show.
            for line, answer in ((f"car exit {plate}", f"exit: {plate} granted (resident_vehicle)"),
                                 (f"car entry {BLACK_PLATE}", f"entry: {BLACK_PLATE} denied (blacklisted)"),
                                 (f"car entry {UNKNOWN_PLATE}", f"entry: {UNKNOWN_PLATE} denied (temporary_refused)"),
                                 (f"car entry {VISITOR_PLATE}", f"entry: {VISITOR_PLATE} granted (visitor_in_window)")):
                await demo.console(line)
                await read_until(demo.process.stdout, answer, 60, demo.output)
            assert await _barriers(demo.modbus) == (2, 1)
