"""Whatever arrives, a parser gives reads or an AnprFormatError, never another exception (random JSON shaped
like each format with values of every type, and random bytes)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.anpr import AnprFormatError
from devices.anpr.dahua import parse_dahua_keepalive, parse_dahua_tollgate
from devices.anpr.frigate import parse_frigate
from devices.anpr.hikvision import parse_hikvision
from devices.anpr.vzenith import parse_vzenith

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63), st.floats(allow_nan=True),
                    st.text(max_size=20), st.sampled_from(["", "1764641730", "2026-12-02 10:15:30.250", "蓝皖A7XG66",
                                                           "forward", "ANPR", "lpr", "true", "1e400", "NaN"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=8)


def _shaped(keys: list[str]) -> st.SearchStrategy[Any]:
    """Objects with the format's own keys (each present or not, any value) and some others."""
    return st.fixed_dictionaries({}, optional={key: VALUES for key in keys}).flatmap(
        lambda d: st.dictionaries(st.text(max_size=6), VALUES, max_size=2).map(lambda extra: {**extra, **d}))


DAHUA = st.builds(lambda snap, plate, vehicle, pic: {"Picture": {"SnapInfo": snap, "Plate": plate,
                                                                  "Vehicle": vehicle, "NormalPic": pic}},
                  st.one_of(_shaped(["DeviceID", "AccurateTime", "SnapTime", "Direction", "RecordID", "LaneNo"]),
                            VALUES),
                  st.one_of(_shaped(["PlateNumber", "PlateColor", "PlateType", "Confidence"]), VALUES),
                  st.one_of(_shaped(["VehicleType", "VehicleColor"]), VALUES),
                  st.one_of(_shaped(["Content"]), VALUES))
VZENITH = st.builds(lambda serial, result: {"AlarmInfoPlate": {"serialno": serial, "result": {"PlateResult": result}}},
                    VALUES,
                    st.one_of(_shaped(["license", "colorType", "type", "confidence", "direction", "plateid",
                                       "isoffline", "timeStamp", "imageFile", "imageFragmentFile"]), VALUES))
FRIGATE = _shaped(["type", "id", "camera", "plate", "name", "score", "timestamp"]).map(
    lambda d: {**d, "type": "lpr"} if "id" in d else d)
HIKVISION = _shaped(["eventType", "UUID", "dateTime", "channelID", "macAddress", "isDataRetransmission",
                     "ANPR"]).map(lambda d: {**d, "eventType": "ANPR"})
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _tolerated(call: Any) -> None:
    with contextlib.suppress(AnprFormatError):
        call()


@FUZZ
@given(DAHUA)
def test_dahua(payload: dict[str, Any]) -> None:
    _tolerated(lambda: parse_dahua_tollgate(json.dumps(payload).encode(), camera_id="c"))
    _tolerated(lambda: parse_dahua_keepalive(json.dumps(payload["Picture"]).encode()))


@FUZZ
@given(VZENITH)
def test_vzenith(payload: dict[str, Any]) -> None:
    _tolerated(lambda: parse_vzenith(json.dumps(payload).encode()))


@FUZZ
@given(FRIGATE)
def test_frigate(payload: dict[str, Any]) -> None:
    _tolerated(lambda: parse_frigate(json.dumps(payload).encode()))


@FUZZ
@given(HIKVISION, st.builds(lambda anpr: anpr, _shaped(["licensePlate", "plateColor", "confidenceLevel",
                                                         "direction", "vehicleType"])))
def test_hikvision_json(payload: dict[str, Any], anpr: dict[str, Any]) -> None:
    _tolerated(lambda: parse_hikvision(json.dumps({**payload, "ANPR": anpr}).encode(), "application/json",
                                       camera_id="c"))
    _tolerated(lambda: parse_hikvision(json.dumps(payload).encode(), "application/json", camera_id="c"))


@FUZZ
@given(st.binary(max_size=300), st.sampled_from(["application/xml", "application/json", "text/plain",
                                                   "multipart/form-data; boundary=b", ""]))
def test_random_bytes(body: bytes, content_type: str) -> None:
    for call in (lambda: parse_hikvision(body, content_type, camera_id="c"), lambda: parse_vzenith(body),
                 lambda: parse_dahua_tollgate(body, camera_id="c"), lambda: parse_frigate(body)):
        _tolerated(call)
    _tolerated(lambda: parse_hikvision(b"--b\r\nContent-Type: application/xml\r\n\r\n" + body + b"\r\n--b--",
                                       "multipart/form-data; boundary=b", camera_id="c"))
