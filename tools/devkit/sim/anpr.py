"""Simulated plate-recognition cameras: they push reads to the hub in each vendor's real wire format.

- ``hikvision``: ``multipart/form-data`` with the XML ``EventNotificationAlert`` (or its JSON form) and two real
  JPEGs (plate crop and scene, drawn with Pillow), to a push URL with its secret, optionally HTTP Basic;
- ``dahua``: ITSAPI ``TollgateInfo`` JSON with base64 pictures, after a ``KeepAlive``, with HTTP Digest;
- ``vzenith``: ``AlarmInfoPlate`` JSON; the reply (``info: ok`` or not) is what the camera's relay would do;
- ``frigate``: ``lpr`` messages on ``frigate/tracked_object_update`` of an MQTT broker.

A run is a single pass (one plate), or an offline backlog replay (records with their original times, flagged as
resent where the format has a flag); ``resend_rate`` sends a record again with the same record id, as a camera
does that did not get (or did not believe) the acknowledgement.

:class:`HikvisionBarrierSim` is the camera's side of the barrier: ``PUT /ISAPI/Parking/channels/<n>/barrierGate``
with HTTP Digest, recording every command (``GET /barrier/commands`` lists them).
"""

from __future__ import annotations

import base64
import io
import json
import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import aiohttp
from aiohttp import web
from PIL import Image, ImageDraw

from devices.anpr.auth import DigestOutcome, DigestVerifier
from devices.anpr.models import PlateColor
from devices.anpr.plates import PROVINCES
from devices.camera import DigestAuth

_LOGGER = logging.getLogger(__name__)

SimFormat = Literal["hikvision", "hikvision-json", "dahua", "vzenith", "frigate"]
FORMATS: tuple[str, ...] = ("hikvision", "hikvision-json", "dahua", "vzenith", "frigate")
HIK_NS = "http://www.hikvision.com/ver20/XMLSchema"
_HIK_COLOR = {PlateColor.BLUE: "blue", PlateColor.YELLOW: "yellow", PlateColor.GREEN: "green",
              PlateColor.WHITE: "white", PlateColor.BLACK: "black", PlateColor.OTHER: "other"}
_DAHUA_COLOR = {PlateColor.BLUE: "Blue", PlateColor.YELLOW: "Yellow", PlateColor.GREEN: "Green",
                PlateColor.WHITE: "White", PlateColor.BLACK: "Black", PlateColor.OTHER: "Other"}
_VZ_COLOR = {PlateColor.BLUE: 1, PlateColor.YELLOW: 2, PlateColor.WHITE: 3, PlateColor.BLACK: 4,
             PlateColor.GREEN: 5, PlateColor.OTHER: 0}
_RGB = {PlateColor.BLUE: (20, 60, 170), PlateColor.YELLOW: (230, 190, 20), PlateColor.GREEN: (80, 200, 110),
        PlateColor.WHITE: (240, 240, 240), PlateColor.BLACK: (20, 20, 20), PlateColor.OTHER: (128, 128, 128)}


@dataclass(frozen=True, slots=True)
class SimRecord:
    """One read the simulated camera sends. ``record_id`` stays the same when it is sent again."""

    record_id: str
    plate: str
    color: PlateColor
    seen_at: datetime
    resend: bool = False
    travel: str = "forward"  # Hikvision's words: forward (towards the camera) / reverse


# -- pictures ----------------------------------------------------------------------------------------------------


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    return out.getvalue()


def plate_jpeg(plate: str, color: PlateColor) -> bytes:
    """A small real JPEG of a plate crop: the plate's colour with its Latin part written on it (Pillow's default
    font has no Chinese)."""
    image = Image.new("RGB", (140, 40), _RGB[color])
    ink = (0, 0, 0) if color in (PlateColor.YELLOW, PlateColor.WHITE, PlateColor.GREEN) else (255, 255, 255)
    ImageDraw.Draw(image).text((10, 14), "".join(ch for ch in plate if ch.isascii()), fill=ink)
    return _jpeg(image)


def scene_jpeg(color: PlateColor) -> bytes:
    """A small real JPEG of the lane: road, a car body and its plate."""
    image = Image.new("RGB", (320, 180), (120, 125, 130))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 120, 320, 180], fill=(70, 70, 72))
    draw.rounded_rectangle([90, 60, 230, 150], radius=12, fill=(180, 30, 30))
    draw.rectangle([135, 125, 185, 140], fill=_RGB[color])
    return _jpeg(image)


