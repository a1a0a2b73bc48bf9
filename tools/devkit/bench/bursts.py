"""``community-hub bench bursts``: recorded gate bursts through the gate's own face check, per kind.

``--gallery DIR`` holds ``<Name>/*.jpg``: each person is enrolled with the product's enrolment
(``CommunityFaces.enrol``: the photo check, then one template per accepted photo) into a real community database.
``--bursts DIR`` holds ``bona_fide/<Name>/<burst>/*.jpg`` and ``attack/<kind>/<Name>/<burst>/*.jpg``. Each burst's
frames are fed, in file-name order and ``--interval-ms`` apart (default: the gate's camera interval), to
``GateKeeper.camera_stream``, the call Home Assistant's gates make after presence: it looks for a visitor pass in
the first frames, takes frames until the gate's three show a face (a burst may hold more; the rest are not taken),
encodes each as it arrives, and decides for the gate's door. ``--liveness off`` builds the same gate with the
liveness check skipped and nothing else changed.

``accepted`` means let in as the right person (the person named by the burst's folder). Bursts of a person whose
gallery photos all failed the enrolment check are left out (and named): they are nobody's resident. An attack kind's
``accept_rate`` is its APCER; bona fide refusals say why (``not_live``, ``unknown_face``, ``ambiguous``,
``frames_disagree``, ``no_face``, ``wrong_person``). ``p50_ms`` is the median time from the last frame the gate
took to its decision. Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hub.access.models import FaceAssurance


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``community-hub bench bursts``."""
    parser.add_argument("--gallery", type=Path, required=True, help="folder of <Name>/*.jpg to enrol")
    parser.add_argument("--bursts", type=Path, required=True,
                        help="folder of bona_fide/<Name>/<burst>/*.jpg and attack/<kind>/<Name>/<burst>/*.jpg")
    parser.add_argument("--interval-ms", type=float, default=None,
                        help="time between frames (default: the gate's, 40 ms: a 25 fps camera)")
    parser.add_argument("--liveness", choices=("on", "off"), default="on",
                        help="'off' skips only the liveness check (what liveness costs residents)")
    parser.add_argument("--dump", type=Path, help="write every burst's outcome and liveness measurements here (JSON)")


@dataclass(frozen=True)
class Burst:
    """One recorded burst: its kind (``bona_fide`` or the attack's), whose face it shows, its frames."""

    kind: str
    person: str
    name: str
    frames: list[Path]


@dataclass
class Tally:
    """Outcomes of one kind of burst."""

    n: int = 0
    accepted: int = 0
    refusals: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, "accepted": self.accepted,
                "accept_rate": round(self.accepted / self.n, 4) if self.n else 0.0,
                "refusals": dict(sorted(self.refusals.items()))}


def _jpegs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".jpg", ".jpeg"))


def find_bursts(root: Path) -> list[Burst]:
    """Every burst under ``root`` (bona fide first, then attacks by kind), frames in file-name order."""
    bursts: list[Burst] = []

    def people(folder: Path, kind: str) -> None:
        for person in sorted(p for p in folder.iterdir() if p.is_dir()):
            for burst in sorted(b for b in person.iterdir() if b.is_dir()):
                frames = _jpegs(burst)
                if frames:
                    bursts.append(Burst(kind, person.name, burst.name, frames))

    if (root / "bona_fide").is_dir():
        people(root / "bona_fide", "bona_fide")
    if (root / "attack").is_dir():
        for kind in sorted(k for k in (root / "attack").iterdir() if k.is_dir()):
            people(kind, kind.name)
    return bursts


