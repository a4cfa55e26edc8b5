"""Workload 4b: `hit-one-limits`, what the rate limiter costs a cache hit.

One hot URL, as in `hit-one`, on three gateways started side by side and timed one after the other in
every repeat: `limits off` (`limiter = "off"`), `local limiter` (the node-wide table, the default) and
`imgate` (`limiter = "redis"`, a `redis-server` the bench starts on loopback). Each bench workspace's
limits are raised so that nothing is refused: the cost measured is the limiter's bookkeeping and its
headers, not refusals. The ratios are the Redis limiter's and the local one's over limits off.
"""

from __future__ import annotations

import socket
import statistics
import time
import urllib.request
from pathlib import Path

from bench.errors import BenchError
from bench.jobs import Job, hot_job
from bench.peers.gateway import GatewayPeer
from bench.probe import fetch_checked, mean_size
from bench.progress import log
from bench.registry import workload
from bench.results import SUBJECT, Row, WorkloadResult
from bench.session import BenchSession
from bench.tools import require_tool
from bench.workloads.timed import timed_run
from bench.wrk import Load
from loopback.ports import free_port
from loopback.processes import ManagedProcess

OFF = "limits off"
LOCAL = "local limiter"


@workload("hit-one-limits", rank=42, group="limits")
def hit_one_limits(session: BenchSession) -> WorkloadResult | None:
    options = session.options
    job = hot_job(options.corpus)
    if job is None:
        log(f"hit-one-limits: skipped, no photo-*.jpg in {options.corpus}")
        return None
    title = f"one hot URL: {job.source} w={job.width} {job.fmt}, limits off / node-wide / Redis"
    result = WorkloadResult("hit-one-limits", title, options.concurrency)
    redis: ManagedProcess | None = None
    peers: list[tuple[GatewayPeer, Row]] = []
    try:
        variants: list[tuple[str, dict[str, str]]] = [(OFF, {"limiter": "off"}), (LOCAL, {"limiter": "local"})]
        try:
            redis, url = _start_redis(session.work_dir)
            variants.append((SUBJECT, {"limiter": "redis", "redis_url": url}))
        except BenchError as error:
            result.notes.append(f"the Redis limiter left out: {error}")
        for label, settings in variants:
            try:
                peer = GatewayPeer(
                    options.corpus,
                    session.work_dir,
                    options.cores,
                    label=label,
                    settings=settings,
                    data_name="gw-limits-" + settings["limiter"],
                )
                size = _warm(peer, job, limited=settings["limiter"] != "off")
            except (BenchError, OSError) as error:
                result.notes.append(f"{label} left out: {error}")
                continue
            row = Row(label, "subject" if label == SUBJECT else "peer", output_bytes=size)
            result.rows.append(row)
            peers.append((peer, row))
        for repeat in range(options.repeats):
            for peer, row in list(peers):
                load = Load(
                    base_url=peer.base_url,
                    paths=[peer.hot_path(job, 0)],
                    bust=False,
                    concurrency=options.concurrency,
                    duration_s=options.duration_s,
                )
                if not timed_run(session, result, peer, row, load, repeat):
                    peers.remove((peer, row))
    finally:
        for peer, _ in peers:
            peer.stop()
        if redis is not None:
            redis.stop()
    local_vs_off = _paired_ratio(result, LOCAL, OFF)
    if local_vs_off is not None:
        result.extra["local_vs_off"] = local_vs_off
        result.notes.append(f"local limiter / limits off: {local_vs_off:.3f}x (median of per-repeat ratios)")
    return result


def _warm(peer: GatewayPeer, job: Job, limited: bool) -> float:
    """Every worker renders the URL once; and the answer shows whether the limiter is on, as it should."""
    path = peer.hot_path(job, 0)
    sizes = fetch_checked(peer.label, peer.base_url, [(path, job)] * 16, parallel=8)
    with urllib.request.urlopen(peer.base_url + path, timeout=30) as answer:  # noqa: S310 - loopback only
        has_fields = answer.headers.get("RateLimit") is not None
    if has_fields != limited:
        raise BenchError(f"{peer.label}: RateLimit fields {'missing' if limited else 'present'} on a hit")
    return mean_size(sizes)


def _start_redis(work_dir: Path) -> tuple[ManagedProcess, str]:
    binary = require_tool("redis-server")
    port = free_port()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = ManagedProcess("redis", [*argv, "--dir", str(work_dir)], work_dir / "logs" / "redis.log")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process.running():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    process.stop()
    raise BenchError("redis-server did not start: " + process.log_tail())


def _paired_ratio(result: WorkloadResult, label: str, base: str) -> float | None:
    mine, theirs = result.row(label), result.row(base)
    if mine is None or theirs is None or not mine.runs or len(mine.runs) != len(theirs.runs):
        return None
    pairs = zip(mine.runs, theirs.runs, strict=True)
    return statistics.median(a.requests_per_s / b.requests_per_s for a, b in pairs if b.requests_per_s)
