"""``community-hub bench scale``: does a gate decision stay as fast when the community is large, and right after
a manager's enrolment?

Builds a community of ``--residents`` people with ``--templates`` face templates each (random unit vectors,
encrypted and stored by the product's own stores; the fill is one transaction so it takes minutes, not hours),
with the journal on, then measures on the product's path:

- ``gallery_load_s``: the first decryption of the whole gallery (once per process);
- ``decision_p50_ms``: a face decision: the 1:N search of a probe near a resident's template, then the decision
  job on the community's writer (rules, attempt row, journal row and outbox row, one commit);
- ``decision_after_enrolment_ms``: the same, each right after a new resident was added, consented and enrolled
  (the gallery follows the change; no reload);
- ``decision_p50_ms_without_journal_row``: the same decisions with the journal row left out of the transaction
  (what writing the record before the release costs the gate);
- ``summary_ms``: the counts the sensors show;
- ``decision_during_import_max_ms`` (and ``_p50_ms``): face decisions made back to back while a manager's bulk
  import of ``--import-rows`` residents with cards (a CSV as the panel uploads it) runs on another thread; the
  import's checks and writes are small writer jobs, so a decision waits for one of them at most.

Prints a table and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from hub.access.models import FaceAssurance

Vectors = npt.NDArray[np.float32]

DOOR = "bench-gate"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``community-hub bench scale``."""
    parser.add_argument("--residents", type=int, default=10_000, help="residents in the community (default 10000)")
    parser.add_argument("--templates", type=int, default=3, help="face templates per resident (default 3)")
    parser.add_argument("--decisions", type=int, default=200, help="decisions measured (default 200)")
    parser.add_argument("--enrolments", type=int, default=30,
                        help="enrolments, each followed by a measured decision (default 30)")
    parser.add_argument("--import-rows", type=int, default=10_000,
                        help="residents in the bulk import run during decisions (default 10000, the most a file holds)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=None, help="folder for the database (default: a temp dir)")


def _unit(rng: np.random.Generator, n: int) -> Vectors:
    rows = rng.normal(size=(n, 128)).astype(np.float32)
    unit: Vectors = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    return unit


def _fill(community: Any, residents: int, templates: int, rng: np.random.Generator) -> None:
    from hub.access.models import AccessRule
    from hub.residents.store import transaction

    registry = community.registry
    now = datetime.now(UTC)

    def fill() -> None:
        with transaction(registry.conn):  # the stores' own transactions nest as savepoints: one commit
            for i in range(residents):
                rid = f"r-{i:06d}"
                registry.residents.add_resident("bench", rid, f"Resident {i}")
                registry.consents.record_consent("bench", rid, scope="benchmark", given_at=now)
                registry.faces.enrol_templates("bench", rid, list(_unit(rng, templates)))

    community.call(fill)
    community.ensure_door(DOOR, "Bench gate", face=True)
    # The bench measures what a face alone decides (face assurance "face_alone").
    community.set_face_assurance(DOOR, FaceAssurance.FACE_ALONE)
    community.call(community.access_config.add_rule, "bench",
                   AccessRule(rule_id="all", door_ids=frozenset({DOOR}), applies_to_all=True), name="All")


def _decide(community: Any, faces: Any, probe: Vectors) -> float:
    """One face decision, timed: search, then the decision job on the writer."""
    from hub.access.models import FaceMatch

    start = time.perf_counter()
    found = faces.gallery().search(probe)
    match = FaceMatch(resident_id=found.person_id, distance=found.distance, live=True)
    community.call(community.access.present_face, DOOR, match, datetime.now(UTC))
    community.decided()
    return (time.perf_counter() - start) * 1000


def _near(rng: np.random.Generator, template: Vectors) -> Vectors:
    probe = template + rng.normal(scale=0.02, size=template.shape).astype(np.float32)
    near: Vectors = (probe / np.linalg.norm(probe)).astype(np.float32)
    return near


def _during_import(community: Any, faces: Any, matcher: Any, people: list[str], rng: np.random.Generator,
                   rows: int) -> tuple[list[float], float]:
    """Face decisions back to back while a bulk import runs on another thread (as the panel's upload does)."""
    import threading

    csv_text = "resident_id,full_name,building,unit,card_number\n" + "".join(
        f"imp-{i:05d},Imported {i},B{i % 20},{i % 300},{40_000_000 + i}\n" for i in range(rows))
    outcome: dict[str, Any] = {}

    def run_import() -> None:
        started = time.perf_counter()
        outcome["report"] = community.import_residents("bench", csv_text, {})
        outcome["seconds"] = time.perf_counter() - started

    importing = threading.Thread(target=run_import, name="bench-import")
    importing.start()
    during: list[float] = []
    while True:  # at least one decision, however short the import
        person = people[int(rng.integers(len(people)))]
        during.append(_decide(community, faces, _near(rng, matcher.templates_of(person)[0])))
        if not importing.is_alive():
            break
    importing.join()
    if not outcome["report"].imported:
        raise SystemExit(f"the bench's import failed: {outcome['report'].errors}")
    return during, float(outcome["seconds"])


def run(args: argparse.Namespace) -> int:
    """Run ``community-hub bench scale``."""
    from hub.community import Community
    from hub.face_gate import CommunityFaces

    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        community = Community(work / "scale.db", work / "keys" / "k.key", timezone=ZoneInfo("UTC"),
                              hub_id="bench-scale")
        try:
            started = time.perf_counter()
            _fill(community, args.residents, args.templates, rng)
            fill_s = time.perf_counter() - started
            faces = CommunityFaces(community)
            started = time.perf_counter()
            matcher = faces.gallery()
            gallery_load_s = time.perf_counter() - started
            people = matcher.people()
            picks = rng.integers(0, len(people), size=args.decisions)
            decisions = [_decide(community, faces, _near(rng, matcher.templates_of(people[i])[0])) for i in picks]
            # What journalling in the decision's transaction costs the gate: the same decisions without it.
            journal_hook, community.access.on_record = community.access.on_record, None
            unjournalled = [_decide(community, faces, _near(rng, matcher.templates_of(people[i])[0]))
                            for i in picks]
            community.access.on_record = journal_hook
            after: list[float] = []
            now = datetime.now(UTC)
            registry = community.registry
            for k in range(args.enrolments):
                rid = f"new-{k:04d}"
                community.call(registry.residents.add_resident, "bench", rid, f"Newcomer {k}")
                community.call(registry.consents.record_consent, "bench", rid, scope="benchmark", given_at=now)
                enrolled = _unit(rng, args.templates)
                community.call(registry.faces.enrol_templates, "bench", rid, list(enrolled))
                after.append(_decide(community, faces, _near(rng, enrolled[0])))
            during, import_s = _during_import(community, faces, matcher, people, rng, args.import_rows)
            summaries = []
            for _ in range(20):
                started = time.perf_counter()
                community.summary()
                summaries.append((time.perf_counter() - started) * 1000)
            result = {
                "residents": args.residents,
                "templates": len(faces.gallery()),
                "fill_s": round(fill_s, 1),
                "gallery_load_s": round(gallery_load_s, 3),
                "gallery_reloads": faces.reloads,
                "decision_p50_ms": round(statistics.median(decisions), 2),
                "decision_p99_ms": round(float(np.percentile(decisions, 99)), 2),
                "decision_p50_ms_without_journal_row": round(statistics.median(unjournalled), 2),
                "decision_after_enrolment_ms": round(statistics.median(after), 2) if after else None,
                "summary_ms": round(statistics.median(summaries), 2),
                "import_rows": args.import_rows,
                "import_s": round(import_s, 2),
                "decisions_during_import": len(during),
                "decision_during_import_p50_ms": round(statistics.median(during), 2) if during else None,
                "decision_during_import_max_ms": round(max(during), 2) if during else None,
            }
        finally:
            community.close()
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(result))
    return 0
