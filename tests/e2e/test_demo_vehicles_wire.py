"""The issue's check, end to end on the real demo (`make run` as a process): camera pushes written out here by
hand in each vendor's wire format as VEHICLES.md and docs/vehicles.md describe them (not produced by the project's
simulators, and with an independent HTTP Digest client, httpx's, for Dahua; Frigate's MQTT messages published with
aiomqtt), sent to the push URLs and with the credentials the demo's console printed:

- the resident's car opens the lane's barrier (each lane's relay read back over Modbus by an independent client);
- the blacklisted plate raises an alarm at every lane (the panel's alarm list over Home Assistant's websocket API,
  with the plate; no plate in any entity state) and its barrier stays down;
- a replayed backlog (stored records, each sent twice) adds each pass once and moves no barrier;
- the county's reference receiver gets every vehicle pass once, with the plate.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import aiomqtt
import httpx
import pytest
from demo_process import Demo, running_demo
from PIL import Image

from devices.door_controller import DoorController
from devkit.county.broker import mosquitto_binary

pytestmark = pytest.mark.usefixtures("socket_enabled")
RESIDENT, BLACK = "沪A12345", "沪C44444"  # README's demo section: the resident's car and the blacklisted plate
DEMO_TZ = ZoneInfo("Asia/Shanghai")  # the demo's Home Assistant time zone: Dahua's times are local, without offset


def _jpeg(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (96, 32), color).save(out, format="JPEG")
    return out.getvalue()


PLATE_JPEG, SCENE_JPEG = _jpeg((20, 60, 170)), _jpeg((90, 90, 90))


# ---- the four wire formats, written out by hand ---------------------------------------------------------------

def hikvision(plate: str, record_id: str, seen: datetime, *, retransmission: bool = False) -> tuple[bytes, str]:
    """ISAPI ANPR: multipart/form-data, the XML alert first, then the plate crop and the scene (CRLF line ends)."""
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\r\n'
        '<EventNotificationAlert version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">'
        "<ipAddress>127.0.0.1</ipAddress><portNo>80</portNo><protocol>HTTP</protocol>"
        "<macAddress>a4:14:37:15:00:01</macAddress><channelID>1</channelID>"
        f"<dateTime>{seen.astimezone(DEMO_TZ).isoformat(timespec='seconds')}</dateTime>"
        "<activePostCount>1</activePostCount><eventType>ANPR</eventType><eventState>active</eventState>"
        "<eventDescription>ANPR</eventDescription><channelName>Entry</channelName>"
        f"<ANPR><country>3</country><licensePlate>蓝{plate}</licensePlate><line>1</line>"
        "<direction>forward</direction><confidenceLevel>97</confidenceLevel><plateType>92TypeCivil</plateType>"
        "<plateColor>blue</plateColor><licenseBright>0</licenseBright><vehicleType>vehicle</vehicleType>"
        "<detectDir>8</detectDir><detectType>0</detectType><alarmDataType>0</alarmDataType></ANPR>"
        "<VehicleInfo><index>1</index><colorDepth>2</colorDepth><color>white</color><length>0</length>"
        "</VehicleInfo>"
        f"<UUID>{record_id}</UUID><isDataRetransmission>{str(retransmission).lower()}</isDataRetransmission>"
        "</EventNotificationAlert>")
    boundary = "MIME_boundary_h15_" + uuid.uuid4().hex[:8]
    parts = [(b'Content-Disposition: form-data; name="anpr.xml"; filename="anpr.xml"\r\n'
              b"Content-Type: text/xml\r\n", xml.encode())]
    for name, data in (("licensePlatePicture.jpg", PLATE_JPEG), ("detectionPicture.jpg", SCENE_JPEG)):
        parts.append((f'Content-Disposition: form-data; name="{name}"; filename="{name}"\r\n'
                      "Content-Type: image/jpeg\r\n".encode(), data))
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + head + b"\r\n" + data + b"\r\n" for head, data in parts)
    return body + b"--" + boundary.encode() + b"--\r\n", f"multipart/form-data; boundary={boundary}"


def dahua(plate: str, record_id: str, seen: datetime) -> bytes:
    """ITSAPI TollgateInfo: JSON, local time without offset, the scene picture in base64."""
    local = seen.astimezone(DEMO_TZ)
    return json.dumps({"Picture": {
        "Plate": {"PlateNumber": plate, "PlateColor": "Blue", "PlateType": "Normal", "Confidence": 95,
                  "BoundingBox": [3216, 4200, 4520, 4620]},
        "Vehicle": {"VehicleType": "Motor", "VehicleColor": "White", "VehicleSign": "Unknown"},
        "SnapInfo": {"DeviceID": "DH-H15-EAST-01", "AccurateTime": local.strftime("%Y-%m-%d %H:%M:%S.")
                     + f"{local.microsecond // 1000:03d}", "SnapTime": local.strftime("%Y-%m-%d %H:%M:%S"),
                     "Direction": "Approach", "LaneNo": 1, "RecordID": record_id, "TriggerSource": "Video"},
        "NormalPic": {"Content": base64.b64encode(SCENE_JPEG).decode(), "PicName": "scene.jpg"},
    }}, ensure_ascii=False).encode()


def vzenith(plate: str, plate_id: int, seen: datetime, *, offline: bool = False) -> bytes:
    """AlarmInfoPlate: JSON with the camera's serial number and Unix time."""
    stamp = seen.timestamp()
    return json.dumps({"AlarmInfoPlate": {
        "channel": 0, "deviceName": "IVS", "ipaddr": "127.0.0.1", "serialno": "e2c9f0a1-h15",
        "result": {"PlateResult": {
            "license": plate, "colorType": 1, "type": 1, "confidence": 96, "plateid": plate_id,
            "isoffline": int(offline), "direction": 4, "carColor": 0, "triggerType": 8,
            "timeStamp": {"Timeval": {"sec": int(stamp), "usec": int(stamp % 1 * 1e6)}},
            "location": {"RECT": {"left": 620, "top": 520, "right": 780, "bottom": 560}},
            "imageFragmentFile": base64.b64encode(PLATE_JPEG).decode(),
        }}}}, ensure_ascii=False).encode()


