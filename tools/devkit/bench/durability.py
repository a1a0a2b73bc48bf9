"""``community-hub bench durability``: kill the hub at random moments while it journals and uploads, N times, and
check that the county ends up with every event the hub acknowledged, each door's events in journal order.

The hub runs in child processes with the product's own code path: ``Journal.append`` (one transaction per event,
as the integration calls it), the real :class:`~hub.uplink.UplinkWorker` and :class:`~hub.uplink.JsonUplinkClient`
with HMAC signing. After each append returns, the child writes ``A <uuid> <door>`` on its stdout pipe: that is the
acknowledgement the parent counts. The county side is a receiver in this (parent) process that checks every
signature with :func:`hub.uplink.signing.check_signature` and records every delivery, with no unique index: a
redelivered event is counted, not hidden.

The parent kills the child with SIGKILL after a delay drawn from a seeded RNG (start-up, appends, sends and the
gaps between are all hit), restarts it on the same database file, and after N cycles lets a last child drain the
outbox. ``--power-loss`` turns each kill into a simulated power cut: an LD_PRELOAD shim
(``powerloss/powerloss.c``, compiled on demand with ``cc``) keeps an undo log of every write since each file's
last fsync; after the kill the parent rolls every file back to its last fsync, removes files created since the
folder's last fsync and discards the ``-shm`` wal-index. The product's SQLite settings are untouched.

To save the ~1 s of Python imports per cycle, children are forked from a template process that has imported the
hub's modules and nothing else: it never opens the database, starts a thread or an event loop. The final drain
runs as a freshly executed process. Prints a summary and, as its last line, one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HUB_ID = "hub-durability"
SECRET_ENV = "DURABILITY_UPLINK_SECRET"
COMMUNITY_KEY = "community-key-durability-bench"
SEND_BATCH = 25  # small batches: more requests, so more kills land in the middle of one
PAUSE_MAX_S = 0.004  # between appends, so sends interleave with appends
DRAIN_TIMEOUT_S = 600.0
EXIT_TIMEOUT_S = 60.0
SHIM_SOURCE = Path(__file__).with_name("powerloss") / "powerloss.c"
FIGURES = ("cycles", "acknowledged", "lost", "duplicates_at_receiver", "redelivered", "out_of_order")

# The shim's log entries (see powerloss.c): magic, kind, offset, size before, data length.
_ENTRY = struct.Struct("=IIqqQ")
_MAGIC = 0x4E55504C
_WRITE, _SYNC, _CREATE, _UNLINK = 1, 2, 3, 4
_DIR_LOG = "@dir.undo"
_NOTES = "@notes.log"


class DurabilityBenchError(RuntimeError):
    """The bench itself could not run (a child failed, the drain did not finish): no figures."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``community-hub bench durability``."""
    parser.add_argument("--cycles", type=int, default=100, help="kill and restart the hub this often (default 100)")
    parser.add_argument("--power-loss", action="store_true",
                        help="simulate a power cut at each kill: writes after each file's last fsync are lost")
    parser.add_argument("--seed", type=int, default=1, help="seed of the kill delays and the doors (default 1)")
    parser.add_argument("--doors", type=int, default=6, help="doors the decisions are spread over (default 6)")
    parser.add_argument("--max-delay", type=float, default=0.25,
                        help="longest a child lives before its kill, in seconds (default 0.25)")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="keep the database, logs and compiled shim here (default: a temporary folder)")


# --- the county side: a receiver that counts every delivery ------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """One event as it reached the receiver, in arrival order."""

    id: str
    door: str | None
    seq: int | None


