"""The reference receiver refuses replayed requests, bad signatures and old timestamps; it stores each event once.

It knows each hub by its own secret (a hub cannot post as another), checks every header before it reads a body
(and reads at most a small cap of it), and serves its read API only to the bearer of its read token.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from devkit.receiver import ReferenceReceiver
from devkit.receiver.client import fetch_received, fetch_stats
from devkit.receiver.hubs import HubSecrets, load_hubs_file
from devkit.receiver.server import MAX_BODY_BYTES
from hub.exceptions import InvalidInputError
from hub.journal import EventKind, Journal, NewEvent
from hub.uplink import FieldPolicy, JsonUplinkClient, RejectedError, Secret
from hub.uplink.json_client import batch_body
from hub.uplink.signing import HEADER_SIGNATURE, MAX_SKEW_S, sign_headers
from hub.uplink.transport import OutgoingEvent

PATH = "/api/v1/events"
HUGE = 16 * 1024 * 1024
OTHER_HUB = "hub-test-0002"
OTHER_SECRET = Secret("the-other-hubs-own-secret-0123456789")


def _body(hub_id: str, *ids: str) -> bytes:
    events = [{"id": i, "seq": n, "hub_id": hub_id, "type": "decision", "door": "gate-1"} for n, i in enumerate(ids)]
    return json.dumps({"version": 1, "hub_id": hub_id, "events": events}).encode()


async def _post(receiver: ReferenceReceiver, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as session, session.post(
        receiver.url + PATH, data=body, headers={"Content-Type": "application/json", **headers}
    ) as response:
        return response.status, await response.json()


async def _raw(receiver: ReferenceReceiver, headers: dict[str, str], body: bytes = b"") -> tuple[str, dict[str, str],
                                                                                                 bytes]:
    """Send a request head (and ``body``, nothing more) on a plain socket; return what the server sent until it
    closed the connection: status line, headers, body. The safety timeout only ends a hung test."""
    reader, writer = await asyncio.open_connection("127.0.0.1", receiver.port)
    try:
        head = f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(head.encode() + b"\r\n" + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 60)  # up to EOF: the server ends the connection
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    head_bytes, _, rest = answer.partition(b"\r\n\r\n")
    status, *lines = head_bytes.decode().split("\r\n")
    return status, {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}, rest


async def _first_line(receiver: ReferenceReceiver, headers: dict[str, str]) -> str:
    """The first status line the server sends after a request head (no body sent)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", receiver.port)
    try:
        head = f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(head.encode() + b"\r\n")
        await writer.drain()
        return (await asyncio.wait_for(reader.readline(), 60)).decode().strip()
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@pytest.fixture
async def two_hubs(tmp_path: Path, hub_id: str, secret: Secret, read_token: Secret,
                   socket_enabled: None) -> AsyncIterator[ReferenceReceiver]:
    """A receiver that knows two hubs, each with its own secret."""
    running = ReferenceReceiver(tmp_path / "two.db", {hub_id: secret, OTHER_HUB: OTHER_SECRET},
                                read_token=read_token)
    await running.start()
    yield running
    await running.stop()


# --- signatures, replays, timestamps, duplicates --------------------------------------------------------------------


async def test_replayed_request_is_rejected(receiver: ReferenceReceiver, secret: Secret, hub_id: str) -> None:
    body = _body(hub_id, "11111111-aaaa")
    headers = sign_headers(secret, hub_id, "POST", PATH, body)
    status, ack = await _post(receiver, body, headers)
    assert status == 200 and ack["accepted"] == ["11111111-aaaa"]
    status, answer = await _post(receiver, body, headers)
    assert (status, answer) == (409, {"error": "replayed_nonce"})


async def test_bad_signature_is_rejected(receiver: ReferenceReceiver, secret: Secret, hub_id: str,
                                         read_token: Secret) -> None:
    body = _body(hub_id, "22222222-aaaa")
    headers = sign_headers(Secret("some-other-secret-0123456789"), hub_id, "POST", PATH, body)
    assert await _post(receiver, body, headers) == (401, {"error": "bad_signature"})
    tampered = sign_headers(secret, hub_id, "POST", PATH, body)
    assert (await _post(receiver, _body(hub_id, "33333333-aaaa"), tampered))[0] == 401
    unsigned = {k: v for k, v in sign_headers(secret, hub_id, "POST", PATH, body).items() if k != HEADER_SIGNATURE}
    assert await _post(receiver, body, unsigned) == (401, {"error": "missing_signature"})
    assert await fetch_received(receiver.url, read_token) == []


