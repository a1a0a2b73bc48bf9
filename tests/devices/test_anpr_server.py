"""The ANPR receiver over real HTTP on loopback: each check (URL secret, address list, Basic, Digest with replay
and expiry, the size cap) refuses before the callback, and nothing refused reaches it; the Vzenith reply opens
the relay only when the hub says so."""

from __future__ import annotations

import asyncio
import base64
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest

from devices.anpr import BarrierReply, PlateColor, PlateRead
from devices.anpr.auth import AddressAllowList, DigestOutcome, DigestVerifier, check_basic, check_secret
from devices.anpr.server import AnprReceiver, PushSource
from devices.camera import DigestAuth
from devkit.sim.anpr import SimRecord, dahua_keepalive, dahua_tollgate, hikvision_push, make_records, vzenith_push

SECRET = "hik-secret-0123456789abcdef"
VZ_SECRET = "vz-secret-0123456789abcdef"
DAHUA_SECRET = "dahua-secret-0123456789abcd"


@dataclass
class Hub:
    """The callback's side: every read it got, and what it answers."""

    reads: list[PlateRead] = field(default_factory=list)
    alive: list[tuple[str, str | None]] = field(default_factory=list)
    open_plates: set[str] = field(default_factory=set)
    fail: bool = False

    async def on_read(self, read: PlateRead) -> BarrierReply:
        if self.fail:
            raise RuntimeError("database is locked")
        self.reads.append(read)
        if read.plate in self.open_plates:
            return BarrierReply(open=True, display="欢迎回家")
        return BarrierReply(open=False, display="车未入场")

    async def on_alive(self, fmt: str, camera: str | None) -> None:
        self.alive.append((fmt, camera))


def _sources(vz_addresses: tuple[str, ...] = ("127.0.0.1",)) -> list[PushSource]:
    return [
        PushSource(format="hikvision", secret=SECRET, username="hik", password="hik-pass", camera_id="lane-1"),
        PushSource(format="hikvision", secret="hik-open-secret-0123456789"),
        PushSource(format="vzenith", secret=VZ_SECRET, allowed_addresses=vz_addresses),
        PushSource(format="dahua", secret=DAHUA_SECRET, username="dahua", password="dahua-pass",
                   camera_id="dahua-lane"),
    ]


@pytest.fixture
def hub() -> Hub:
    return Hub(open_plates={"皖A7XG66"})


@pytest.fixture
async def receiver(hub: Hub, socket_enabled: None) -> AsyncIterator[AnprReceiver]:
    running = AnprReceiver(_sources(), hub.on_read, on_alive=hub.on_alive, max_body_bytes=256 * 1024)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def _record(plate: str = "皖A7XG66", record_id: str = "1001") -> SimRecord:
    [record] = make_records("vzenith", plate=plate, color=PlateColor.BLUE, backlog=0, rng=random.Random(1),
                            first_id=int(record_id))
    return record


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# -- Hikvision: URL secret and Basic ---------------------------------------------------------------------------


async def test_hikvision_push_with_secret_and_basic(receiver: AnprReceiver, hub: Hub,
                                                    session: aiohttp.ClientSession) -> None:
    body, content_type = hikvision_push(_record())
    async with session.post(f"{receiver.url}/anpr/hikvision/{SECRET}", data=body,
                            headers={"Content-Type": content_type, "Authorization": _basic("hik", "hik-pass")}) as r:
        assert r.status == 200
    [read] = hub.reads
    assert (read.format, read.plate, len(read.images)) == ("hikvision", "皖A7XG66", 2)


@pytest.mark.parametrize(("path", "auth", "status", "reason"), [
    (f"/anpr/hikvision/{SECRET[:-1]}x", _basic("hik", "hik-pass"), 403, "bad_secret"),
    (f"/anpr/vzenith/{SECRET}", _basic("hik", "hik-pass"), 403, "bad_secret"),  # another format's secret
    (f"/anpr/hikvision/{SECRET}", None, 401, "basic_bad"),
    (f"/anpr/hikvision/{SECRET}", _basic("hik", "wrong"), 401, "basic_bad"),
    (f"/anpr/hikvision/{SECRET}", _basic("other", "hik-pass"), 401, "basic_bad"),
    (f"/anpr/hikvision/{SECRET}", "Basic !!!", 401, "basic_bad"),
    ("/anpr/uniview/0123456789abcdef0123", None, 404, "unknown_format"),
])
async def test_hikvision_refusals_never_reach_the_callback(
        receiver: AnprReceiver, hub: Hub, session: aiohttp.ClientSession, path: str, auth: str | None,
        status: int, reason: str) -> None:
    body, content_type = hikvision_push(_record())
    headers = {"Content-Type": content_type, **({"Authorization": auth} if auth else {})}
    async with session.post(receiver.url + path, data=body, headers=headers) as resp:
        assert resp.status == status
        if status == 401:
            assert resp.headers["WWW-Authenticate"].startswith("Basic ")
    assert hub.reads == [] and receiver.stats[reason] == 1