# -- records -----------------------------------------------------------------------------------------------------


def random_plate(rng: random.Random) -> tuple[str, PlateColor]:
    """A plate of the Chinese civil shape (one in ten new-energy green with 6 characters, one in ten yellow)."""
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    body_chars = letters + "0123456789"
    kind = rng.random()
    if kind < 0.1:
        body = rng.choice("DF") + "".join(rng.choice("0123456789") for _ in range(5))
        return rng.choice(PROVINCES) + rng.choice(letters) + body, PlateColor.GREEN
    color = PlateColor.YELLOW if kind < 0.2 else PlateColor.BLUE
    return rng.choice(PROVINCES) + rng.choice(letters) + "".join(rng.choice(body_chars) for _ in range(5)), color


def make_records(fmt: str, *, plate: str | None, color: PlateColor, backlog: int, rng: random.Random,
                 now: datetime | None = None, first_id: int = 1) -> list[SimRecord]:
    """The records of one run: one read of ``plate`` now, or ``backlog`` stored reads spread over the past (30 s
    apart, oldest first, each flagged as resent)."""
    now = now or datetime.now(UTC)
    count = backlog or 1
    records = []
    for i in range(count):
        seen_at = now - timedelta(seconds=30 * (count - 1 - i)) if backlog else now
        seen_at = seen_at.replace(microsecond=(seen_at.microsecond // 1000) * 1000)  # cameras send milliseconds
        if plate is not None and not backlog:
            number, plate_color = plate, color
        else:
            number, plate_color = random_plate(rng)
        if fmt in ("hikvision", "hikvision-json"):
            record_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        elif fmt == "frigate":
            record_id = f"{seen_at.timestamp():.6f}-{rng.getrandbits(24):06x}"
        else:
            record_id = str(first_id + i)  # Vzenith's plateid counts up; Dahua sends none (the hub hashes)
        records.append(SimRecord(record_id, number, plate_color, seen_at, resend=bool(backlog),
                                 travel=rng.choice(("forward", "forward", "reverse"))))
    return records


def with_resends(records: Sequence[SimRecord], rate: float, rng: random.Random) -> Iterator[SimRecord]:
    """Each record, and right after it, with probability ``rate``, the same record again flagged as resent."""
    for record in records:
        yield record
        if rate > 0 and rng.random() < rate:
            yield replace(record, resend=True)


# -- wire formats ------------------------------------------------------------------------------------------------


def hikvision_alert(record: SimRecord, *, mac: str, channel: int = 1, as_json: bool = False) -> bytes:
    """The ``EventNotificationAlert`` of one read, as XML (with the ver20 namespace) or as JSON."""
    local = record.seen_at.astimezone()
    fields: dict[str, Any] = {
        "ipAddress": "192.168.1.64", "portNo": 80, "protocol": "HTTP", "macAddress": mac, "channelID": channel,
        "dateTime": local.isoformat(timespec="milliseconds"), "activePostCount": 2 if record.resend else 1,
        "eventType": "ANPR", "eventState": "active", "eventDescription": "ANPR",
        "channelName": "Entrance lane", "UUID": record.record_id,
        "isDataRetransmission": "true" if record.resend else "false",
    }
    anpr: dict[str, Any] = {
        "country": "CN", "licensePlate": record.plate, "line": 1, "direction": record.travel,
        "confidenceLevel": 96, "plateType": "92TypeCivil", "plateColor": _HIK_COLOR[record.color],
        "licenseBright": 0, "vehicleType": "vehicle", "originalLicensePlate": record.plate,
    }
    if as_json:
        body = {**fields, "isDataRetransmission": record.resend, "ANPR": anpr,
                "VehicleInfo": {"color": "red"}}
        return json.dumps(body, ensure_ascii=False).encode()
    inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in anpr.items())
    head = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields.items() if k not in ("UUID",
                                                                                      "isDataRetransmission"))
    tail = (f"<UUID>{escape(record.record_id)}</UUID><picNum>2</picNum>"
            f"<isDataRetransmission>{fields['isDataRetransmission']}</isDataRetransmission>"
            "<VehicleInfo><index>1</index><color>red</color></VehicleInfo>")
    return (f'<?xml version="1.0" encoding="UTF-8"?>\r\n<EventNotificationAlert version="2.0" xmlns="{HIK_NS}">'
            f"{head}<ANPR>{inner}</ANPR>{tail}</EventNotificationAlert>").encode()