async def test_old_and_future_timestamps_are_rejected(receiver: ReferenceReceiver, secret: Secret,
                                                      hub_id: str, read_token: Secret) -> None:
    body = _body(hub_id, "44444444-aaaa")
    # A minute outside the window: the header holds whole seconds, and a loaded machine takes a while between
    # signing and the receiver's check (one second beyond the window was let in on a busy CI run).
    outside = MAX_SKEW_S + 60
    old = sign_headers(secret, hub_id, "POST", PATH, body, now=time.time() - outside)
    assert await _post(receiver, body, old) == (401, {"error": "stale_timestamp"})
    future = sign_headers(secret, hub_id, "POST", PATH, body, now=time.time() + outside)
    assert await _post(receiver, body, future) == (401, {"error": "stale_timestamp"})
    stats = await fetch_stats(receiver.url, read_token)
    assert stats["rejected_requests"] == 2 and stats["events"] == 0


async def test_resent_events_are_stored_once(receiver: ReferenceReceiver, secret: Secret, hub_id: str,
                                             read_token: Secret) -> None:
    first = _body(hub_id, "55555555-aaaa", "66666666-aaaa")
    status, ack = await _post(receiver, first, sign_headers(secret, hub_id, "POST", PATH, first))
    assert status == 200 and ack["duplicates"] == []
    again = _body(hub_id, "66666666-aaaa", "77777777-aaaa")
    status, ack = await _post(receiver, again, sign_headers(secret, hub_id, "POST", PATH, again))
    assert ack == {"accepted": ["77777777-aaaa"], "duplicates": ["66666666-aaaa"], "rejected": []}
    assert [e["id"] for e in await fetch_received(receiver.url, read_token)] == ["55555555-aaaa", "66666666-aaaa",
                                                                                "77777777-aaaa"]
    assert (await fetch_stats(receiver.url, read_token))["duplicates"] == 1


async def test_event_of_another_hub_is_refused_individually(receiver: ReferenceReceiver, secret: Secret,
                                                            hub_id: str) -> None:
    body = json.dumps({"hub_id": hub_id, "events": [
        {"id": "88888888-aaaa", "hub_id": "someone-else", "type": "decision"},
        {"id": "99999999-aaaa", "type": "decision"},
    ]}).encode()
    status, ack = await _post(receiver, body, sign_headers(secret, hub_id, "POST", PATH, body))
    assert status == 200
    assert ack == {"accepted": ["99999999-aaaa"], "duplicates": [],
                   "rejected": [{"id": "88888888-aaaa", "reason": "hub_mismatch"}]}


# --- 1. each hub has its own secret ---------------------------------------------------------------------------------


async def test_a_hub_cannot_post_as_another_hub(two_hubs: ReferenceReceiver, hub_id: str, secret: Secret,
                                                read_token: Secret) -> None:
    # Hub A (hub_id) knows only its own secret and claims to be hub B, in the header and the body.
    forged = _body(OTHER_HUB, "aaaaaaaa-0001")
    assert await _post(two_hubs, forged, sign_headers(secret, OTHER_HUB, "POST", PATH, forged)) == (
        401, {"error": "bad_signature"})
    # ... or signs as itself and claims hub B in the body.
    assert await _post(two_hubs, forged, sign_headers(secret, hub_id, "POST", PATH, forged)) == (
        401, {"error": "hub_mismatch"})
    # A hub the receiver does not know is refused whatever it signs with.
    assert await _post(two_hubs, forged, sign_headers(OTHER_SECRET, "hub-unknown", "POST", PATH, forged)) == (
        401, {"error": "unknown_hub"})
    assert await fetch_received(two_hubs.url, read_token) == []
    # Each hub with its own secret is accepted, and its events are stored under its own id.
    for sender, own in ((hub_id, secret), (OTHER_HUB, OTHER_SECRET)):
        body = _body(sender, f"{sender}-ev")
        status, ack = await _post(two_hubs, body, sign_headers(own, sender, "POST", PATH, body))
        assert (status, ack["accepted"]) == (200, [f"{sender}-ev"])
    received = await fetch_received(two_hubs.url, read_token)
    assert [(e["id"], e["hub_id"]) for e in received] == [(f"{hub_id}-ev", hub_id), (f"{OTHER_HUB}-ev", OTHER_HUB)]
    assert (await fetch_stats(two_hubs.url, read_token))["rejected_requests"] == 3
    # A hub the county stops accepting is unknown from then on.
    two_hubs.remove_hub(OTHER_HUB)
    body = _body(OTHER_HUB, "aaaaaaaa-0002")
    assert await _post(two_hubs, body, sign_headers(OTHER_SECRET, OTHER_HUB, "POST", PATH, body)) == (
        401, {"error": "unknown_hub"})