async def test_bad_input_is_400_and_changes_nothing(receiver: AnprReceiver, hub: Hub,
                                                    session: aiohttp.ClientSession) -> None:
    url = f"{receiver.url}/anpr/hikvision/hik-open-secret-0123456789"
    async with session.post(url, data=b"<EventNotificationAlert><eventType>ANPR",
                            headers={"Content-Type": "application/xml"}) as resp:
        assert resp.status == 400
        assert "does not parse" in await resp.text()
    # A heartbeat is fine and reads nothing.
    async with session.post(url, data=b"<EventNotificationAlert><eventType>videoloss</eventType>"
                            b"</EventNotificationAlert>", headers={"Content-Type": "application/xml"}) as resp:
        assert resp.status == 200
    assert hub.reads == []


async def test_body_size_cap(receiver: AnprReceiver, hub: Hub, session: aiohttp.ClientSession) -> None:
    """Over the cap: 413 from Content-Length before anything is read, and for a chunked body while reading."""
    url = f"{receiver.url}/anpr/hikvision/hik-open-secret-0123456789"
    big = b"x" * (256 * 1024 + 1)
    async with session.post(url, data=big, headers={"Content-Type": "application/xml"}) as resp:
        assert resp.status == 413

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"y" * 8192

    async with session.post(url, data=chunks(), headers={"Content-Type": "application/xml"}) as resp:
        assert resp.status == 413
    assert hub.reads == [] and receiver.stats["too_large"] == 2


# -- Vzenith: address list and the reply -------------------------------------------------------------------------


async def test_vzenith_reply_opens_for_an_allowed_plate_only(receiver: AnprReceiver, hub: Hub,
                                                             session: aiohttp.ClientSession) -> None:
    url = f"{receiver.url}/anpr/vzenith/{VZ_SECRET}"
    async with session.post(url, data=vzenith_push(_record("皖A7XG66"), serial="vz-1")) as resp:
        assert resp.status == 200
        assert (await resp.json())["Response_AlarmInfoPlate"] == {"info": "ok", "content": "欢迎回家"}
    async with session.post(url, data=vzenith_push(_record("京B12345", "1002"), serial="vz-1")) as resp:
        reply = (await resp.json())["Response_AlarmInfoPlate"]
        assert reply["info"] != "ok" and reply == {"info": "no", "content": "车未入场"}
    assert [r.plate for r in hub.reads] == ["皖A7XG66", "京B12345"]


async def test_vzenith_callback_failure_does_not_open(receiver: AnprReceiver, hub: Hub,
                                                      session: aiohttp.ClientSession) -> None:
    hub.fail = True
    async with session.post(f"{receiver.url}/anpr/vzenith/{VZ_SECRET}",
                            data=vzenith_push(_record(), serial="vz-1")) as resp:
        assert resp.status == 500  # the camera sends it again later
        assert (await resp.json())["Response_AlarmInfoPlate"]["info"] != "ok"


async def test_vzenith_from_an_address_not_listed(hub: Hub, session: aiohttp.ClientSession) -> None:
    receiver = AnprReceiver(_sources(vz_addresses=("192.168.1.0/24", "10.0.0.7")), hub.on_read)
    await receiver.start()
    try:
        async with session.post(f"{receiver.url}/anpr/vzenith/{VZ_SECRET}",
                                data=vzenith_push(_record(), serial="vz-1")) as resp:
            assert resp.status == 403
            assert "Response_AlarmInfoPlate" not in await resp.text()
    finally:
        await receiver.stop()
    assert hub.reads == [] and receiver.stats["address_not_allowed"] == 1


# -- Dahua: Digest -------------------------------------------------------------------------------------------------


async def _digest_post(session: aiohttp.ClientSession, url: str, path: str, body: bytes,
                       auth: DigestAuth) -> tuple[int, str | None]:
    async with session.post(url + path, data=body) as resp:
        assert resp.status == 401
        challenges = resp.headers.getall("WWW-Authenticate")
        assert challenges[0].startswith("Digest ") and "SHA-256" in challenges[0] and "MD5" in challenges[1]
    assert any(auth.update_challenge(c) for c in challenges)
    header = auth.authorization("POST", path)
    async with session.post(url + path, data=body, headers={"Authorization": header}) as resp:
        return resp.status, header


