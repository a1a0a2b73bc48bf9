"""The reference receiver refuses replayed requests, bad signatures and old timestamps; it stores each event once."""

from __future__ import annotations

import json
import time

import aiohttp

from devkit.receiver import ReferenceReceiver
from devkit.receiver.client import fetch_received, fetch_stats
from hub.uplink import Secret
from hub.uplink.signing import HEADER_SIGNATURE, sign_headers

PATH = "/api/v1/events"


def _body(hub_id: str, *ids: str) -> bytes:
    events = [{"id": i, "seq": n, "hub_id": hub_id, "type": "decision", "door": "gate-1"} for n, i in enumerate(ids)]
    return json.dumps({"version": 1, "hub_id": hub_id, "events": events}).encode()


async def _post(receiver: ReferenceReceiver, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as session, session.post(
        receiver.url + PATH, data=body, headers={"Content-Type": "application/json", **headers}
    ) as response:
        return response.status, await response.json()


async def test_replayed_request_is_rejected(receiver: ReferenceReceiver, secret: Secret, hub_id: str) -> None:
    body = _body(hub_id, "11111111-aaaa")
    headers = sign_headers(secret, hub_id, "POST", PATH, body)
    status, ack = await _post(receiver, body, headers)
    assert status == 200 and ack["accepted"] == ["11111111-aaaa"]
    status, answer = await _post(receiver, body, headers)
    assert (status, answer) == (409, {"error": "replayed_nonce"})


async def test_bad_signature_is_rejected(receiver: ReferenceReceiver, secret: Secret, hub_id: str) -> None:
    body = _body(hub_id, "22222222-aaaa")
    headers = sign_headers(Secret("some-other-secret-0123456789"), hub_id, "POST", PATH, body)
    assert await _post(receiver, body, headers) == (401, {"error": "bad_signature"})
    tampered = sign_headers(secret, hub_id, "POST", PATH, body)
    assert (await _post(receiver, _body(hub_id, "33333333-aaaa"), tampered))[0] == 401
    unsigned = {k: v for k, v in sign_headers(secret, hub_id, "POST", PATH, body).items() if k != HEADER_SIGNATURE}
    assert await _post(receiver, body, unsigned) == (401, {"error": "missing_signature"})
    assert await fetch_received(receiver.url) == []


async def test_old_and_future_timestamps_are_rejected(receiver: ReferenceReceiver, secret: Secret,
                                                      hub_id: str) -> None:
    body = _body(hub_id, "44444444-aaaa")
    old = sign_headers(secret, hub_id, "POST", PATH, body, now=time.time() - 301)
    assert await _post(receiver, body, old) == (401, {"error": "stale_timestamp"})
    future = sign_headers(secret, hub_id, "POST", PATH, body, now=time.time() + 301)
    assert await _post(receiver, body, future) == (401, {"error": "stale_timestamp"})
    stats = await fetch_stats(receiver.url)
    assert stats["rejected_requests"] == 2 and stats["events"] == 0


async def test_resent_events_are_stored_once(receiver: ReferenceReceiver, secret: Secret, hub_id: str) -> None:
    first = _body(hub_id, "55555555-aaaa", "66666666-aaaa")
    status, ack = await _post(receiver, first, sign_headers(secret, hub_id, "POST", PATH, first))
    assert status == 200 and ack["duplicates"] == []
    again = _body(hub_id, "66666666-aaaa", "77777777-aaaa")
    status, ack = await _post(receiver, again, sign_headers(secret, hub_id, "POST", PATH, again))
    assert ack == {"accepted": ["77777777-aaaa"], "duplicates": ["66666666-aaaa"], "rejected": []}
    assert [e["id"] for e in await fetch_received(receiver.url)] == ["55555555-aaaa", "66666666-aaaa",
                                                                    "77777777-aaaa"]
    assert (await fetch_stats(receiver.url))["duplicates"] == 1


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