async def test_the_hub_client_reaches_a_receiver_of_several_hubs(two_hubs: ReferenceReceiver, journal: Journal,
                                                                 hub_id: str, secret: Secret,
                                                                 read_token: Secret) -> None:
    event = journal.append(EventKind.DECISION, door="gate-1")
    batch = [OutgoingEvent(event=event, fields={"type": "decision"})]
    forger = JsonUplinkClient(two_hubs.url, hub_id, OTHER_SECRET)  # another hub's secret
    try:
        with pytest.raises(RejectedError, match="401 bad_signature"):
            await forger.send(batch)
    finally:
        await forger.close()
    client = JsonUplinkClient(two_hubs.url, hub_id, secret)
    try:
        assert (await client.send(batch)).acknowledged == {event.uuid}
    finally:
        await client.close()
    assert [e["id"] for e in await fetch_received(two_hubs.url, read_token)] == [event.uuid]


def test_no_two_hubs_share_a_secret_and_there_is_no_shared_secret(tmp_path: Path, secret: Secret) -> None:
    with pytest.raises(InvalidInputError, match="share a secret"):
        HubSecrets({"hub-a": secret, "hub-b": Secret(secret.reveal())})
    hubs = HubSecrets({"hub-a": secret})
    with pytest.raises(InvalidInputError, match="listed twice"):
        hubs.add("hub-a", OTHER_SECRET)
    hubs.add("hub-a", Secret(secret.reveal()))  # the same binding again changes nothing
    with pytest.raises(InvalidInputError, match="not a hub id"):
        hubs.add("hub a", OTHER_SECRET)
    assert list(hubs) == ["hub-a"]
    with pytest.raises(TypeError, match="own secret"):
        ReferenceReceiver(tmp_path / "c.db", secret)  # type: ignore[arg-type]


def test_hubs_file_as_lines_and_as_json(tmp_path: Path) -> None:
    (tmp_path / "a.secret").write_text("secret-of-hub-a-0123456789\n")
    lines = tmp_path / "hubs.txt"
    lines.write_text("# the county's hubs\n\nhub-a a.secret   # a file next to this one\n"
                     "hub-b=secret-of-hub-b-with-#-and-=-0123\n")
    hubs = load_hubs_file(lines)
    assert dict(hubs) == {"hub-a": Secret("secret-of-hub-a-0123456789"),
                          "hub-b": Secret("secret-of-hub-b-with-#-and-=-0123")}
    as_json = tmp_path / "hubs.json"
    as_json.write_text(json.dumps({"hub-a": {"secret_file": "a.secret"}, "hub-b": "secret-of-hub-b-0123456789"}))
    assert dict(load_hubs_file(as_json)) == {"hub-a": Secret("secret-of-hub-a-0123456789"),
                                             "hub-b": Secret("secret-of-hub-b-0123456789")}


@pytest.mark.parametrize(("content", "message"), [
    ("", "lists no hub"),
    ("# nothing but a comment\n", "lists no hub"),
    ("hub-a=too-short-xyz\n", "line 1: .*at least 16 bytes"),
    ("hub-a=secret-number-one-0123456789\nhub-b=secret-number-one-0123456789\n", "line 2: .*share a secret"),
    ("hub-a missing.secret\n", "line 1: the secret file named there cannot be read"),
    ("secret-written-alone-0123456789\n", "line 1: expected 'HUB_ID SECRET_FILE' or 'HUB_ID=SECRET'"),
    ("hub/a=secret-number-one-0123456789\n", "line 1: .*not a hub id"),
    ('{"hub/a": "secret-number-one-0123456789"}', "not a hub id"),
    ('{"hub-a": "secret-number-one-0123456789",', "not valid JSON"),
    ('{"hub-a": 42}', "expected a secret string"),
    ('["hub-a"]', "expected a JSON object"),
])
def test_a_bad_hubs_file_says_what_is_wrong_and_never_shows_a_secret(tmp_path: Path, content: str,
                                                                     message: str) -> None:
    path = tmp_path / "hubs"
    path.write_text(content)
    with pytest.raises(InvalidInputError, match=message) as caught:
        load_hubs_file(path)
    assert str(path) in str(caught.value)
    assert "secret-number-one" not in str(caught.value) and "secret-written-alone" not in str(caught.value)
    assert "too-short-xyz" not in str(caught.value)


