"""After an erasure no byte of the person is left in any file the hub writes: the community database (registry,
access, journal, outbox, audit log and device health share it), its ``-wal`` and its ``-shm``, read as raw bytes
while the hub's reader connections are open, after more traffic, and after the hub closed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.access.models import AccessRule, FaceMatch
from hub.community import Community
from hub.events import ManagerActionEvent
from hub.face_gate import CommunityFaces
from hub.health import DeviceKind, HealthStore
from hub.journal import EventKind, Journal, Outbox, open_journal_database, resident_ref

PHOTOS = Path(__file__).resolve().parents[3] / "demo" / "faces" / "John_Salley"
HUB_ID = "hub-erasure"
VICTIM = "res-zhou-7f3a91"
OLD_NAME = "Zhou Xiaoyan-Formerly 周小燕"  # renamed before the erasure: the old name must go too
NAME = "Zhou Xiaoyan 周晓燕"
CARD = "8800123456"
PIN = "285714"
VISITOR = "Visitor Wang Fang 王芳"
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


@dataclass
class Hub:
    """A community as Home Assistant runs it: the writer, plus reader connections of the uplink and health."""

    folder: Path
    community: Community
    uplink_reads: Journal
    worker_outbox: Outbox
    health_reads: HealthStore
    closed: bool = False

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.uplink_reads.close()
        self.health_reads.close()
        self.community.close()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    folder = tmp_path / "storage"
    folder.mkdir()
    db = folder / "community.db"
    community = Community(db, folder / "keys" / "community.key", timezone=ZoneInfo("Asia/Shanghai"), hub_id=HUB_ID)
    journal = community.journal
    assert journal is not None
    # The integration writes every manager action to the audit log and the journal (uplink.record_manager_action).
    community.events.subscribe(ManagerActionEvent,
                               lambda e: journal.record_manager_action(e.actor, e.action, dict(e.details)))
    keys = community.registry.keys
    worker_conn = open_journal_database(db)  # the uplink worker reads the outbox on a connection of its own
    running = Hub(folder, community, Journal(open_journal_database(db), HUB_ID, audit_keys=keys.audit),
                  Outbox(worker_conn), HealthStore.open(db))
    yield running
    running.close()
    worker_conn.close()


def _populate(hub: Hub) -> None:
    c = hub.community
    reg = c.registry
    c.ensure_door("gate-in", "North gate in", face=True)
    c.ensure_door("lobby", "Lobby")
    c.call(reg.residents.add_resident, "mgr", VICTIM, OLD_NAME, household="Zhou 周", building="9", unit="902")
    c.call(reg.residents.update_resident, "mgr", VICTIM, full_name=NAME)
    c.call(reg.residents.add_resident, "mgr", "res-li", "Li Lei 李雷")
    c.call(reg.residents.add_resident, "mgr", "res-han", "Han Meimei 韩梅梅")
    c.call(c.access_config.add_rule, "mgr",
           AccessRule("everyone", frozenset({"gate-in", "lobby"}), applies_to_all=True), name="All")
    c.call(reg.consents.record_consent, "mgr", VICTIM, scope="gates", given_at=START)
    enrolment = CommunityFaces(c).enrol("mgr", VICTIM, [p.read_bytes() for p in sorted(PHOTOS.glob("*.jpg"))[:2]])
    assert enrolment.templates
    c.call(reg.credentials.add_card, "mgr", VICTIM, CARD)
    c.call(reg.credentials.add_card, "mgr", "res-li", "7700654321")
    code = c.call(reg.credentials.set_pin, "mgr", VICTIM, PIN)
    issued = c.call(reg.passes.issue_pass, "mgr", VICTIM, VISITOR, ["lobby"], valid_from=START,
                    valid_until=START + timedelta(hours=5))
    later = START + timedelta(minutes=5)
    c.call(c.access.present_card, "lobby", CARD, later)
    c.call(c.access.enter_pin, "lobby", code, PIN, later + timedelta(minutes=1))
    c.call(c.access.enter_pin, "lobby", code, "480213", later + timedelta(minutes=1, seconds=10))  # a wrong PIN
    c.call(c.access.present_face, "gate-in", FaceMatch(VICTIM, 0.31, True), later + timedelta(minutes=2))
    c.call(c.access.present_pass, "lobby", issued.token, later + timedelta(minutes=3))
    c.call(c.access.present_card, "lobby", "7700654321", later + timedelta(minutes=4))
    c.decided()
    health = c.health_writes()
    c.call(health.record, "ctrl-1", DeviceKind.DOOR_CONTROLLER, True, later)
    c.journal_event(EventKind.DEVICE_STATUS, None, {"device": "ctrl-1", "online": True}, later)
    # The readers have been reading, as the panel, the uplink worker and device health do.
    assert c.summary()["residents"] == 3
    assert hub.uplink_reads.access_log().rows
    assert hub.worker_outbox.pending(100)
    assert hub.health_reads.statuses()


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _found(files: dict[str, bytes], needles: dict[str, bytes]) -> dict[str, list[str]]:
    return {label: [name for name, data in files.items() if needle in data] for label, needle in needles.items()
            if any(needle in data for data in files.values())}


def test_erasure_leaves_no_byte_of_the_person_in_any_database_file(hub: Hub) -> None:
    _populate(hub)
    conn = hub.community.registry.conn
    pin = hub.community.call(lambda: conn.execute("SELECT salt, pin_hash FROM pins WHERE resident_id = ?",
                                                  (VICTIM,)).fetchone())
    template = hub.community.call(lambda: conn.execute(
        "SELECT ciphertext FROM face_templates WHERE resident_id = ?", (VICTIM,)).fetchone()[0])
    card_index = hub.community.call(lambda: conn.execute(
        "SELECT number_index FROM cards WHERE resident_id = ?", (VICTIM,)).fetchone()[0])
    needles = {
        "resident id": VICTIM.encode(),
        "name": NAME.encode(),
        "name (non-ASCII part)": "周晓燕".encode(),
        "former name": OLD_NAME.encode(),
        "visitor's name": VISITOR.encode(),
        "card's keyed index": bytes(card_index),
        "PIN salt": bytes(pin["salt"]),
        "PIN hash": bytes(pin["pin_hash"]),
        "face template": bytes(template)[16:48],
    }
    before = _files(hub.folder)
    # Every file the hub writes: the one database (with its WAL and shared-memory index) and the key file.
    assert set(before) == {"community.db", "community.db-wal", "community.db-shm", "keys/community.key"}
    assert set(_found(before, needles)) == set(needles)  # the test can see them: it would fail on a bad erasure
    assert CARD.encode() not in b"".join(before.values())  # the clear card number was never stored

    receipt = hub.community.erase_resident("dpo-li", VICTIM)
    assert receipt.erased["journal_events"] == 3  # card, PIN and face decisions (the pass's decision names nobody)
    assert receipt.erased["visitor_passes"] == 1 and receipt.erased["face_templates"] == 2

    assert _found(_files(hub.folder), needles) == {}
    # More traffic after the erasure (pages that held the person are written again) leaves nothing either.
    c = hub.community
    c.call(c.access.present_card, "lobby", "7700654321", START + timedelta(minutes=30))
    c.journal_event(EventKind.DEVICE_STATUS, None, {"device": "ctrl-1", "online": False})
    c.call(c.registry.residents.add_resident, "mgr", "res-new", "New Neighbour")
    assert hub.uplink_reads.access_log().rows and hub.health_reads.statuses()
    assert _found(_files(hub.folder), needles) == {}

    # The audit log still verifies, names the person only by pseudonym, and says who erased them.
    assert hub.uplink_reads.audit.verify().ok
    ref = resident_ref(c.registry.keys.audit_ref, VICTIM)
    entries = hub.uplink_reads.audit.entries(limit=500)
    erase = next(e for e in entries if e.action == "resident.erase")
    assert erase.actor == "dpo-li" and erase.details["resident_ref"] == ref
    assert any(e.details.get("resident_id") == ref for e in entries if e.action == "resident.add")
    assert any(e.details.get("issued_by") == ref for e in entries if e.action == "pass.issue")
    # What still waits in the outbox goes up without naming the person.
    assert all("resident_id" not in p.event.payload or p.event.payload["resident_id"] in (None, "res-li")
               for p in hub.worker_outbox.pending(100))

    hub.close()
    assert _found(_files(hub.folder), needles) == {}