async def test_dahua_digest_fixed_paths(receiver: AnprReceiver, hub: Hub, session: aiohttp.ClientSession) -> None:
    auth = DigestAuth("dahua", "dahua-pass")
    status, _ = await _digest_post(session, receiver.url, "/NotificationInfo/KeepAlive", dahua_keepalive("dh-1"), auth)
    assert status == 200 and hub.alive == [("dahua", "dh-1")]
    status, header = await _digest_post(session, receiver.url, "/NotificationInfo/TollgateInfo",
                                        dahua_tollgate(_record(), device_id="dh-1"), auth)
    assert status == 200
    [read] = hub.reads
    assert (read.format, read.camera_id, read.plate) == ("dahua", "dh-1", "皖A7XG66")
    # The same request again (same nonce, same count): a replay, refused.
    async with session.post(receiver.url + "/NotificationInfo/TollgateInfo",
                            data=dahua_tollgate(_record(), device_id="dh-1"),
                            headers={"Authorization": header or ""}) as resp:
        assert resp.status == 401
        assert "replayed" in await resp.text()
    assert len(hub.reads) == 1 and receiver.stats["digest_replayed"] == 1
    # MD5 works too (the older firmware's only choice).
    md5 = DigestAuth("dahua", "dahua-pass")
    async with session.post(receiver.url + "/NotificationInfo/TollgateInfo", data=b"{}") as resp:
        md5_challenge = resp.headers.getall("WWW-Authenticate")[1]
    assert md5.update_challenge(md5_challenge)
    md5_header = md5.authorization("POST", "/NotificationInfo/TollgateInfo")
    async with session.post(receiver.url + "/NotificationInfo/TollgateInfo",
                            data=dahua_tollgate(_record("京B12345"), device_id="dh-1"),
                            headers={"Authorization": md5_header}) as r:
        assert r.status == 200
    assert [r.plate for r in hub.reads] == ["皖A7XG66", "京B12345"]


async def test_dahua_wrong_password_and_wrong_uri(receiver: AnprReceiver, hub: Hub,
                                                  session: aiohttp.ClientSession) -> None:
    status, _ = await _digest_post(session, receiver.url, "/NotificationInfo/TollgateInfo",
                                   dahua_tollgate(_record(), device_id="dh-1"), DigestAuth("dahua", "wrong"))
    assert status == 401
    auth = DigestAuth("dahua", "dahua-pass")
    async with session.post(receiver.url + "/NotificationInfo/TollgateInfo", data=b"{}") as resp:
        auth.update_challenge(resp.headers.getall("WWW-Authenticate")[0])
    header = auth.authorization("POST", "/NotificationInfo/KeepAlive")  # signed for another path
    async with session.post(receiver.url + "/NotificationInfo/TollgateInfo",
                            data=dahua_tollgate(_record(), device_id="dh-1"), headers={"Authorization": header}) as r:
        assert r.status == 401
    assert hub.reads == [] and receiver.stats["digest_bad"] == 2


async def test_dahua_under_its_push_url(receiver: AnprReceiver, hub: Hub, session: aiohttp.ClientSession) -> None:
    path = f"/anpr/dahua/{DAHUA_SECRET}/NotificationInfo/TollgateInfo"
    status, _ = await _digest_post(session, receiver.url, path, dahua_tollgate(_record(), device_id="dh-1"),
                                   DigestAuth("dahua", "dahua-pass"))
    assert status == 200 and len(hub.reads) == 1


# -- the pieces ----------------------------------------------------------------------------------------------------