# --- 2. headers first, then a small body ----------------------------------------------------------------------------


async def test_an_unsigned_huge_request_is_refused_before_its_body_is_sent(receiver: ReferenceReceiver,
                                                                           hub_id: str, secret: Secret,
                                                                           read_token: Secret) -> None:
    """16 MiB declared, not one byte of it sent: the receiver answers and closes the connection all the same, so
    it cannot have read (or waited for) the body."""
    unsigned = {"Content-Type": "application/json", "Content-Length": str(HUGE), "X-Hub-Id": hub_id}
    status, headers, body = await _raw(receiver, unsigned)
    assert status.startswith("HTTP/1.1 401") and json.loads(body) == {"error": "missing_signature"}
    assert headers["connection"] == "close"
    stats = await fetch_stats(receiver.url, read_token)
    assert stats["rejected_requests"] == 1 and stats["events"] == 0


async def test_bad_headers_and_too_large_bodies_are_refused_before_the_body(receiver: ReferenceReceiver,
                                                                            hub_id: str, secret: Secret,
                                                                            read_token: Secret) -> None:
    small = _body(hub_id, "bbbbbbbb-0001")
    cases = [
        ({**sign_headers(secret, "hub-unknown", "POST", PATH, small)}, "401", "unknown_hub"),
        ({**sign_headers(secret, hub_id, "POST", PATH, small, now=time.time() - 3600)}, "401", "stale_timestamp"),
        ({**sign_headers(secret, hub_id, "POST", PATH, small), HEADER_SIGNATURE: "v1=not-hex"}, "401",
         "bad_signature"),
        # Well-formed headers of a known hub (the signature cannot be checked without the body): too large.
        ({**sign_headers(Secret("a-forger-guessing-0123456789"), hub_id, "POST", PATH, small)}, "413",
         "body_too_large"),
    ]
    for signed, code, error in cases:
        status, headers, body = await _raw(receiver, {**signed, "Content-Length": str(HUGE)})
        assert status.startswith(f"HTTP/1.1 {code}") and json.loads(body) == {"error": error}, signed
        assert headers["connection"] == "close"
    # A nonce already used is refused before the body too.
    used = sign_headers(secret, hub_id, "POST", PATH, small)
    status, _ = await _post(receiver, small, used)
    assert status == 200
    status, _, body = await _raw(receiver, {**used, "Content-Length": str(HUGE)})
    assert status.startswith("HTTP/1.1 409") and json.loads(body) == {"error": "replayed_nonce"}
    stats = await fetch_stats(receiver.url, read_token)
    assert stats["rejected_requests"] == 5 and stats["events"] == 1


async def test_expect_100_continue_gets_the_refusal_instead_of_the_go_ahead(receiver: ReferenceReceiver,
                                                                             hub_id: str, secret: Secret,
                                                                             read_token: Secret) -> None:
    unsigned = {"Content-Length": str(HUGE), "Expect": "100-continue", "X-Hub-Id": hub_id}
    assert await _first_line(receiver, unsigned) == "HTTP/1.1 401 Unauthorized"
    body = _body(hub_id, "cccccccc-0001")
    assert await _first_line(receiver, {**sign_headers(secret, hub_id, "POST", PATH, body), "Expect": "100-continue",
                                        "Content-Length": str(len(body))}) == "HTTP/1.1 100 Continue"
    async with aiohttp.ClientSession() as session, session.post(
        receiver.url + PATH, data=body, expect100=True,
        headers={"Content-Type": "application/json", **sign_headers(secret, hub_id, "POST", PATH, body)},
    ) as response:
        assert response.status == 200 and (await response.json())["accepted"] == ["cccccccc-0001"]
    assert [e["id"] for e in await fetch_received(receiver.url, read_token)] == ["cccccccc-0001"]


