"""Drives a server with wrk (Debian's package) over a list of paths, and parses what it measured."""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.cpu import ForeignCpuMeter
from bench.errors import BenchError
from bench.options import usable_cores
from bench.rss import PeakRssSampler
from bench.stats import RunStats
from bench.tools import require_tool

LUA_SCRIPT = Path(__file__).resolve().parent / "lua" / "paths.lua"
_MARKER = "BENCH_JSON "
# Misses of 5120 px images queue behind each other at concurrency 16 on two cores; wrk's default
# 2 s timeout would count slow answers as errors instead of measuring them.
_REQUEST_TIMEOUT_S = 60


@dataclass(frozen=True)
class Load:
    base_url: str  # "http://127.0.0.1:8080"
    paths: Sequence[str]
    bust: bool  # append a unique v= to every request (a new cache key each time)
    concurrency: int
    duration_s: float
    # A new connection per request. thumbor's forked processes share one listening socket and a
    # kept-alive connection stays with the process that accepted it: measured, one run of photo-miss
    # had all 8 connections in one process (CPU ticks 567 / 0, 32 req/s) where reconnecting spread
    # them (398 / 415, 47 req/s). Misses come from many browsers, so miss workloads reconnect (a
    # loopback connect is ~0.1 ms against a 20-1000 ms transform); hits keep their connections,
    # where reconnecting would cost more than the answer (imgate 18k -> 10k req/s).
    reconnect: bool = False
    # The Host header to send instead of base_url's (a custom domain served by the gateway at base_url).
    host: str = ""
    # "each" or "burst": "{origin}" in the paths becomes a new tag per request or per pass (see paths.lua).
    originals: str = ""


def run_load(load: Load, work_dir: Path, rss_roots: Sequence[int] = ()) -> RunStats:
    wrk = require_tool("wrk")
    work_dir.mkdir(parents=True, exist_ok=True)
    paths_file = work_dir / f"paths-{secrets.token_hex(4)}.txt"
    paths_file.write_text("".join(f"{path}\n" for path in load.paths))
    # One wrk thread per core at most: wrk shares the cores with the servers it measures.
    threads = max(1, min(usable_cores(), load.concurrency))
    argv = [
        wrk,
        f"-t{threads}",
        f"-c{load.concurrency}",
        f"-d{load.duration_s:g}s",
        f"--timeout={_REQUEST_TIMEOUT_S}s",
        "-s",
        str(LUA_SCRIPT),
        load.base_url,
        "--",
        str(paths_file),
        "bust" if load.bust else "plain",
        secrets.token_hex(6),
        str(threads),
        "close" if load.reconnect else "keep-alive",
        load.host,
        load.originals,
    ]
    try:
        with ForeignCpuMeter(rss_roots) as meter, PeakRssSampler(rss_roots) as sampler:
            completed = subprocess.run(  # noqa: S603 - argv is built here, never a shell
                argv, capture_output=True, text=True, timeout=load.duration_s + _REQUEST_TIMEOUT_S + 30
            )
    finally:
        paths_file.unlink(missing_ok=True)
    if completed.returncode != 0:
        raise BenchError(f"wrk failed ({completed.returncode}): {completed.stderr.strip()[-500:]}")
    stats = parse_wrk_output(completed.stdout)
    peak = sampler.peak_bytes if rss_roots else None
    return replace(stats, peak_rss_bytes=peak, other_cpu=meter.share)


def parse_wrk_output(stdout: str) -> RunStats:
    """Reads the line paths.lua's done() prints; wrk's own human summary is ignored."""
    for line in stdout.splitlines():
        if line.startswith(_MARKER):
            return _stats_from(json.loads(line[len(_MARKER) :]))
    raise BenchError(f"wrk printed no result line; its output ended with: {stdout.strip()[-500:]}")


def _stats_from(raw: dict[str, Any]) -> RunStats:
    socket_errors = int(raw["connect"]) + int(raw["read"]) + int(raw["write"]) + int(raw["timeout"])
    # status counts answers >= 400; non2xx is a superset of it.
    bad_answers = max(int(raw["status"]), int(raw["non2xx"]))
    requests = int(raw["requests"])
    good = max(0, requests - bad_answers)
    seconds = max(int(raw["duration_us"]), 1) / 1e6
    return RunStats(
        requests_per_s=good / seconds,
        p50_ms=int(raw["p50_us"]) / 1000,
        p99_ms=int(raw["p99_us"]) / 1000,
        errors=socket_errors + bad_answers,
        requests=requests,
    )