def test_digest_nonce_expiry_and_replay() -> None:
    now = [1_000_000.0]
    verifier = DigestVerifier({"u": "p"}, realm="r", nonce_ttl_s=60, clock=lambda: now[0])
    client = DigestAuth("u", "p")
    assert client.update_challenge(verifier.challenges()[0])
    first = client.authorization("POST", "/x")
    assert verifier.verify("POST", "/x", first).outcome is DigestOutcome.OK
    assert verifier.verify("POST", "/x", first).outcome is DigestOutcome.REPLAYED
    assert verifier.verify("POST", "/x", client.authorization("POST", "/x")).outcome is DigestOutcome.OK  # nc=2
    now[0] += 61
    assert verifier.verify("POST", "/x", client.authorization("POST", "/x")).outcome is DigestOutcome.STALE
    stale = verifier.challenges(stale=True)[0]
    assert "stale=true" in stale
    assert client.update_challenge(stale)
    assert verifier.verify("POST", "/x", client.authorization("POST", "/x")).outcome is DigestOutcome.OK
    # A nonce this verifier did not sign, RFC 2069 without qop, no header.
    other = DigestAuth("u", "p")
    other.update_challenge(DigestVerifier({"u": "p"}, realm="r").challenges()[0])
    assert verifier.verify("POST", "/x", other.authorization("POST", "/x")).outcome is DigestOutcome.BAD
    no_qop = DigestAuth("u", "p")
    no_qop.update_challenge('Digest realm="r", nonce="' + verifier.new_nonce() + '"')
    assert verifier.verify("POST", "/x", no_qop.authorization("POST", "/x")).outcome is DigestOutcome.BAD
    assert verifier.verify("POST", "/x", None).outcome is DigestOutcome.MISSING


def test_secret_basic_and_addresses() -> None:
    assert check_secret("abc", "abc") and not check_secret("abd", "abc") and not check_secret(None, "abc")
    assert not check_secret("", "")
    assert check_basic(_basic("u", "p:with:colons"), "u", "p:with:colons")
    assert not check_basic(_basic("u", "p"), "u", "q") and not check_basic("Bearer x", "u", "p")
    allow = AddressAllowList(["192.168.1.0/24", "10.0.0.7", "fd00::/8"])
    assert allow.allows("192.168.1.99") and allow.allows("10.0.0.7") and allow.allows("::ffff:192.168.1.5")
    assert allow.allows("fd00::1") and not allow.allows("10.0.0.8") and not allow.allows("garbage")
    assert not AddressAllowList([]).allows("127.0.0.1")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"format": "vzenith", "secret": VZ_SECRET}, "addresses"),
    ({"format": "dahua", "secret": DAHUA_SECRET}, "Digest"),
    ({"format": "hikvision", "secret": "short"}, "16"),
    ({"format": "hikvision", "secret": SECRET, "username": "u"}, "password"),
    ({"format": "uniview", "secret": SECRET}, "unknown push format"),
    ({"format": "vzenith", "secret": VZ_SECRET, "allowed_addresses": ("not-an-ip",)}, "does not appear"),
])
def test_source_configuration_is_checked(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PushSource(**kwargs)  # type: ignore[arg-type]



def test_forgotten_nonces_cannot_be_replayed() -> None:
    """Only the last ``max_nonces`` counts are kept; a nonce issued before a forgotten one is stale from then on."""
    now = [2_000_000.0]
    verifier = DigestVerifier({"u": "p"}, realm="r", max_nonces=2, clock=lambda: now[0])
    headers = []
    for _ in range(3):
        client = DigestAuth("u", "p")
        client.update_challenge(verifier.challenges()[0])
        headers.append(client.authorization("POST", "/x"))
        assert verifier.verify("POST", "/x", headers[-1]).outcome is DigestOutcome.OK
        now[0] += 1
    # The first nonce's count was forgotten when the third arrived: its replay is not taken.
    assert verifier.verify("POST", "/x", headers[0]).outcome is DigestOutcome.STALE
    assert verifier.verify("POST", "/x", headers[2]).outcome is DigestOutcome.REPLAYED


def test_receiver_configuration_is_checked(hub: Hub) -> None:
    twice = PushSource(format="hikvision", secret=SECRET)
    with pytest.raises(ValueError, match="same URL secret"):
        AnprReceiver([twice, twice], hub.on_read)
    with pytest.raises(ValueError, match="same user name"):
        AnprReceiver([PushSource(format="dahua", secret=DAHUA_SECRET, username="d", password="1"),
                      PushSource(format="dahua", secret=SECRET, username="d", password="2")], hub.on_read)


async def test_a_slow_callback_does_not_open(hub: Hub, session: aiohttp.ClientSession) -> None:
    async def slow(read: PlateRead) -> BarrierReply:
        await asyncio.sleep(5)
        return BarrierReply(open=True)

    receiver = AnprReceiver(_sources(), slow, callback_timeout_s=0.2)
    await receiver.start()
    try:
        async with session.post(f"{receiver.url}/anpr/vzenith/{VZ_SECRET}",
                                data=vzenith_push(_record(), serial="vz-1")) as resp:
            assert resp.status == 500
            assert (await resp.json())["Response_AlarmInfoPlate"]["info"] == "no"
    finally:
        await receiver.stop()
    assert receiver.stats["callback_failed"] == 1