async def test_a_chunked_body_over_the_cap_is_refused(tmp_path: Path, hub_id: str, secret: Secret,
                                                      read_token: Secret, socket_enabled: None) -> None:
    capped = ReferenceReceiver(tmp_path / "capped.db", {hub_id: secret}, read_token=read_token, max_body_bytes=4096)
    await capped.start()
    try:
        body = _body(hub_id, *(f"dddddddd-{n:04}" for n in range(80)))
        assert len(body) > 4096
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 1000]), body[i:i + 1000])
                          for i in range(0, len(body), 1000)) + b"0\r\n\r\n"
        signed = {**sign_headers(secret, hub_id, "POST", PATH, body), "Transfer-Encoding": "chunked"}
        status, _, answer = await _raw(capped, signed, chunks)
        assert status.startswith("HTTP/1.1 413") and json.loads(answer) == {"error": "body_too_large"}
        assert await fetch_received(capped.url, read_token) == []
    finally:
        await capped.stop()


async def test_the_cap_holds_a_full_batch_of_what_a_hub_sends(receiver: ReferenceReceiver, journal: Journal,
                                                               hub_id: str, secret: Secret, policy: FieldPolicy,
                                                               read_token: Secret) -> None:
    """A batch the size `bench uplink` sends (500; the worker's default is 200), every default field filled, is a
    small part of the cap, and the receiver takes it."""
    stored = journal.append_many([
        NewEvent(kind=EventKind.DECISION, door=f"north-gate-door-{i % 8}",
                 payload={"result": "denied", "reason": "outside_schedule", "credential_kind": "card",
                          "resident_id": f"resident-{i}"})
        for i in range(500)])
    batch = [OutgoingEvent(event=e, fields=policy.fields_for(e)) for e in stored]
    assert len(batch_body(hub_id, batch)) < MAX_BODY_BYTES / 3
    client = JsonUplinkClient(receiver.url, hub_id, secret)
    try:
        assert len((await client.send(batch)).acknowledged) == 500
    finally:
        await client.close()
    assert len(await fetch_received(receiver.url, read_token)) == 500


# --- 3. the read API needs its token -------------------------------------------------------------------------------


async def test_the_read_api_needs_the_bearer_token(receiver: ReferenceReceiver, hub_id: str, secret: Secret,
                                                   read_token: Secret) -> None:
    body = _body(hub_id, "eeeeeeee-0001")
    assert (await _post(receiver, body, sign_headers(secret, hub_id, "POST", PATH, body)))[0] == 200
    token = read_token.reveal().decode()
    async with aiohttp.ClientSession() as session:
        for path in ("/api/v1/events", "/api/v1/stats"):
            for authorization in (None, f"Bearer {token}x", f"Bearer {token[:-1]}", f"Basic {token}", token,
                                  f"Bearer {secret.reveal().decode()}"):
                headers = {"Authorization": authorization} if authorization else {}
                async with session.get(receiver.url + path, headers=headers) as response:
                    assert (response.status, await response.json()) == (401, {"error": "unauthorized"}), path
                    assert response.headers["WWW-Authenticate"].startswith("Bearer")
            async with session.get(receiver.url + path, headers={"Authorization": f"Bearer {token}"}) as response:
                assert response.status == 200
        async with session.get(receiver.url + "/api/v1/health") as response:  # liveness only: no data
            assert (response.status, await response.json()) == (200, {"status": "ok"})
    with pytest.raises(aiohttp.ClientResponseError) as refused:
        await fetch_received(receiver.url, Secret("not-the-read-token-0123456789"))
    assert refused.value.status == 401
    assert [e["id"] for e in await fetch_received(receiver.url, read_token)] == ["eeeeeeee-0001"]


async def test_without_a_read_token_the_read_api_is_off(tmp_path: Path, hub_id: str, secret: Secret,
                                                        read_token: Secret, socket_enabled: None) -> None:
    closed = ReferenceReceiver(tmp_path / "closed.db", {hub_id: secret})
    await closed.start()
    try:
        body = _body(hub_id, "ffffffff-0001")
        assert (await _post(closed, body, sign_headers(secret, hub_id, "POST", PATH, body)))[0] == 200
        async with aiohttp.ClientSession() as session:
            for path in ("/api/v1/events", "/api/v1/stats"):
                for headers in ({}, {"Authorization": f"Bearer {read_token.reveal().decode()}"}):
                    async with session.get(closed.url + path, headers=headers) as response:
                        assert (response.status, await response.json()) == (404, {"error": "read_api_disabled"})
    finally:
        await closed.stop()