class CountingReceiver:
    """The JSON profile's receiving end for the bench: verifies signatures and records every delivery.

    It answers like the reference receiver (``accepted`` the first time, ``duplicates`` after), but keeps every
    delivery, so redeliveries are counted. It lives in the parent process, which is never killed: memory is
    durable enough for it.
    """

    def __init__(self, secret: Any, *, host: str = "127.0.0.1") -> None:
        self._secret = secret
        self._host = host
        self._runner: Any = None
        self._nonces: set[str] = set()
        self._stored: set[str] = set()
        self.deliveries: list[Delivery] = []
        self.rejected_requests = 0
        self.cut_off_requests = 0
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.port = 0

    @property
    def url(self) -> str:
        """Base URL of the running receiver."""
        return f"http://{self._host}:{self.port}"

    async def start(self) -> None:
        """Bind on ``host``, port 0."""
        from aiohttp import web

        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/api/v1/events", self._post_events)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, 0)
        await site.start()
        server = site._server  # aiohttp exposes the bound port only through the asyncio server
        assert isinstance(server, asyncio.Server)
        self.port = int(server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def wait_idle(self) -> None:
        """Return once no request is being handled."""
        await self._idle.wait()

    async def _post_events(self, request: Any) -> Any:
        from aiohttp import web

        from hub.uplink.signing import HEADER_HUB, HEADER_NONCE, HEADER_TIMESTAMP, MAX_SKEW_S, check_signature

        self.in_flight += 1
        self._idle.clear()
        try:
            try:
                body = await request.read()
            except ConnectionError:  # the child died while sending: nothing was delivered
                self.cut_off_requests += 1
                return web.Response(status=499)
            headers = request.headers
            try:
                fresh = abs(time.time() - int(headers.get(HEADER_TIMESTAMP, ""))) <= MAX_SKEW_S
            except ValueError:
                fresh = False
            nonce = headers.get(HEADER_NONCE, "")
            if (not fresh or headers.get(HEADER_HUB) != HUB_ID or nonce in self._nonces
                    or not check_signature(self._secret, request.method, request.raw_path, headers, body)):
                self.rejected_requests += 1
                return web.json_response({"error": "bad_signature"}, status=401)
            self._nonces.add(nonce)
            try:
                events = json.loads(body)["events"]
                items = [(str(e["id"]), e.get("door"), e.get("seq")) for e in events]
            except (ValueError, KeyError, TypeError):
                self.rejected_requests += 1
                return web.json_response({"error": "invalid_body"}, status=400)
            accepted: list[str] = []
            duplicates: list[str] = []
            for event_id, door, seq in items:
                self.deliveries.append(Delivery(id=event_id, door=door, seq=seq))
                (duplicates if event_id in self._stored else accepted).append(event_id)
                self._stored.add(event_id)
            return web.json_response({"accepted": accepted, "duplicates": duplicates, "rejected": []})
        finally:
            self.in_flight -= 1
            if not self.in_flight:
                self._idle.set()


# --- the power-loss model: build the shim, roll files back after a kill -----------------------------------------


def build_shim(cache: Path) -> Path:
    """Compile ``powerloss.c`` with the system's ``cc`` into ``cache`` (once per source version)."""
    source = SHIM_SOURCE.read_bytes()
    target = cache / f"powerloss-{hashlib.sha256(source).hexdigest()[:16]}.so"
    if target.exists():
        return target
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise DurabilityBenchError("--power-loss needs a C compiler (cc): apt-get install gcc libc6-dev")
    cache.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    done = subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-o", str(partial), str(SHIM_SOURCE),
                           "-ldl", "-lpthread"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DurabilityBenchError(f"could not compile the power-loss shim:\n{done.stderr}")
    os.replace(partial, target)
    return target


@dataclass(frozen=True, kw_only=True)
class _LogEntry:
    pos: int
    kind: int
    offset: int
    prev_size: int
    data: bytes


def _read_log(path: Path) -> list[_LogEntry]:
    raw = path.read_bytes()
    entries: list[_LogEntry] = []
    pos = 0
    while pos + _ENTRY.size <= len(raw):
        magic, kind, offset, prev_size, length = _ENTRY.unpack_from(raw, pos)
        end = pos + _ENTRY.size + length
        if magic != _MAGIC or end > len(raw):
            break  # a torn tail: the call it describes never ran (the log is written first)
        entries.append(_LogEntry(pos=pos, kind=kind, offset=offset, prev_size=prev_size,
                                 data=raw[pos + _ENTRY.size:end]))
        pos = end
    return entries


def _not_durable(entries: list[_LogEntry]) -> list[_LogEntry]:
    """Entries no fsync covered, oldest first (an fsync covers what was logged before it started)."""
    covered = max((e.offset for e in entries if e.kind == _SYNC), default=0)
    return [e for e in entries if e.pos >= covered and e.kind != _SYNC]


@dataclass(kw_only=True)
class CutReport:
    """What one simulated power cut threw away."""

    writes_undone: int = 0
    bytes_restored: int = 0
    files_removed: list[str] = field(default_factory=list)
    unlinks_kept: int = 0
    notes: list[str] = field(default_factory=list)


def power_cut(db_dir: Path, log_dir: Path) -> CutReport:
    """Make every file in ``db_dir`` what it was at its last fsync, then empty the logs.

    Call it only once the process that wrote the logs is dead.
    """
    report = CutReport()
    for log in sorted(log_dir.glob("*.undo")):
        if log.name == _DIR_LOG:
            continue
        entries = _not_durable(_read_log(log))
        # An unlink ends an inode: what was logged before it belongs to a file that is gone.
        after_unlink = max((i + 1 for i, e in enumerate(entries) if e.kind == _UNLINK), default=0)
        pending = [e for e in entries[after_unlink:] if e.kind == _WRITE]
        target = db_dir / log.name.removesuffix(".undo")
        if not pending or not target.exists():
            continue
        with target.open("r+b") as file:
            for entry in reversed(pending):  # newest first: each step restores the state before that call
                if entry.data:
                    file.seek(entry.offset)
                    file.write(entry.data)
                file.truncate(entry.prev_size)
        report.writes_undone += len(pending)
        report.bytes_restored += sum(len(e.data) for e in pending)
    dir_log = log_dir / _DIR_LOG
    if dir_log.exists():
        for entry in _not_durable(_read_log(dir_log)):
            name = entry.data.decode()
            if entry.kind == _CREATE and (db_dir / name).exists():
                (db_dir / name).unlink()  # its directory entry never reached the disk
                report.files_removed.append(name)
            elif entry.kind == _UNLINK:
                report.unlinks_kept += 1
    for shm in db_dir.glob("*-shm"):
        shm.unlink()  # shared memory does not survive a power cut; SQLite rebuilds it from the WAL
    notes = log_dir / _NOTES
    if notes.exists():
        report.notes = notes.read_text().splitlines()
    for item in log_dir.iterdir():
        item.unlink()
    return report


# --- the parent: cycles, kills, the comparison -------------------------------------------------------------------


@dataclass(kw_only=True)
class DurabilityResult:
    """The figures of one run, and what they were computed from."""

    cycles: int
    power_loss: bool
    seed: int
    wall_s: float
    acknowledged_ids: dict[str, str]  # uuid -> door, in acknowledgement order
    deliveries: list[Delivery]
    journal: dict[str, tuple[int, str | None]]  # uuid -> (seq, door) in the final database
    kills: Counter[str]
    cut: CutReport
    rejected_requests: int
    cut_off_requests: int

    @property
    def stored(self) -> set[str]:
        """Event ids the receiver holds."""
        return {d.id for d in self.deliveries}

    @property
    def lost(self) -> int:
        """Acknowledged events the receiver never got."""
        return len(set(self.acknowledged_ids) - self.stored)

    @property
    def duplicates_at_receiver(self) -> int:
        """Deliveries of an id the receiver already held."""
        return len(self.deliveries) - len(self.stored)

    @property
    def redelivered(self) -> int:
        """Outbox rows that reached the receiver more than once."""
        return sum(1 for n in Counter(d.id for d in self.deliveries).values() if n > 1)

    @property
    def out_of_order(self) -> int:
        """First deliveries that came after a later-journalled event of the same door."""
        latest: dict[str | None, int] = {}
        seen: set[str] = set()
        count = 0
        for delivery in self.deliveries:
            if delivery.id in seen or delivery.id not in self.journal:
                continue
            seen.add(delivery.id)
            seq, door = self.journal[delivery.id]
            if seq < latest.get(door, 0):
                count += 1
            latest[door] = max(seq, latest.get(door, 0))
        return count

    @property
    def acknowledged_not_journalled(self) -> int:
        """Acknowledged events missing from the final journal (the hub's disk lost them)."""
        return len(set(self.acknowledged_ids) - set(self.journal))

    @property
    def delivered_not_journalled(self) -> int:
        """Events the receiver holds that the final journal does not (sent, then lost on the hub)."""
        return len(self.stored - set(self.journal))

    @property
    def journalled_unacknowledged(self) -> int:
        """Events committed whose acknowledgement the kill cut off (they still went up)."""
        return len(set(self.journal) - set(self.acknowledged_ids))

    def figures(self) -> dict[str, int]:
        """The JSON line's fields."""
        return {"cycles": self.cycles, "acknowledged": len(self.acknowledged_ids), "lost": self.lost,
                "duplicates_at_receiver": self.duplicates_at_receiver, "redelivered": self.redelivered,
                "out_of_order": self.out_of_order}


class _Children:
    """The template process and the lines its children write (one child at a time)."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.current_pid = 0  # the hub child alive now, if any
        self.lines: asyncio.Queue[str] = asyncio.Queue()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            line = raw.decode()
            if line.endswith("\n"):  # a line cut off by the kill was never said
                self.lines.put_nowait(line.rstrip("\n"))
        self.lines.put_nowait("EOF")

    async def next_line(self) -> str:
        line = await asyncio.wait_for(self.lines.get(), EXIT_TIMEOUT_S)
        if line == "EOF":
            raise DurabilityBenchError("the template process ended unexpectedly")
        return line

    def kill_current(self) -> None:
        if self.current_pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.current_pid, signal.SIGKILL)

    async def close(self) -> None:
        """End the template (and a hub child left alive by an error or an interrupt)."""
        self.kill_current()
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), EXIT_TIMEOUT_S)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        await self._reader


def _stderr_tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-3000:]
    except OSError:
        return ""


def _child_command(mode: str, db: Path, url: str, doors: int, hook: Path | None) -> list[str]:
    return [sys.executable, "-m", __name__, mode, str(db), url, str(doors), str(hook or "")]


async def measure(cycles: int, *, power_loss: bool = False, seed: int = 1, doors: int = 6, max_delay: float = 0.25,
                  work_dir: Path | None = None, child_hook: Path | None = None) -> DurabilityResult:
    """Run the bench; ``child_hook`` is a Python file every child runs first (tests use it to break things)."""
    from hub.uplink.secret import Secret

    began = time.monotonic()
    temporary = None
    if work_dir is None:
        temporary = tempfile.TemporaryDirectory(prefix="bench-durability-")
        work_dir = Path(temporary.name)
    try:
        return await _measure(cycles, power_loss, seed, doors, max_delay, work_dir.resolve(), child_hook, began,
                              Secret(os.urandom(32).hex()))
    finally:
        if temporary is not None:
            temporary.cleanup()


async def _measure(cycles: int, power_loss: bool, seed: int, doors: int, max_delay: float, work: Path,
                   child_hook: Path | None, began: float, secret: Any) -> DurabilityResult:
    db_dir, log_dir = work / "db", work / "powerloss-logs"
    for folder in (db_dir, log_dir):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    db = db_dir / "hub.db"
    stderr_path = work / "children.stderr"
    env = {**os.environ, SECRET_ENV: secret.reveal().decode()}
    if power_loss:
        env |= {"LD_PRELOAD": str(build_shim(work / "cache")), "POWERLOSS_DIR": str(db_dir),
                "POWERLOSS_LOG": str(log_dir)}
    rng = random.Random(seed)
    receiver = CountingReceiver(secret)
    await receiver.start()
    acknowledged: dict[str, str] = {}
    kills: Counter[str] = Counter()
    cuts = CutReport()
    try:
        with stderr_path.open("wb") as stderr:
            proc = await asyncio.create_subprocess_exec(
                *_child_command("template", db, receiver.url, doors, child_hook), env=env,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=stderr)
            children = _Children(proc)
            try:
                for _ in range(cycles):
                    await _one_cycle(children, rng, max_delay, receiver, acknowledged, kills)
                    if power_loss:
                        cut = power_cut(db_dir, log_dir)
                        cuts.writes_undone += cut.writes_undone
                        cuts.bytes_restored += cut.bytes_restored
                        cuts.files_removed += cut.files_removed
                        cuts.unlinks_kept += cut.unlinks_kept
                        cuts.notes += cut.notes
            except DurabilityBenchError as err:
                children.kill_current()
                proc.kill()
                raise DurabilityBenchError(f"{err}\n{_stderr_tail(stderr_path)}") from err
            finally:
                await children.close()
            drain_env = {k: v for k, v in env.items() if k not in ("LD_PRELOAD", "POWERLOSS_DIR", "POWERLOSS_LOG")}
            drain = await asyncio.create_subprocess_exec(
                *_child_command("drain", db, receiver.url, doors, child_hook), env=drain_env,
                stdout=asyncio.subprocess.PIPE, stderr=stderr)
            try:
                out, _ = await asyncio.wait_for(drain.communicate(), DRAIN_TIMEOUT_S)
            except TimeoutError:
                drain.kill()
                await drain.wait()
                raise DurabilityBenchError("the last child did not drain the outbox") from None
        if drain.returncode != 0 or b"DRAINED" not in out:
            raise DurabilityBenchError(f"the draining child failed:\n{_stderr_tail(stderr_path)}")
        journal, backlog = _read_journal(db)
        if backlog:
            raise DurabilityBenchError(f"{backlog} events still wait in the outbox after the drain")
    finally:
        await receiver.stop()
    return DurabilityResult(cycles=cycles, power_loss=power_loss, seed=seed, wall_s=time.monotonic() - began,
                            acknowledged_ids=acknowledged, deliveries=receiver.deliveries, journal=journal,
                            kills=kills, cut=cuts, rejected_requests=receiver.rejected_requests,
                            cut_off_requests=receiver.cut_off_requests)


async def _one_cycle(children: _Children, rng: random.Random, max_delay: float, receiver: CountingReceiver,
                     acknowledged: dict[str, str], kills: Counter[str]) -> None:
    assert children.proc.stdin is not None
    children.proc.stdin.write(f"run {rng.randrange(2**32)}\n".encode())
    await children.proc.stdin.drain()
    pid = 0
    while not pid:
        line = await children.next_line()
        if line.startswith("PID "):
            pid = children.current_pid = int(line.split()[1])
    await asyncio.sleep(rng.uniform(0.0, max_delay))
    sending = receiver.in_flight > 0
    children.kill_current()
    ready = False
    last = ""
    while True:
        line = await children.next_line()
        if line.startswith("EXIT "):
            status = int(line.split()[2])
            children.current_pid = 0
            if status != -signal.SIGKILL:
                raise DurabilityBenchError(f"a hub child ended by itself before its kill (status {status})")
            break
        if line == "READY":
            ready = True
        elif line.startswith("A "):
            _, uuid, door = line.split()
            acknowledged[uuid] = door
        last = line
    if not ready:
        kills["start-up"] += 1
    elif last == "B":
        kills["append"] += 1
    else:
        kills["between appends"] += 1
    if sending:
        kills["request at the receiver"] += 1
    await receiver.wait_idle()  # a request of the dead child still being read finishes before the next child starts


def _read_journal(db: Path) -> tuple[dict[str, tuple[int, str | None]], int]:
    conn = sqlite3.connect(str(db))
    try:
        rows = conn.execute("SELECT uuid, seq, door FROM events").fetchall()
        backlog = conn.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL").fetchone()
    finally:
        conn.close()
    return {str(uuid): (int(seq), door) for uuid, seq, door in rows}, int(backlog[0])


def summary(result: DurabilityResult) -> list[str]:
    """The human-readable part of the output."""
    figures = result.figures()
    mode = "power cut (writes after the last fsync lost)" if result.power_loss else "SIGKILL"
    lines = [f"durability bench: {result.cycles} cycles, kill = {mode}, seed {result.seed}",
             f"wall time {result.wall_s:.1f} s ({result.wall_s / max(1, result.cycles) * 1000:.0f} ms per cycle)",
             "kills landed: " + ", ".join(f"{k} {v}" for k, v in sorted(result.kills.items())),
             f"events journalled {len(result.journal)}, deliveries {len(result.deliveries)}, "
             f"stored {len(result.stored)}",
             f"journalled but not acknowledged (killed between commit and telling): {result.journalled_unacknowledged}",
             f"acknowledged but missing from the final journal: {result.acknowledged_not_journalled}",
             f"delivered but missing from the final journal: {result.delivered_not_journalled}",
             f"requests cut off by a kill while being sent: {result.cut_off_requests}",
             f"requests refused by the receiver: {result.rejected_requests}"]
    if result.power_loss:
        cut = result.cut
        lines.append(f"power cuts undid {cut.writes_undone} writes ({cut.bytes_restored} bytes restored), removed "
                     f"{len(cut.files_removed)} files created since the last folder fsync, kept {cut.unlinks_kept} "
                     f"unlinks (not modelled)")
        if cut.notes:
            lines.append(f"not modelled by the shim: {', '.join(sorted(set(cut.notes)))}")
    width = max(len(k) for k in figures)
    lines += [f"{'figure':<{width}}  value", f"{'-' * width}  -----"]
    lines += [f"{k:<{width}}  {v}" for k, v in figures.items()]
    return lines


def run(args: argparse.Namespace) -> int:
    """Run the bench and print the figures; exit 1 when an acknowledged event was lost or arrived out of order."""
    if args.cycles < 1:
        print("--cycles must be at least 1", file=sys.stderr)
        return 2
    try:
        result = asyncio.run(measure(args.cycles, power_loss=args.power_loss, seed=args.seed, doors=args.doors,
                                     max_delay=args.max_delay, work_dir=args.work_dir))
    except DurabilityBenchError as err:
        print(f"durability bench failed: {err}", file=sys.stderr)
        return 2
    for line in summary(result):
        print(line)
    figures = result.figures()
    print(json.dumps(figures))
    return 0 if figures["lost"] == 0 and figures["out_of_order"] == 0 else 1


# --- the children: the hub as the product runs it ----------------------------------------------------------------


def _say(line: str) -> None:
    os.write(1, (line + "\n").encode())  # one write per line: a kill never leaves half an acknowledgement


CARDS = 200  # residents with a card each; every decision is a card read at a door


def _prepare(community: Any, names: Sequence[str]) -> None:
    """Blocking, once per database (idempotent, one transaction): residents with cards, the doors, one rule."""
    from hub.access.models import AccessRule
    from hub.residents.store import transaction

    def job() -> None:
        registry = community.registry
        if registry.residents.count_residents():
            return
        with transaction(registry.conn):
            for i in range(CARDS):
                registry.residents.add_resident("bench", f"res-{i}", f"Resident {i}")
                registry.credentials.add_card("bench", f"res-{i}", str(10_000_000 + i))
            for name in names:
                community.ensure_door(name, name)
            community.access_config.add_rule("bench", AccessRule(rule_id="all", door_ids=frozenset(names),
                                                                 applies_to_all=True), name="Everyone")

    community.call(job)


def _latest_decision(community: Any, door: str) -> str:
    row = community.registry.conn.execute(
        "SELECT uuid FROM events WHERE kind = 'decision' AND door = ? ORDER BY seq DESC LIMIT 1", (door,)
    ).fetchone()
    return str(row[0])


async def _hub(mode: str, db: str, url: str, doors: int, seed: int) -> None:
    """The hub as the product runs it: the community's writer decides at the doors, journalling each decision
    with its attempt row in one transaction; the uplink worker sends the outbox. The child acknowledges a
    decision once the gate path returned it (its transaction committed)."""
    from datetime import UTC, datetime

    from hub.community import Community
    from hub.uplink import Backoff, FieldPolicy, JsonUplinkClient, Secret, UplinkWorker

    secret = Secret(os.environ[SECRET_ENV])
    # The key file lives outside the database folder (as in Home Assistant's storage): power cuts model the
    # database's files only.
    key = Path(db).parent.parent / "keys" / "hub.key"
    community = Community(Path(db), key, timezone=UTC, hub_id=HUB_ID)
    assert community.journal is not None
    # As in Home Assistant: the worker reads on its own connection and marks rows sent through the writer.
    worker = UplinkWorker(db, JsonUplinkClient(url, HUB_ID, secret), FieldPolicy(Secret(COMMUNITY_KEY)),
                          batch_size=SEND_BATCH, backoff=Backoff(base_s=0.01, cap_s=0.2),
                          writes=community.outbox_writes())
    community.journal.on_append = worker.wake
    names = [f"door-{i}" for i in range(doors)]
    await asyncio.to_thread(_prepare, community, names)
    await worker.start()
    _say("READY")
    if mode == "drain":
        await worker.wait_drained()
        await worker.stop()
        community.close()
        _say("DRAINED")
        return
    rng = random.Random(seed)
    while True:  # until killed
        door = rng.choice(names)
        card = str(10_000_000 + rng.randrange(CARDS))
        _say("B")
        await asyncio.wrap_future(community.submit(community.access.present_card, door, card, datetime.now(UTC)))
        community.decided()
        uuid = await asyncio.wrap_future(community.submit(_latest_decision, community, door))
        _say(f"A {uuid} {door}")
        await asyncio.sleep(rng.uniform(0.0, PAUSE_MAX_S))


def _template(db: str, url: str, doors: int) -> None:  # pragma: no cover - its children are killed, never report
    """Fork one hub child per ``run SEED`` line on stdin; report ``EXIT pid status`` once it is gone."""
    while line := sys.stdin.readline():
        seed = int(line.split()[1])
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.close(null)
                _say(f"PID {os.getpid()}")
                asyncio.run(_hub("journal", db, url, doors, seed))
                code = 0
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        _say(f"EXIT {pid} {os.waitstatus_to_exitcode(status)}")


def _main(argv: Sequence[str]) -> None:
    mode, db, url, doors, hook = argv
    if hook:
        import runpy

        runpy.run_path(hook)
    # Import what a hub child needs before forking, so a child starts in milliseconds.
    import aiohttp  # noqa: F401

    import hub.community
    import hub.journal
    import hub.uplink  # noqa: F401

    if mode == "template":
        _template(db, url, int(doors))
    else:
        asyncio.run(_hub(mode, db, url, int(doors), 0))


if __name__ == "__main__":
    _main(sys.argv[1:])