def hikvision_push(record: SimRecord, *, mac: str = "44:19:b6:00:00:01", channel: int = 1,
                   as_json: bool = False) -> tuple[bytes, str]:
    """The multipart body and its Content-Type: the alert, then the plate crop and the scene JPEGs."""
    boundary = "boundary" + uuid.uuid4().hex[:16]
    alert = hikvision_alert(record, mac=mac, channel=channel, as_json=as_json)
    name, media = ("anpr.json", "application/json") if as_json else ("anpr.xml", "application/xml")
    parts = [(name, media, alert), ("licensePlatePicture.jpg", "image/jpeg", plate_jpeg(record.plate, record.color)),
             ("detectionPicture.jpg", "image/jpeg", scene_jpeg(record.color))]
    out = bytearray()
    for part_name, part_type, data in parts:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{part_name}\"; filename=\"{part_name}\"\r\n"
                f"Content-Type: {part_type}\r\nContent-Length: {len(data)}\r\n\r\n").encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def dahua_tollgate(record: SimRecord, *, device_id: str) -> bytes:
    """An ITSAPI TollgateInfo body (times in the camera's local time, no offset, as the firmware writes them)."""
    local = record.seen_at.astimezone().replace(tzinfo=None)
    accurate = local.strftime("%Y-%m-%d %H:%M:%S.") + f"{local.microsecond // 1000:03d}"
    body = {"Picture": {
        "SnapInfo": {"DeviceID": device_id, "AccurateTime": accurate, "SnapTime": local.strftime("%Y-%m-%d %H:%M:%S"),
                     "Direction": "Approach" if record.travel == "forward" else "Leave", "LaneNo": 1,
                     "TriggerSource": "Video", "Speed": 8},
        "Plate": {"PlateNumber": record.plate, "PlateColor": _DAHUA_COLOR[record.color], "PlateType": "Normal",
                  "Confidence": 93, "BoundingBox": [1020, 660, 1180, 710]},
        "Vehicle": {"VehicleType": "Motor", "VehicleColor": "Red", "VehicleSign": "Unknown"},
        "NormalPic": {"PicName": "normal.jpg", "Content": base64.b64encode(scene_jpeg(record.color)).decode()},
        "CutoutPic": {"PicName": "plate.jpg",
                      "Content": base64.b64encode(plate_jpeg(record.plate, record.color)).decode()},
    }}
    return json.dumps(body, ensure_ascii=False).encode()


def dahua_keepalive(device_id: str) -> bytes:
    """An ITSAPI KeepAlive body."""
    return json.dumps({"DeviceID": device_id, "KeepAliveTime": datetime.now().strftime("%Y-%m-%d %H:%M:%S")}).encode()


def vzenith_push(record: SimRecord, *, serial: str) -> bytes:
    """An ``AlarmInfoPlate`` body (Unix time in ``timeStamp.Timeval``, pictures base64)."""
    ts = record.seen_at.timestamp()
    scene, crop = scene_jpeg(record.color), plate_jpeg(record.plate, record.color)
    body = {"AlarmInfoPlate": {
        "channel": 0, "deviceName": "IVS", "ipaddr": "192.168.1.100", "serialno": serial,
        "result": {"PlateResult": {
            "bright": 0, "carBright": 0, "carColor": 0, "colorType": _VZ_COLOR[record.color], "colorValue": 0,
            "confidence": 95, "direction": 4 if record.travel == "forward" else 3, "license": record.plate,
            "location": {"RECT": {"left": 600, "top": 500, "right": 760, "bottom": 545}},
            "plateid": int(record.record_id), "timeUsed": 40, "triggerType": 8, "type": 1,
            "isoffline": 1 if record.resend else 0,
            "timeStamp": {"Timeval": {"sec": int(ts), "usec": round((ts % 1) * 1e6)}},
            "imageFile": base64.b64encode(scene).decode(), "imageFileLen": len(scene),
            "imageFragmentFile": base64.b64encode(crop).decode(), "imageFragmentFileLen": len(crop),
        }},
    }}
    return json.dumps(body, ensure_ascii=False).encode()


def frigate_message(record: SimRecord, *, camera: str) -> bytes:
    """A Frigate 0.16 ``tracked_object_update`` of type ``lpr``."""
    return json.dumps({"type": "lpr", "id": record.record_id, "camera": camera, "plate": record.plate,
                       "name": None, "score": 0.91, "timestamp": record.seen_at.timestamp()},
                      ensure_ascii=False).encode()


# -- sending -----------------------------------------------------------------------------------------------------


