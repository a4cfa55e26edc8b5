"""What one bench run measures and where it reads and writes: parsed once from the command line."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "bench-results"

# The shared real-image corpus sits beside the clone; a fresh clone elsewhere falls back to the
# project's own (smaller) copies so the harness still runs end to end.
_CORPUS_CANDIDATES = (
    REPO.parent / "shared" / "corpus",
    REPO / "tests" / "fixtures" / "images",
    REPO / "config" / "demo" / "images",
)

CONCURRENCY = 8
MEMORY_CONCURRENCY = 16


@dataclass(frozen=True)
class BenchOptions:
    corpus: Path
    duration_s: float
    repeats: int
    only: frozenset[str] | None
    concurrency: int
    memory_concurrency: int
    cores: int
    results_dir: Path

    @property
    def work_dir(self) -> Path:
        return self.results_dir / "work"


def default_corpus() -> Path:
    for candidate in _CORPUS_CANDIDATES:
        if candidate.is_dir() and any(candidate.iterdir()):
            return candidate
    return _CORPUS_CANDIDATES[0]


def usable_cores() -> int:
    # sched_getaffinity respects cgroup/taskset limits that os.cpu_count() ignores.
    return max(1, len(os.sched_getaffinity(0)))


def parse_options(argv: Sequence[str] | None = None) -> BenchOptions:
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description="Benchmark imgate against thumbor, bare pyvips and nginx on this machine.",
    )
    parser.add_argument("--corpus", type=Path, default=None, help="folder of source images")
    parser.add_argument("--quick", action="store_true", help="3 s per run, 1 repeat (a smoke test)")
    parser.add_argument("--duration", type=float, default=None, help="seconds per run (default 10)")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per workload (default 3)")
    parser.add_argument("--only", default=None, help="comma-separated workload names")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help="connections (default 8)")
    args = parser.parse_args(argv)

    duration = args.duration if args.duration is not None else (3.0 if args.quick else 10.0)
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 3)
    if duration <= 0 or repeats < 1 or args.concurrency < 1:
        parser.error("--duration, --repeats and --concurrency must be positive")
    corpus = (args.corpus or default_corpus()).resolve()
    if not corpus.is_dir():
        parser.error(f"corpus folder not found: {corpus}")
    only = frozenset(name.strip() for name in args.only.split(",") if name.strip()) if args.only else None
    return BenchOptions(
        corpus=corpus,
        duration_s=duration,
        repeats=repeats,
        only=only,
        concurrency=args.concurrency,
        memory_concurrency=MEMORY_CONCURRENCY,
        cores=usable_cores(),
        results_dir=RESULTS_DIR,
    )