def frigate(plate: str, object_id: str, seen: datetime) -> bytes:
    """Frigate 0.16's ``lpr`` tracked-object update."""
    return json.dumps({"type": "lpr", "id": object_id, "camera": "east_exit", "plate": plate, "name": None,
                       "score": 0.93, "timestamp": seen.timestamp()}, ensure_ascii=False).encode()


# ---- reading what the demo shows -----------------------------------------------------------------------------

def _pushes(output: str) -> dict[str, str]:
    return {fmt: line for fmt, line in re.findall(r"ANPR push \((\w+)\): (.*)", output)}


async def _relays(modbus: int) -> tuple[int, int, int]:
    """Releases of the three barrier relays: main entry and exit (the second controller's relays 1 and 2), and the
    east entrance's (the first controller's relay 2), read by a Modbus client of their own."""
    counts = []
    for port, doors in ((modbus + 1, (0, 1)), (modbus, (1,))):
        outside = DoorController("127.0.0.1", port)
        try:
            read = await outside.read_doors()
        finally:
            await outside.close()
        counts += [read[d].releases for d in doors]
    return counts[0], counts[1], counts[2]


async def _service(session: aiohttp.ClientSession, demo: Demo, service: str, data: dict[str, Any]) -> Any:
    async with session.post(f"{demo.base}/api/services/smart_community/{service}?return_response", json=data,
                            headers={"Authorization": f"Bearer {demo.token}"}) as resp:
        assert resp.status == 200, await resp.text()
        return (await resp.json())["service_response"]


async def _passes(session: aiohttp.ClientSession, demo: Demo) -> list[dict[str, Any]]:
    return list((await _service(session, demo, "vehicle_log", {"limit": 500}))["entries"])


async def _until_passes(session: aiohttp.ClientSession, demo: Demo, n: int) -> list[dict[str, Any]]:
    for _ in range(150):
        found = await _passes(session, demo)
        if len(found) >= n:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"{n} passes never recorded: {found}")


async def _ws(session: aiohttp.ClientSession, demo: Demo, command: dict[str, Any]) -> Any:
    async with session.ws_connect(f"{demo.base}/api/websocket") as ws:
        assert (await ws.receive_json())["type"] == "auth_required"
        await ws.send_json({"type": "auth", "access_token": demo.token})
        assert (await ws.receive_json())["type"] == "auth_ok"
        await ws.send_json({"id": 1, **command})
        reply = await ws.receive_json()
    assert reply.get("success"), reply
    return reply["result"]