@dataclass
class RunSummary:
    """What one run sent and what came back."""

    sent: int = 0
    resends: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    opened: int = 0  # Vzenith: replies that would open the relay
    refused: int = 0  # Vzenith: replies that would not
    keepalives: int = 0
    elapsed_s: float = 0.0  # wall time of the run (a figure, never a pass/fail criterion)

    def as_dict(self) -> dict[str, Any]:
        """For the command's JSON line."""
        return {"sent": self.sent, "resends": self.resends, "statuses": {str(k): v for k, v in self.statuses.items()},
                "opened": self.opened, "refused": self.refused, "keepalives": self.keepalives,
                "elapsed_s": round(self.elapsed_s, 3),
                "per_s": round(self.sent / self.elapsed_s, 1) if self.elapsed_s > 0 else None}


class AnprCameraSim:
    """One simulated camera pushing to the hub over HTTP (or publishing to a broker, for Frigate)."""

    def __init__(self, fmt: str, url: str, *, camera_id: str = "SIMANPR0001", username: str | None = None,
                 password: str | None = None, session: aiohttp.ClientSession | None = None,
                 ca_file: str | None = None, client_cert: str | None = None, client_key: str | None = None,
                 topic_prefix: str = "frigate") -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
        self.fmt = fmt
        self.url = url
        self.camera_id = camera_id
        self._username, self._password = username, password
        self._session = session
        self._own_session = session is None
        self._digest = DigestAuth(username, password) if fmt == "dahua" and username and password else None
        self._tls = (ca_file, client_cert, client_key)
        self._topic = f"{topic_prefix.strip('/')}/tracked_object_update"
        self.summary = RunSummary()

    async def __aenter__(self) -> AnprCameraSim:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _dahua_url(self, kind: str) -> str:
        # http://hub:port -> the fixed ITSAPI paths; http://hub:port/anpr/dahua/<secret> -> under that URL.
        return f"{self.url.rstrip('/')}/NotificationInfo/{kind}"

    async def _post(self, url: str, body: bytes, content_type: str) -> tuple[int, bytes]:
        assert self._session is not None, "use the simulator as an async context manager"
        basic = (aiohttp.BasicAuth(self._username, self._password or "")
                 if self.fmt.startswith("hikvision") and self._username else None)
        path = urlsplit(url).path + (f"?{urlsplit(url).query}" if urlsplit(url).query else "")
        for attempt in range(3):
            headers = {"Content-Type": content_type}
            if self._digest is not None and self._digest.has_challenge:
                headers["Authorization"] = self._digest.authorization("POST", path)
            async with self._session.post(url, data=body, headers=headers, auth=basic) as resp:
                data = await resp.read()
                if (resp.status == 401 and self._digest is not None and attempt < 2
                        and any(self._digest.update_challenge(c) for c in resp.headers.getall("WWW-Authenticate", []))):
                    continue
                return resp.status, data
        return 401, b""

    async def keepalive(self) -> int:
        """Dahua: one KeepAlive; the HTTP status."""
        status, _ = await self._post(self._dahua_url("KeepAlive"), dahua_keepalive(self.camera_id),
                                     "application/json")
        self.summary.keepalives += 1
        return status

    async def send(self, record: SimRecord) -> int:
        """Push one record; the HTTP status (0 for MQTT, which has none)."""
        self.summary.sent += 1
        self.summary.resends += int(record.resend)
        if self.fmt in ("hikvision", "hikvision-json"):
            body, content_type = hikvision_push(record, mac=self.camera_id, as_json=self.fmt == "hikvision-json")
            status, _ = await self._post(self.url, body, content_type)
        elif self.fmt == "dahua":
            body = dahua_tollgate(record, device_id=self.camera_id)
            status, _ = await self._post(self._dahua_url("TollgateInfo"), body, "application/json")
        elif self.fmt == "vzenith":
            status, reply = await self._post(self.url, vzenith_push(record, serial=self.camera_id), "application/json")
            try:
                info = json.loads(reply).get("Response_AlarmInfoPlate", {}).get("info")
            except (ValueError, AttributeError):
                info = None
            if info == "ok":
                self.summary.opened += 1
            else:
                self.summary.refused += 1
        else:
            raise ValueError("Frigate publishes over MQTT: use publish_frigate()")
        self.summary.statuses[status] += 1
        return status

    async def run(self, records: Sequence[SimRecord], *, resend_rate: float = 0.0,
                  rng: random.Random | None = None) -> RunSummary:
        """Send every record (and the resends ``resend_rate`` asks for), one after the other."""
        rng = rng or random.Random()
        started = time.perf_counter()
        try:
            if self.fmt == "frigate":
                await self.publish_frigate(list(with_resends(records, resend_rate, rng)))
                return self.summary
            if self.fmt == "dahua":
                await self.keepalive()
            for record in with_resends(records, resend_rate, rng):
                await self.send(record)
            return self.summary
        finally:
            self.summary.elapsed_s += time.perf_counter() - started

    async def publish_frigate(self, records: Sequence[SimRecord]) -> None:
        """Publish the records as Frigate would (QoS 1)."""
        import ssl

        import aiomqtt

        split = urlsplit(self.url)
        context = None
        if split.scheme == "mqtts":
            ca_file, cert, key = self._tls
            context = ssl.create_default_context(cafile=ca_file)
            if cert and key:
                context.load_cert_chain(cert, key)
        port = split.port or (8883 if context else 1883)
        async with aiomqtt.Client(split.hostname or "127.0.0.1", port, username=self._username,
                                  password=self._password, tls_context=context) as client:
            for record in records:
                await client.publish(self._topic, frigate_message(record, camera=self.camera_id), qos=1)
                self.summary.sent += 1
                self.summary.resends += int(record.resend)
                self.summary.statuses[0] += 1