def _prepare(gallery: Path, work: Path, liveness: bool) -> tuple[Any, Any, dict[str, str]]:
    """A community with everyone in ``gallery`` enrolled by the product's enrolment, and one face gate."""
    from hub.access.models import AccessRule
    from hub.community import Community
    from hub.exceptions import InvalidInputError
    from hub.face_gate import CommunityFaces, FaceBurst
    from hub.faces.liveness import DEFAULT_LIVENESS

    class Counted(FaceBurst):
        """The gate's burst, unchanged; counts the frames the gate handed it (the last one starts the clock)."""

        added = 0

        def add(self, frame: bytes) -> bool:
            self.added += 1
            return super().add(frame)

    class Observed(CommunityFaces):
        """The gate's verifier, unchanged; the bench keeps each burst it starts to read why it was refused."""

        started: list[Counted]

        def start(self) -> FaceBurst:
            burst = Counted(self)
            self.started.append(burst)
            return burst

    community = Community(work / "c.db", work / "keys" / "k.key", timezone=ZoneInfo("UTC"))
    faces = Observed(community, liveness=DEFAULT_LIVENESS if liveness else None)
    faces.started = []
    ids: dict[str, str] = {}
    for i, folder in enumerate(sorted(p for p in gallery.iterdir() if p.is_dir())):
        photos = _jpegs(folder)
        if not photos:
            continue
        rid = f"r-{i}"
        community.registry.residents.add_resident("bench", rid, folder.name.replace("_", " "))
        community.registry.consents.record_consent("bench", rid, scope="benchmark", given_at=datetime.now(UTC))
        try:
            faces.enrol("bench", rid, [p.read_bytes() for p in photos])
        except InvalidInputError as err:
            print(f"  {folder.name}: not enrolled ({err})")
            continue
        ids[folder.name] = rid
    community.ensure_door("gate", "Gate", face=True)
    # The bench measures what a face alone decides (face assurance "face_alone").
    community.set_face_assurance("gate", FaceAssurance.FACE_ALONE)
    community.access_config.add_rule("bench", AccessRule(rule_id="all", door_ids=frozenset({"gate"}),
                                                         applies_to_all=True), name="All")
    faces.gallery()  # decrypted once, as a running hub has it
    return community, faces, ids


async def _measure(args: argparse.Namespace, bursts: list[Burst], prepared: tuple[Any, Any, dict[str, str]]
                   ) -> list[dict[str, Any]]:
    from hub.gate import AccessPoint, GateKeeper

    community, faces, ids = prepared
    started_bursts = faces.started
    releases: list[int] = []

    async def release() -> None:
        releases.append(1)

    keeper = GateKeeper(community, asyncio.to_thread, faces=faces)
    point = AccessPoint("gate", "Gate", release)
    loop = asyncio.get_running_loop()
    rows: list[dict[str, Any]] = []
    interval = args.interval_ms / 1000
    for burst in bursts:
        data = [p.read_bytes() for p in burst.frames]  # read before the clock starts: a camera sends bytes
        taken: list[float] = []

        async def frames(data: list[bytes] = data, taken: list[float] = taken) -> AsyncIterator[bytes]:
            """The camera: each frame at its moment on the camera's cadence, handed on as it arrives."""
            start = loop.time()
            for i, frame in enumerate(data):
                await asyncio.sleep(max(0.0, start + i * interval - loop.time()))
                taken.append(time.perf_counter())
                yield frame

        started_bursts.clear()
        outcome = await keeper.camera_stream(point, frames())
        decided = time.perf_counter()
        result = started_bursts[0].result if started_bursts else None
        # The gate's last frame: the one that completed its burst (the camera may have sent more meanwhile).
        used = started_bursts[0].added if started_bursts else len(taken)
        rid = ids.get(burst.person)
        if outcome is None:
            reason = "no_face"
        elif outcome.decision.granted and outcome.decision.resident_id == rid and rid is not None:
            reason = "accepted"
        elif outcome.decision.granted:
            reason = "wrong_person"
        elif result is not None:
            reason = result.outcome.value
        else:
            reason = outcome.decision.reason.value
        live = result.liveness if result is not None else None
        rows.append({
            "kind": burst.kind, "person": burst.person, "burst": burst.name, "outcome": reason,
            "frames_used": used, "decision_ms": (decided - taken[used - 1]) * 1000 if used else None,
            "liveness": None if live is None else {
                "live": live.live, "score": round(live.score, 4), "template_step": round(live.encoding_spread, 4),
                "chip_step": round(1 - live.chip_consistency, 4), "residual": round(live.landmark_residual, 4),
                "frames": live.frames},
        })
    return rows


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON figures: bona fide and each attack kind's tally, and the median decision time."""
    bona = Tally()
    attacks: dict[str, Tally] = {}
    for row in rows:
        tally = bona if row["kind"] == "bona_fide" else attacks.setdefault(row["kind"], Tally())
        tally.n += 1
        if row["outcome"] == "accepted":
            tally.accepted += 1
        else:
            tally.refusals[row["outcome"]] += 1
    times = [r["decision_ms"] for r in rows if r["decision_ms"] is not None]
    return {"bona_fide": bona.as_dict(), "attack": {k: t.as_dict() for k, t in sorted(attacks.items())},
            "p50_ms": round(statistics.median(times), 1) if times else None}


