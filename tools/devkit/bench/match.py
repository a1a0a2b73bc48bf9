"""``community-hub bench match``: how long one 1:N search takes over N enrolled templates."""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from hub.faces.matcher import Matcher
from hub.faces.models import TEMPLATE_DIMENSIONS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--templates", type=int, default=100_000, help="templates in the gallery (default 100000)")
    parser.add_argument("--per-person", type=int, default=1, help="templates per enrolled person (default 1)")
    parser.add_argument("--queries", type=int, default=200, help="searches to time (default 200)")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    rng = np.random.default_rng(args.seed)
    templates = rng.standard_normal((args.templates, TEMPLATE_DIMENSIONS), dtype=np.float32)
    person_ids = [f"p{i // max(args.per_person, 1)}" for i in range(args.templates)]
    started = time.perf_counter()
    matcher = Matcher.from_arrays(person_ids, templates)
    load_s = time.perf_counter() - started
    probes = rng.standard_normal((args.queries, TEMPLATE_DIMENSIONS), dtype=np.float32)
    matcher.search(probes[0])  # warm-up: page in the matrix and BLAS
    times = []
    for probe in probes:
        started = time.perf_counter()
        matcher.search(probe)
        times.append(time.perf_counter() - started)
    burst = probes[:5]
    started = time.perf_counter()
    for _ in range(20):
        matcher.search_many(burst)
    burst_ms = (time.perf_counter() - started) / 20 * 1000
    ms = np.asarray(times) * 1000
    figures = {
        "templates": args.templates,
        "people": matcher.person_count,
        "ms_per_query": round(float(np.median(ms)), 3),
        "ms_per_query_p95": round(float(np.percentile(ms, 95)), 3),
        "ms_per_5_frame_burst": round(burst_ms, 3),
        "mb": round(matcher.nbytes / 1e6, 1),
        "load_s": round(load_s, 3),
    }
    print("1:N search over unit float32 templates (one matrix-vector product per probe)")
    for key, value in figures.items():
        print(f"  {key:<22} {value}")
    print(json.dumps(figures))
    return 0
