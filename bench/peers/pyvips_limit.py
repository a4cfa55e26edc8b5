"""The bare-pyvips limit: bench/pyvips_loop.py run four ways, the best one taken as the limit.

Two layouts: (a) one process with a thread pool of `cores` threads (libvips' own threads at their default);
(b) one process per core, each single-threaded with VIPS_CONCURRENCY=1. On two cores (b) wins: threads fight
over the GIL and libvips' own worker threads over the cores.
Two drivings (see pyvips_loop.py): `thumbnail_buffer`, and scale-on-load + `resize` (imgproxy's way). The limit
is what libvips can do, the fastest of them; the best `thumbnail_buffer` loop is reported beside it.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bench.cpu import ForeignCpuMeter
from bench.errors import BenchError
from bench.jobs import Job
from bench.rss import PeakRssSampler
from bench.stats import RunStats

LOOP_SCRIPT = Path(__file__).resolve().parent.parent / "pyvips_loop.py"


@dataclass(frozen=True)
class LoopVariant:
    label: str
    processes: int
    threads: int
    vips_concurrency: int | None  # None: libvips' default (one thread per core)
    driving: str = "thumbnail"  # pyvips_loop.py --driving


DRIVING_LABELS = {"thumbnail": "thumbnail_buffer", "scaled": "scale-on-load + resize"}


def variants(cores: int) -> list[LoopVariant]:
    return [
        LoopVariant(f"pyvips {DRIVING_LABELS[driving]}, {layout}", processes, threads, concurrency, driving)
        for driving in DRIVING_LABELS
        for layout, processes, threads, concurrency in (
            (f"1 proc x {cores} threads", 1, cores, None),
            (f"{cores} procs, VIPS_CONCURRENCY=1", cores, 1, 1),
        )
    ]


def run_loop(variant: LoopVariant, jobs: Sequence[Job], corpus: Path, work_dir: Path, duration_s: float) -> RunStats:
    work_dir.mkdir(parents=True, exist_ok=True)
    spec_file = work_dir / f"pyvips-jobs-{secrets.token_hex(4)}.json"
    spec = {
        "corpus": str(corpus),
        "jobs": [{"source": j.source, "width": j.width, "suffix": j.vips_suffix} for j in jobs],
    }
    spec_file.write_text(json.dumps(spec))
    try:
        # The loops' CPU time reaches the meter through RUSAGE_CHILDREN once they are waited for.
        with ForeignCpuMeter([]) as meter:
            results, peak_rss = _run_processes(variant, spec_file, len(jobs), duration_s)
    finally:
        spec_file.unlink(missing_ok=True)
    return replace(_combine(results, peak_rss), other_cpu=meter.share)


def _run_processes(
    variant: LoopVariant, spec_file: Path, job_count: int, duration_s: float
) -> tuple[list[dict[str, object]], int]:
    env = dict(os.environ)
    env.pop("VIPS_CONCURRENCY", None)
    if variant.vips_concurrency is not None:
        env["VIPS_CONCURRENCY"] = str(variant.vips_concurrency)
    spread = max(1, job_count // variant.processes)
    base = [sys.executable, str(LOOP_SCRIPT), str(spec_file), "--threads", str(variant.threads)]
    base += ["--driving", variant.driving]
    children = [
        subprocess.Popen(  # noqa: S603 - our own script with the running interpreter
            [*base, "--duration", f"{duration_s:g}", "--offset", str(n * spread)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for n in range(variant.processes)
    ]
    try:
        with PeakRssSampler([child.pid for child in children]) as sampler:
            outputs = [child.communicate(timeout=duration_s + 120) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    results = []
    for child, (stdout, stderr) in zip(children, outputs, strict=True):
        if child.returncode != 0:
            raise BenchError(f"{variant.label} failed: {stderr.strip()[-500:]}")
        results.append(json.loads(stdout))
    return results, sampler.peak_bytes


def _combine(results: list[dict[str, object]], peak_rss: int) -> RunStats:
    latencies: list[float] = []
    rate = 0.0
    for result in results:
        values = result["latencies_ms"]
        seconds = result["seconds"]
        if not isinstance(values, list) or not isinstance(seconds, float | int):
            raise BenchError("pyvips loop printed an unexpected result")
        latencies.extend(float(value) for value in values)
        rate += len(values) / max(float(seconds), 1e-9)
    if not latencies:
        raise BenchError("pyvips loop made no images in its run time")
    percentiles = statistics.quantiles(latencies, n=100, method="inclusive")
    return RunStats(
        requests_per_s=rate,
        p50_ms=statistics.median(latencies),
        p99_ms=percentiles[98],
        errors=0,
        requests=len(latencies),
        peak_rss_bytes=peak_rss,
    )