def run(args: argparse.Namespace) -> int:
    """Run the benchmark."""
    from hub.gate import FRAME_INTERVAL_S

    logging.getLogger().setLevel(logging.WARNING)
    args.interval_ms = FRAME_INTERVAL_S * 1000 if args.interval_ms is None else args.interval_ms
    if args.interval_ms < 0:
        print("--interval-ms must be 0 or more")
        return 2
    if not args.gallery.is_dir() or not args.bursts.is_dir():
        print(f"need --gallery DIR and --bursts DIR (folders): {args.gallery}, {args.bursts}")
        return 2
    bursts = find_bursts(args.bursts)
    if not bursts:
        print(f"no bursts under {args.bursts} (bona_fide/<Name>/<burst>/*.jpg, attack/<kind>/<Name>/<burst>/*.jpg)")
        return 2
    with tempfile.TemporaryDirectory() as work:
        prepared = _prepare(args.gallery, Path(work), args.liveness == "on")
        try:
            if not prepared[2]:
                print(f"nobody under {args.gallery} could be enrolled")
                return 2
            enrolled = prepared[2]
            skipped = [b for b in bursts if b.person not in enrolled]
            if skipped:
                names = sorted({b.person for b in skipped})
                print(f"  {len(skipped)} bursts of {len(names)} people not enrolled left out: {', '.join(names)}")
            rows = asyncio.run(_measure(args, [b for b in bursts if b.person in enrolled], prepared))
        finally:
            prepared[0].close()
    if args.dump is not None:
        args.dump.write_text(json.dumps(rows, indent=1))
    figures = summarise(rows)
    print(f"bench bursts: {len(prepared[2])} enrolled, liveness {args.liveness}, frames {args.interval_ms:g} ms apart")
    print(f"  {'kind':<18} {'n':>4} {'accepted':>9} {'rate':>6}  refusals")
    for kind, tally in [("bona_fide", figures["bona_fide"]), *figures["attack"].items()]:
        refusals = ", ".join(f"{k} {v}" for k, v in tally["refusals"].items()) or "-"
        print(f"  {kind:<18} {tally['n']:>4} {tally['accepted']:>9} {tally['accept_rate']:>6.3f}  {refusals}")
    for name in sorted({r["burst"] for r in rows if r["kind"] == "bona_fide"}):
        chosen = [r for r in rows if r["kind"] == "bona_fide" and r["burst"] == name]
        if len(chosen) < len(rows):
            part = summarise(chosen)["bona_fide"]
            refusals = ", ".join(f"{k} {v}" for k, v in part["refusals"].items()) or "-"
            label = f"  bona fide {name}"
            print(f"  {label:<18} {part['n']:>4} {part['accepted']:>9} {part['accept_rate']:>6.3f}  {refusals}")
    print(f"  decision after the last frame taken: p50 {figures['p50_ms']} ms")
    print(json.dumps(figures))
    return 0