async def _county(session: aiohttp.ClientSession, demo: Demo, modbus: int, demo_dir: Path) -> list[dict[str, Any]]:
    token = (demo_dir / "county-read-token").read_text().strip()
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        async with session.get(f"http://127.0.0.1:{modbus + 50}/api/v1/events", params={"after": after},
                               headers={"Authorization": f"Bearer {token}"}) as resp:
            page = await resp.json()
        events += [e["event"] for e in page["events"]]
        if not page["events"]:
            return events
        after = page["next_after"]


async def test_hand_written_camera_pushes_in_every_format_against_the_demo(tmp_path: Path) -> None:
    demo_dir = tmp_path / "demo"
    async with running_demo(demo_dir) as demo:
        output = "".join(demo.output)
        pushes = _pushes(output)
        with_frigate = mosquitto_binary() is not None
        assert set(pushes) == {"hikvision", "vzenith", "dahua"} | ({"frigate"} if with_frigate else set()), output
        hik_url, vz_url = pushes["hikvision"].split()[0], pushes["vzenith"].split()[0]
        dahua_line = re.match(r"(http://\S+)/NotificationInfo/TollgateInfo .*Digest user (\S+) password (\S+)\)",
                              pushes["dahua"])
        assert dahua_line, pushes["dahua"]
        dahua_base, dahua_user, dahua_password = dahua_line.groups()
        modbus = demo.modbus
        assert await _relays(modbus) == (0, 0, 0)
        now = lambda: datetime.now(UTC)  # noqa: E731

        async with aiohttp.ClientSession() as session, httpx.AsyncClient(
                auth=httpx.DigestAuth(dahua_user, dahua_password), timeout=30) as digest:

            async def hik(plate: str, rid: str, seen: datetime, **kw: Any) -> None:
                body, ctype = hikvision(plate, rid, seen, **kw)
                async with session.post(hik_url, data=body, headers={"Content-Type": ctype}) as resp:
                    assert resp.status == 200, await resp.text()

            async def vz(plate: str, pid: int, seen: datetime, **kw: Any) -> dict[str, Any]:
                async with session.post(vz_url, data=vzenith(plate, pid, seen, **kw),
                                        headers={"Content-Type": "application/json"}) as resp:
                    assert resp.status == 200, await resp.text()
                    return dict(await resp.json(content_type=None))

            async def dh(plate: str, rid: str, seen: datetime) -> None:
                keepalive = await digest.post(f"{dahua_base}/NotificationInfo/KeepAlive", content=b"")
                assert keepalive.status_code == 200
                resp = await digest.post(f"{dahua_base}/NotificationInfo/TollgateInfo", content=dahua(plate, rid, seen),
                                         headers={"Content-Type": "application/json"})
                assert resp.status_code == 200, resp.text

            async def fg(messages: list[bytes]) -> None:
                line = re.match(r"(mqtt://\S+) topic (\S+) \(MQTT user (\S+) password (\S+)\)", pushes["frigate"])
                assert line, pushes["frigate"]
                url, topic, user, password = line.groups()
                host, port = url.removeprefix("mqtt://").rsplit(":", 1)
                async with aiomqtt.Client(host, int(port), username=user, password=password) as client:
                    for message in messages:
                        await client.publish(topic, message, qos=1)

            # 1. The resident's car: in and out at the main entrance, in and out at the east one.
            await hik(RESIDENT, str(uuid.uuid4()), now())
            assert await _relays(modbus) == (1, 0, 0)
            reply = await vz(RESIDENT, 7001, now())
            assert reply["Response_AlarmInfoPlate"]["info"] == "ok"
            assert await _relays(modbus) == (1, 1, 0)
            await dh(RESIDENT, "dh-h15-0001", now())
            assert await _relays(modbus) == (1, 1, 1)
            expected = 3
            if with_frigate:
                await fg([frigate(RESIDENT, f"{time.time():.6f}-h15res", now())])
                await _until_passes(session, demo, 4)
                for _ in range(50):
                    if (await _relays(modbus))[2] == 2:
                        break
                    await asyncio.sleep(0.1)
                assert await _relays(modbus) == (1, 1, 2)
                expected = 4
            live = await _until_passes(session, demo, expected)
            assert [(p["plate"], p["result"]) for p in live] == [(RESIDENT, "granted")] * expected, live

            # 2. The blacklisted plate, at every lane: refused, an alarm each, no barrier moves.
            relays = await _relays(modbus)
            await hik(BLACK, str(uuid.uuid4()), now())
            assert (await vz(BLACK, 7002, now()))["Response_AlarmInfoPlate"]["info"] == "no"
            await dh(BLACK, "dh-h15-0002", now())
            if with_frigate:
                await fg([frigate(BLACK, f"{time.time():.6f}-h15black", now())])
            blacklisted = len(pushes)
            passes = await _until_passes(session, demo, expected + blacklisted)
            assert [(p["plate"], p["reason"]) for p in passes[:blacklisted]] == [(BLACK, "blacklisted")] * blacklisted
            alarms: list[dict[str, Any]] = []
            for _ in range(100):
                alarms = [a for a in (await _ws(session, demo, {"type": "smart_community/alarms/list"}))["alarms"]
                          if a["alarm"] == "blacklisted_vehicle"]
                if len(alarms) == blacklisted:
                    break
                await asyncio.sleep(0.1)
            assert len(alarms) == blacklisted and {a["subject"] for a in alarms} == {BLACK}, alarms
            assert {a["name"] for a in alarms} >= {"Car park carpark, main lane 1", "Car park carpark, east lane 1"}
            async with session.get(f"{demo.base}/api/states",
                                   headers={"Authorization": f"Bearer {demo.token}"}) as resp:
                states = await resp.text()
            assert BLACK not in states and RESIDENT not in states
            open_alarms = [s for s in json.loads(states) if s["entity_id"].endswith("_open_alarms")]
            assert open_alarms and int(open_alarms[0]["state"]) >= blacklisted
            assert await _relays(modbus) == relays

            # 3. A backlog after an outage, each record sent twice: each pass once, no barrier moves.
            before = len(await _passes(session, demo))
            old = now() - timedelta(minutes=20)
            backlog_plates = []
            for rep in range(2):
                for n in range(2):
                    seen = old + timedelta(seconds=30 * n)
                    plate_hik, plate_vz, plate_dh = f"沪E1{n}H01", f"沪E1{n}V01", f"沪E1{n}D01"
                    await hik(RESIDENT if n == 0 else plate_hik, f"backlog-hik-{n}", seen, retransmission=True)
                    await vz(plate_vz, 8000 + n, seen, offline=True)
                    await dh(plate_dh, f"backlog-dh-{n}", seen)
                    if rep == 0:
                        backlog_plates += [RESIDENT if n == 0 else plate_hik, plate_vz, plate_dh]
                if with_frigate:
                    await fg([frigate(f"沪E1{n}F01", f"1764600000.{n:06d}-backlog", old + timedelta(seconds=30 * n))
                              for n in range(2)])
                    if rep == 0:
                        backlog_plates += ["沪E10F01", "沪E11F01"]
            total = before + len(backlog_plates)
            passes = await _until_passes(session, demo, total)
            await asyncio.sleep(2)  # time for a duplicate to show, if the hub were to record one
            passes = await _passes(session, demo)
            assert len(passes) == total, passes
            backfilled = [p for p in passes if p.get("backfilled")]
            assert sorted(p["plate"] for p in backfilled) == sorted(backlog_plates)
            assert await _relays(modbus) == relays  # the resident's back-filled entry opened nothing now

            # 4. The county: every pass once, with its plate.
            county: list[dict[str, Any]] = []
            for _ in range(300):
                county = [e for e in await _county(session, demo, modbus, demo_dir) if e.get("type") == "vehicle_pass"]
                if len(county) >= total:
                    break
                await asyncio.sleep(0.1)
            assert len(county) == total, county
            keys = [(e["door"], e["occurred_at"], e["plate"]) for e in county]
            assert len(set(keys)) == total  # nothing twice
            assert sorted(e["plate"] for e in county) == sorted(p["plate"] for p in passes)
            county_alarms = [e for e in await _county(session, demo, modbus, demo_dir)
                             if e.get("type") == "vehicle_alarm"]
            assert [e["plate"] for e in county_alarms] == [BLACK] * blacklisted
