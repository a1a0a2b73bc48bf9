"""Each ANPR wire format parsed into PlateRead records: realistic payloads written out here (not produced by the
simulator, so a shared mistake cannot hide), with fields missing and extra, and garbage."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from PIL import Image

from devices.anpr import AnprFormatError, BarrierReply, PlateColor
from devices.anpr.dahua import parse_dahua_keepalive, parse_dahua_tollgate
from devices.anpr.frigate import parse_frigate
from devices.anpr.hikvision import parse_hikvision, split_multipart
from devices.anpr.vzenith import SerialData, parse_vzenith, vzenith_reply

CST = timezone(timedelta(hours=8))
RECEIVED = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def _jpeg(color: tuple[int, int, int] = (20, 60, 170)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 20), color).save(out, format="JPEG")
    return out.getvalue()


PLATE_JPEG, SCENE_JPEG = _jpeg(), _jpeg((120, 120, 120))

HIK_XML = """<?xml version="1.0" encoding="UTF-8"?>
<EventNotificationAlert version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">
<ipAddress>192.168.1.64</ipAddress>
<portNo>80</portNo>
<protocol>HTTP</protocol>
<macAddress>44:19:b6:6d:24:85</macAddress>
<channelID>1</channelID>
<dateTime>2026-12-02T10:15:30+08:00</dateTime>
<activePostCount>1</activePostCount>
<eventType>ANPR</eventType>
<eventState>active</eventState>
<eventDescription>ANPR</eventDescription>
<channelName>Camera 01</channelName>
<ANPR>
<country>CN</country>
<licensePlate>{plate}</licensePlate>
<line>1</line>
<direction>{direction}</direction>
<confidenceLevel>97</confidenceLevel>
<plateType>92TypeCivil</plateType>
<plateColor>{color}</plateColor>
<licenseBright>0</licenseBright>
<vehicleType>vehicle</vehicleType>
<pictureInfoList><pictureInfo><fileName>licensePlatePicture.jpg</fileName><type>licensePlatePicture</type>
</pictureInfo></pictureInfoList>
<somethingNewInFirmwareX>1</somethingNewInFirmwareX>
</ANPR>
<UUID>5f0e4a9c-3a4e-4b8b-9f61-2c3c1f3a9b10</UUID>
<picNum>2</picNum>
<isDataRetransmission>{resend}</isDataRetransmission>
<VehicleInfo><index>1</index><color>white</color></VehicleInfo>
</EventNotificationAlert>"""


def _hik_xml(plate: str = "皖A7XG66", color: str = "blue", direction: str = "forward",
             resend: str = "false") -> bytes:
    return HIK_XML.format(plate=plate, color=color, direction=direction, resend=resend).encode()


def _multipart(parts: list[tuple[str, str, bytes]], boundary: str = "MIME_boundary", newline: bytes = b"\r\n") -> bytes:
    out = b""
    for name, media, data in parts:
        out += (b"--" + boundary.encode() + newline + f'Content-Disposition: form-data; name="{name}"'.encode()
                + newline + f"Content-Type: {media}".encode() + newline + newline + data + newline)
    return out + b"--" + boundary.encode() + b"--" + newline


# -- Hikvision -----------------------------------------------------------------------------------------------------


def test_hikvision_multipart_xml_with_images() -> None:
    body = _multipart([("anpr.xml", "application/xml", _hik_xml()),
                       ("licensePlatePicture.jpg", "image/jpeg", PLATE_JPEG),
                       ("detectionPicture.jpg", "image/jpeg", SCENE_JPEG)])
    [read] = parse_hikvision(body, 'multipart/form-data; boundary="MIME_boundary"', received_at=RECEIVED)
    assert read.format == "hikvision"
    assert read.camera_id == "44:19:b6:6d:24:85"
    assert read.record_id == "5f0e4a9c-3a4e-4b8b-9f61-2c3c1f3a9b10"
    assert (read.plate, read.plate_color) == ("皖A7XG66", PlateColor.BLUE)
    assert read.seen_at == datetime(2026, 12, 2, 10, 15, 30, tzinfo=CST)
    assert read.confidence == pytest.approx(0.97)
    assert (read.travel, read.direction, read.channel, read.resend) == ("approaching", None, "1", False)
    assert (read.plate_type, read.vehicle_type, read.vehicle_color) == ("92TypeCivil", "vehicle", "white")
    assert [(i.kind, i.data) for i in read.images] == [("plate", PLATE_JPEG), ("scene", SCENE_JPEG)]


def test_hikvision_colour_prefix_retransmission_and_no_namespace() -> None:
    xml = _hik_xml(plate="黄皖A7XG66", color="unknown", direction="reverse", resend="true").replace(
        b' xmlns="http://www.hikvision.com/ver20/XMLSchema"', b"")
    [read] = parse_hikvision(xml, "application/xml")
    assert (read.plate, read.plate_color, read.resend, read.travel) == ("皖A7XG66", PlateColor.YELLOW, True,
                                                                        "departing")
    assert read.images == ()


def test_hikvision_lf_only_multipart_without_closing_delimiter() -> None:
    body = _multipart([("anpr.xml", "text/xml", _hik_xml())], boundary="b0undary", newline=b"\n")
    body = body.rsplit(b"--b0undary--", 1)[0]
    [read] = parse_hikvision(body, "multipart/form-data; boundary=b0undary")
    assert read.plate == "皖A7XG66"


def test_hikvision_json_variant() -> None:
    alert = {"EventNotificationAlert": {
        "ipAddress": "192.168.1.64", "macAddress": "44:19:b6:6d:24:85", "channelID": 2,
        "dateTime": "2026-12-02T10:15:30+08:00", "activePostCount": 1, "eventType": "ANPR",
        "UUID": "abc-123", "isDataRetransmission": True, "newField": {"x": 1},
        "ANPR": {"licensePlate": "绿粤BD12345", "plateColor": "green", "confidenceLevel": "88",
                 "direction": "forward", "vehicleType": "vehicle"}}}
    body = _multipart([("anpr.json", "application/json", json.dumps(alert, ensure_ascii=False).encode()),
                       ("licensePlatePicture.jpg", "image/jpeg", PLATE_JPEG)])
    [read] = parse_hikvision(body, "multipart/form-data; boundary=MIME_boundary")
    assert read.format == "hikvision-json"
    assert (read.plate, read.plate_color, read.record_id, read.resend, read.channel) == (
        "粤BD12345", PlateColor.GREEN, "abc-123", True, "2")
    assert [i.kind for i in read.images] == ["plate"]
    [bare] = parse_hikvision(json.dumps(alert["EventNotificationAlert"]).encode(), "application/json")
    assert bare.plate == "粤BD12345"


def test_hikvision_heartbeat_and_other_events_are_no_reads() -> None:
    heartbeat = (b'<?xml version="1.0" encoding="UTF-8"?><EventNotificationAlert version="2.0" '
                 b'xmlns="http://www.hikvision.com/ver20/XMLSchema"><ipAddress>192.168.1.64</ipAddress>'
                 b"<dateTime>2026-12-02T10:15:30+08:00</dateTime><activePostCount>0</activePostCount>"
                 b"<eventType>videoloss</eventType><eventState>inactive</eventState></EventNotificationAlert>")
    assert parse_hikvision(heartbeat, "application/xml") == []
    motion = _hik_xml().replace(b"<eventType>ANPR</eventType>", b"<eventType>VMD</eventType>")
    assert parse_hikvision(motion, "text/xml") == []


def test_hikvision_missing_fields() -> None:
    """No UUID, no time, no colour, no MAC: a stable fallback id, the receive time, OTHER, the configured id."""
    xml = (b"<EventNotificationAlert><eventType>ANPR</eventType><ANPR><licensePlate>\xe7\x9a\x96A7XG66"
           b"</licensePlate></ANPR></EventNotificationAlert>")
    [read] = parse_hikvision(xml, "application/xml", camera_id="gate-1-in", received_at=RECEIVED)
    [again] = parse_hikvision(xml, "application/xml", camera_id="gate-1-in", received_at=RECEIVED)
    assert (read.camera_id, read.seen_at, read.plate_color, read.confidence) == (
        "gate-1-in", RECEIVED, PlateColor.OTHER, None)
    assert read.record_id.startswith("h-") and read.record_id == again.record_id
    with pytest.raises(AnprFormatError, match="which camera"):
        parse_hikvision(xml, "application/xml")


def test_hikvision_no_plate() -> None:
    [read] = parse_hikvision(_hik_xml(plate="无车牌"), "application/xml")
    assert read.plate == ""


@pytest.mark.parametrize(("body", "content_type", "message"), [
    (b"<EventNotificationAlert><eventType>ANPR", "application/xml", "does not parse"),
    (b"<foo/>", "application/xml", "expected an EventNotificationAlert"),
    (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><EventNotificationAlert>&lol;'
     b"</EventNotificationAlert>", "application/xml", "DOCTYPE"),
    (b"{not json", "application/json", "JSON does not parse"),
    (b"[1, 2]", "application/json", "not an object"),
    (b'{"foo": 1}', "application/json", "no eventType"),
    (b"\x00\x01binary", "application/octet-stream", "unexpected Content-Type"),
    (b"--x\r\n\r\n", "multipart/form-data", "without a boundary"),
    (b"no parts here", "multipart/form-data; boundary=zz", "no part"),
])
def test_hikvision_garbage(body: bytes, content_type: str, message: str) -> None:
    with pytest.raises(AnprFormatError, match=message):
        parse_hikvision(body, content_type)


def test_multipart_part_limit() -> None:
    body = _multipart([(f"p{i}", "image/jpeg", PLATE_JPEG) for i in range(20)])
    with pytest.raises(AnprFormatError, match="more than 16 parts"):
        split_multipart(body, "multipart/form-data; boundary=MIME_boundary")


# -- Dahua ---------------------------------------------------------------------------------------------------------


def _dahua(**snap: object) -> dict[str, object]:
    return {"Picture": {
        "SnapInfo": {"DeviceID": "6G0ABCD123456", "AccurateTime": "2026-12-02 10:15:30.250",
                     "SnapTime": "2026-12-02 10:15:30", "Direction": "Approach", "LaneNo": 2, "Speed": 5, **snap},
        "Plate": {"PlateNumber": "京B12345", "PlateColor": "Yellow", "PlateType": "Normal", "Confidence": 91,
                  "BoundingBox": [1, 2, 3, 4]},
        "Vehicle": {"VehicleType": "Motor", "VehicleColor": "Black", "VehicleSign": "Unknown"},
        "NormalPic": {"PicName": "n.jpg", "Content": base64.b64encode(SCENE_JPEG).decode()},
        "CutoutPic": {"PicName": "c.jpg", "Content": base64.b64encode(PLATE_JPEG).decode()},
        "Extra": {"Anything": True},
    }}


def test_dahua_tollgate() -> None:
    [read] = parse_dahua_tollgate(json.dumps(_dahua()).encode(), local_tz=CST)
    assert (read.format, read.camera_id, read.plate, read.plate_color) == (
        "dahua", "6G0ABCD123456", "京B12345", PlateColor.YELLOW)
    assert read.seen_at == datetime(2026, 12, 2, 10, 15, 30, 250000, tzinfo=CST)
    assert (read.confidence, read.travel, read.channel) == (pytest.approx(0.91), "approaching", "2")
    assert (read.vehicle_type, read.vehicle_color, read.plate_type) == ("Motor", "Black", "Normal")
    assert [(i.kind, i.data) for i in read.images] == [("plate", PLATE_JPEG), ("scene", SCENE_JPEG)]
    # No record id in the format: a hash of camera, time and plate, the same for the same pass.
    [again] = parse_dahua_tollgate(_dahua(), local_tz=CST)
    assert read.record_id.startswith("h-") and read.record_id == again.record_id
    [other] = parse_dahua_tollgate(_dahua(AccurateTime="2026-12-02 10:15:31.000"), local_tz=CST)
    assert other.record_id != read.record_id


def test_dahua_record_id_when_present_and_bad_pictures_dropped() -> None:
    payload = _dahua(RecordID=4711)
    payload["Picture"]["NormalPic"]["Content"] = "!!!not base64!!!"  # type: ignore[index]
    payload["Picture"]["CutoutPic"]["Content"] = base64.b64encode(b"GIF89a....").decode()  # type: ignore[index]
    [read] = parse_dahua_tollgate(payload)
    assert read.record_id == "4711" and read.images == ()


def test_dahua_missing_fields() -> None:
    [read] = parse_dahua_tollgate(b'{"Picture": {"Plate": {"PlateNumber": "\\u7696A7XG66"}}}', camera_id="dahua-1",
                                  received_at=RECEIVED)
    assert (read.camera_id, read.plate, read.plate_color, read.seen_at) == (
        "dahua-1", "皖A7XG66", PlateColor.OTHER, RECEIVED)


@pytest.mark.parametrize(("body", "message"), [
    (b"nope", "does not parse"), (b"[]", "not a JSON object"), (b'{"Foo": {}}', "without a Picture"),
    (b'{"Picture": {"Plate": "x"}}', "must be objects"),
])
def test_dahua_garbage(body: bytes, message: str) -> None:
    with pytest.raises(AnprFormatError, match=message):
        parse_dahua_tollgate(body)


def test_dahua_keepalive() -> None:
    assert parse_dahua_keepalive(b'{"DeviceID": "6G0ABCD123456"}').camera_id == "6G0ABCD123456"
    assert parse_dahua_keepalive(b"", camera_id="dahua-1").camera_id == "dahua-1"
    with pytest.raises(AnprFormatError):
        parse_dahua_keepalive(b"<xml/>")


# -- Vzenith -------------------------------------------------------------------------------------------------------


def _vzenith(**result: object) -> dict[str, object]:
    return {"AlarmInfoPlate": {"channel": 0, "deviceName": "IVS", "ipaddr": "192.168.1.100",
                               "serialno": "e4d8c2b1-5f6a7b8c", "result": {"PlateResult": {
                                   "bright": 0, "carBright": 0, "carColor": 0, "colorType": 5, "colorValue": 0,
                                   "confidence": 96, "direction": 4, "license": "苏AD12345", "plateid": 1207,
                                   "timeStamp": {"Timeval": {"sec": 1764641730, "usec": 500000}},
                                   "timeUsed": 40, "triggerType": 8, "type": 1, "isoffline": 0,
                                   "imageFile": base64.b64encode(SCENE_JPEG).decode(),
                                   "imageFragmentFile": base64.b64encode(PLATE_JPEG).decode(), **result}}}}


def test_vzenith_plate_result() -> None:
    [read] = parse_vzenith(json.dumps(_vzenith(), ensure_ascii=False).encode())
    assert (read.format, read.camera_id, read.record_id, read.plate, read.plate_color) == (
        "vzenith", "e4d8c2b1-5f6a7b8c", "1207", "苏AD12345", PlateColor.GREEN)
    assert read.seen_at == datetime.fromtimestamp(1764641730.5, UTC)
    assert (read.resend, read.confidence, read.travel, read.channel) == (False, pytest.approx(0.96), "approaching",
                                                                       "0")
    assert [i.kind for i in read.images] == ["plate", "scene"]
    [offline] = parse_vzenith(_vzenith(isoffline=1))
    assert offline.resend


def test_vzenith_heartbeat_missing_and_garbage() -> None:
    assert parse_vzenith(b'{"heartbeat": {"serialno": "x"}}') == []
    [read] = parse_vzenith({"AlarmInfoPlate": {"serialno": "s1", "result": {"PlateResult": {"license": "皖A7XG66"}}}},
                           received_at=RECEIVED)
    assert (read.seen_at, read.plate_color, read.record_id[:2]) == (RECEIVED, PlateColor.OTHER, "h-")
    for bad, message in ((b"{", "does not parse"), (b"1", "not a JSON object"),
                         (b'{"AlarmInfoPlate": {"serialno": "s"}}', "without result.PlateResult")):
        with pytest.raises(AnprFormatError, match=message):
            parse_vzenith(bad)
    with pytest.raises(AnprFormatError, match="which camera"):
        parse_vzenith({"AlarmInfoPlate": {"result": {"PlateResult": {"license": "皖A7XG66"}}}})


def test_vzenith_reply_opens_only_when_told() -> None:
    assert vzenith_reply(BarrierReply(open=True)) == {"Response_AlarmInfoPlate": {"info": "ok"}}
    refused = vzenith_reply(BarrierReply(open=False, display="车未入场"), relay=0)
    assert refused == {"Response_AlarmInfoPlate": {"info": "no", "content": "车未入场"}}
    led = vzenith_reply(BarrierReply(open=True, display="月租车 剩余30天"), relay=1,
                        serial=(SerialData(channel=0, data=b"\x00\x64\xff"),))
    assert led["Response_AlarmInfoPlate"] == {
        "info": "ok", "content": "月租车 剩余30天", "channelNum": 1,
        "serialData": [{"serialChannel": 0, "data": "AGT/", "dataLen": 3}]}


# -- Frigate -------------------------------------------------------------------------------------------------------


def test_frigate_lpr() -> None:
    message = {"type": "lpr", "id": "1764641730.123456-abc123", "camera": "driveway", "plate": "ab 123 cd",
               "name": "Alice's car", "score": 0.87, "timestamp": 1764641730.12, "extra": [1]}
    [read] = parse_frigate(json.dumps(message).encode())
    assert (read.format, read.camera_id, read.record_id, read.plate, read.plate_color) == (
        "frigate", "driveway", "1764641730.123456-abc123", "AB123CD", PlateColor.OTHER)
    assert read.confidence == pytest.approx(0.87)
    assert read.seen_at == datetime.fromtimestamp(1764641730.12, UTC)


def test_frigate_other_updates_and_garbage() -> None:
    assert parse_frigate(b'{"type": "description", "id": "x", "description": "a red car"}') == []
    assert parse_frigate(b'{"type": "face", "id": "x", "name": "bob"}') == []
    with pytest.raises(AnprFormatError, match="without the tracked object's id"):
        parse_frigate(b'{"type": "lpr", "camera": "c", "plate": "X"}')
    with pytest.raises(AnprFormatError, match="not JSON"):
        parse_frigate(b"\xff\xfe")
    with pytest.raises(AnprFormatError, match="which camera"):
        parse_frigate(b'{"type": "lpr", "id": "1", "plate": "X"}')


@pytest.mark.parametrize(("accurate", "expected"), [
    ("2026-12-02 10:15:30.250", datetime(2026, 12, 2, 10, 15, 30, 250000, tzinfo=CST)),
    ("2026-12-02T10:15:30+08:00", datetime(2026, 12, 2, 10, 15, 30, tzinfo=CST)),
    ("2026-12-02T02:15:30Z", datetime(2026, 12, 2, 2, 15, 30, tzinfo=UTC)),
    ("20261202101530", datetime(2026, 12, 2, 10, 15, 30, tzinfo=CST)),  # GA/T 1400's form, not ISO basic
    ("20261202101530250", datetime(2026, 12, 2, 10, 15, 30, 250000, tzinfo=CST)),
    ("1764641730", datetime.fromtimestamp(1764641730, UTC)),  # a Unix time, not the year 1764
    ("1764641730250", datetime.fromtimestamp(1764641730.25, UTC)),
    ("2026/12/02 10:15:30", datetime(2026, 12, 2, 10, 15, 30, tzinfo=CST)),
    ("20261302101530", RECEIVED), ("yesterday", RECEIVED), ("", RECEIVED),  # unreadable: the receive time
])
def test_camera_time_forms(accurate: str, expected: datetime) -> None:
    [read] = parse_dahua_tollgate({"Picture": {"SnapInfo": {"DeviceID": "d", "AccurateTime": accurate},
                                               "Plate": {"PlateNumber": "皖A7XG66"}}},
                                  local_tz=CST, received_at=RECEIVED)
    assert read.seen_at == expected


def test_hikvision_picture_before_the_alert() -> None:
    body = _multipart([("licensePlatePicture.jpg", "image/jpeg", PLATE_JPEG),
                       ("anpr.xml", "application/xml", _hik_xml())])
    [read] = parse_hikvision(body, "multipart/form-data; boundary=MIME_boundary")
    assert read.plate == "皖A7XG66" and [i.kind for i in read.images] == ["plate"]
    only_pictures = _multipart([("licensePlatePicture.jpg", "image/jpeg", PLATE_JPEG)])
    with pytest.raises(AnprFormatError, match="no alert part"):
        parse_hikvision(only_pictures, "multipart/form-data; boundary=MIME_boundary")
