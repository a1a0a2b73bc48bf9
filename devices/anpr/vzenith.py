"""Vzenith (臻识) and rebadged cameras: the ``AlarmInfoPlate`` JSON they POST, and the reply that drives them.

The reply is the command: ``{"Response_AlarmInfoPlate": {"info": "ok"}}`` opens the camera's relay (the barrier).
Any other ``info`` leaves it shut. ``content`` is shown on models with a display, and ``serialData`` carries raw
bytes to the camera's RS-485 port (LED screens and voice boards attached there speak their own vendor protocol;
the hub passes them through, base64 as the camera wants). The camera has no authentication: the receiver accepts
it only from the addresses the operator lists.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from . import _common as c
from .errors import AnprFormatError
from .models import PlateRead
from .plates import color_from_code
from .replies import BarrierReply

__all__ = ["SerialData", "parse_vzenith", "vzenith_reply"]

FORMAT = "vzenith"
# ``direction`` is where the plate moved in the picture: 3 up (away from the camera), 4 down (towards it). Not
# checked against a real camera.
_TRAVEL = {"3": "departing", "4": "approaching"}


@dataclass(frozen=True, slots=True)
class SerialData:
    """Bytes for the camera to write to one of its serial ports (an LED screen or voice board's own protocol)."""

    channel: int
    data: bytes


def parse_vzenith(body: bytes | dict[str, Any], *, local_tz: tzinfo = UTC,
                  received_at: datetime | None = None) -> list[PlateRead]:
    """The read in one ``AlarmInfoPlate`` push; a heartbeat or another message (no ``AlarmInfoPlate``) gives none."""
    if isinstance(body, dict):
        obj: Any = body
    else:
        try:
            obj = json.loads(body)
        except (UnicodeDecodeError, ValueError) as err:
            raise AnprFormatError(f"vzenith: the JSON does not parse ({err})") from None
    if not isinstance(obj, dict):
        raise AnprFormatError("vzenith: the push is not a JSON object")
    alarm = c.get_path(obj, "AlarmInfoPlate")
    if alarm is None:
        return []  # heartbeat / comet poll: nothing to read
    result = c.get_path(alarm, "result", "PlateResult")
    if not isinstance(alarm, dict) or not isinstance(result, dict):
        raise AnprFormatError("vzenith: AlarmInfoPlate without result.PlateResult")
    timeval = c.get_path(result, "timeStamp", "Timeval")
    seen_at = None
    if isinstance(timeval, dict):
        seen_at = c.epoch_time(c.get_path(timeval, "sec"), c.get_path(timeval, "usec"))
    seen_at = seen_at or received_at or datetime.now(UTC)
    images = tuple(image for key, kind in (("imageFragmentFile", "plate"), ("imageFile", "scene"))
                   if (image := c.b64_image(result.get(key), kind)) is not None)
    raw_direction = c.text(result.get("direction"))
    return [c.make_read(
        fmt=FORMAT,
        camera_id=c.text(alarm.get("serialno")) or "",
        record_id=c.text(result.get("plateid")),
        raw_plate=result.get("license"),
        color=color_from_code(c.text(result.get("colorType")), scheme="vzenith"),
        seen_at=seen_at,
        resend=(c.text(result.get("isoffline")) or "0") not in ("0", "false"),
        confidence=c.confidence(result.get("confidence")),
        direction=None,
        travel=_TRAVEL.get(raw_direction or ""),
        plate_type=c.text(result.get("type")),
        vehicle_type=c.text(result.get("carType")),
        vehicle_color=c.text(result.get("carColor")),
        channel=c.text(alarm.get("channel")),
        images=images,
    )]


def vzenith_reply(reply: BarrierReply, *, serial: tuple[SerialData, ...] = (), relay: int | None = None) -> dict[
        str, Any]:
    """The JSON body that answers a push. Only ``reply.open`` writes ``"info": "ok"``, the camera's command to
    open; a refusal writes ``"info": "no"``. ``relay`` picks the relay output on models with more than one."""
    body: dict[str, Any] = {"info": "ok" if reply.open else "no"}
    if reply.display is not None:
        body["content"] = reply.display
    if relay is not None and reply.open:
        body["channelNum"] = relay
    if serial:
        body["serialData"] = [{"serialChannel": item.channel, "data": base64.b64encode(item.data).decode("ascii"),
                               "dataLen": len(item.data)} for item in serial]
    return {"Response_AlarmInfoPlate": body}
