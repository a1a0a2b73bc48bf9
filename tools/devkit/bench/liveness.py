"""``community-hub bench liveness``: APCER and BPCER of the burst liveness check on held-up photo attacks.

Attack bursts are one still photo moved, scaled, rotated and tilted in front of the camera (hub.faces.bursts);
bona fide bursts are different real photos of the same person. APCER = attacks judged live / attacks;
BPCER = bona fide bursts judged not live / bona fide bursts (ISO/IEC 30107-3 terms).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from hub.faces.paths import shared_faces_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--faces", type=Path, help="the shared faces folder (community/ and lfw-dev/images/)")
    parser.add_argument("--bursts", type=int, default=3, help="attack and bona fide bursts per person (default 3)")
    parser.add_argument("--frames", type=int, default=5, help="frames per burst (default 5)")
    parser.add_argument("--lfw-people", type=int, default=20, help="LFW people with 5+ photos to use (default 20)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--dump", type=Path, help="write every burst's measurements to this JSON file")


def people_with_photos(root: Path, minimum: int, limit: int | None = None) -> dict[str, list[Path]]:
    """Person folder -> sorted photos, for people with at least ``minimum`` photos (first ``limit`` by name)."""
    people = {}
    if root.is_dir():
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            photos = sorted(folder.glob("*.jpg"))
            if len(photos) >= minimum:
                people[folder.name] = photos
    return dict(list(people.items())[:limit]) if limit is not None else people


def run(args: argparse.Namespace) -> int:
    from hub.faces.bursts import attack_burst, bona_fide_burst
    from hub.faces.imaging import to_rgb
    from hub.faces.liveness import assess_liveness, homography_residual
    from hub.faces.pipeline import encode_burst

    faces: Path = args.faces or shared_faces_dir()
    sources = {
        "community": people_with_photos(faces / "community", args.frames),
        "lfw": people_with_photos(faces / "lfw-dev" / "images", args.frames, args.lfw_people),
    }
    if not any(sources.values()):
        print(f"no people with {args.frames}+ photos under {faces}")
        return 2
    rng = np.random.default_rng(args.seed)
    rows: list[dict[str, Any]] = []
    for source, people in sources.items():
        for name, photos in people.items():
            for _ in range(args.bursts):
                chosen = [to_rgb(photos[i]) for i in rng.choice(len(photos), args.frames, replace=False)]
                for kind, frames in (
                    ("bona_fide", bona_fide_burst(chosen, rng)),
                    ("attack", attack_burst(chosen[0], args.frames, rng)),
                ):
                    burst = encode_burst(frames)
                    result = assess_liveness(burst.faces, burst.templates, burst.chips)
                    residuals = [homography_residual(burst.faces[0], f) for f in burst.faces[1:]]
                    rows.append({"source": source, "kind": kind, "person": name, "live": result.live,
                                 "score": result.score, "residual": result.landmark_residual,
                                 "spread": result.encoding_spread, "faces": result.frames,
                                 "frame_residuals": residuals, "chip_ncc": result.chip_consistency})
    if args.dump is not None:
        args.dump.write_text(json.dumps(rows, indent=1))
    figures: dict[str, Any] = {}
    print(f"Liveness over {args.frames}-frame bursts ({args.bursts} of each kind per person)")
    header = f"  {'source':<10} {'attacks':>8} {'APCER':>7} {'bona fide':>10} {'BPCER':>7}"
    print(f"{header}  attack score max / bona fide min")
    for source in [*sources, "all"]:
        chosen_rows = [r for r in rows if source in ("all", r["source"])]
        attacks = [r for r in chosen_rows if r["kind"] == "attack"]
        bona = [r for r in chosen_rows if r["kind"] == "bona_fide"]
        if not attacks or not bona:
            continue
        apcer = sum(r["live"] for r in attacks) / len(attacks)
        bpcer = sum(not r["live"] for r in bona) / len(bona)
        worst_attack = max(r["score"] for r in attacks)
        worst_bona = min(r["score"] for r in bona)
        print(f"  {source:<10} {len(attacks):>8} {apcer:>7.3f} {len(bona):>10} {bpcer:>7.3f}  "
              f"{worst_attack:.2f} / {worst_bona:.2f}")
        prefix = "" if source == "all" else f"{source}_"
        figures.update({f"{prefix}apcer": round(apcer, 4), f"{prefix}bpcer": round(bpcer, 4),
                        f"{prefix}attack_bursts": len(attacks), f"{prefix}bona_fide_bursts": len(bona)})
    print(json.dumps(figures))
    return 0