# -- the camera's barrier ----------------------------------------------------------------------------------------

_OK_STATUS = ('<?xml version="1.0" encoding="UTF-8"?><ResponseStatus version="2.0" xmlns="' + HIK_NS + '">'
              "<requestURL>{url}</requestURL><statusCode>1</statusCode><statusString>OK</statusString>"
              "<subStatusCode>ok</subStatusCode></ResponseStatus>")
_BAD_STATUS = ('<?xml version="1.0" encoding="UTF-8"?><ResponseStatus version="2.0" xmlns="' + HIK_NS + '">'
               "<requestURL>{url}</requestURL><statusCode>4</statusCode><statusString>Invalid Operation"
               "</statusString><subStatusCode>badXmlContent</subStatusCode></ResponseStatus>")


@dataclass(frozen=True, slots=True)
class BarrierCommand:
    """One barrier command the simulated camera carried out."""

    channel: int
    mode: str
    at: datetime


class HikvisionBarrierSim:
    """The ISAPI barrier endpoint of a Hikvision ANPR camera, with HTTP Digest (MD5, as the cameras offer)."""

    def __init__(self, username: str, password: str, *, host: str = "127.0.0.1", port: int = 0,
                 channels: int = 1) -> None:
        self.host, self.port = host, port
        self._digest = DigestVerifier({username: password}, realm="IP Camera", algorithms=("MD5",))
        self._channels = channels
        self.commands: list[BarrierCommand] = []
        self.refused = 0
        self._runner: web.AppRunner | None = None
        self.app = web.Application(client_max_size=64 * 1024)
        self.app.router.add_put("/ISAPI/Parking/channels/{channel}/barrierGate", self._barrier)
        self.app.router.add_get("/barrier/commands", self._list)

    @property
    def base_url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Listen (port 0: any, read back)."""
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop listening."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _barrier(self, request: web.Request) -> web.Response:
        result = self._digest.verify(request.method, request.path_qs, request.headers.get("Authorization"))
        if result.outcome is not DigestOutcome.OK:
            self.refused += int(result.outcome is not DigestOutcome.MISSING)
            response = web.Response(status=401, text="Unauthorized")
            for value in self._digest.challenges(stale=result.outcome is DigestOutcome.STALE):
                response.headers.add("WWW-Authenticate", value)
            return response
        body = (await request.read()).decode("utf-8", "replace")
        channel = int(request.match_info["channel"]) if request.match_info["channel"].isdigit() else 0
        mode = body.split("<ctrlMode>", 1)[-1].split("</ctrlMode>", 1)[0].strip() if "<ctrlMode>" in body else ""
        if not 1 <= channel <= self._channels or mode not in ("open", "close", "lock", "unlock"):
            return web.Response(status=400, text=_BAD_STATUS.format(url=request.path), content_type="application/xml")
        self.commands.append(BarrierCommand(channel, mode, datetime.now(UTC)))
        _LOGGER.info("barrier %d: %s", channel, mode)
        return web.Response(text=_OK_STATUS.format(url=request.path), content_type="application/xml")

    async def _list(self, request: web.Request) -> web.Response:
        return web.json_response([{"channel": c.channel, "mode": c.mode, "at": c.at.isoformat()}
                                  for c in self.commands])
