"""Workload 4: cache hits on one hot URL and on 1,000 hot URLs, against thumbor's result storage
and nginx serving the very same bytes from disk.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyvips

from bench.errors import BenchError
from bench.jobs import Job, hot_job
from bench.peers.base import HttpPeer
from bench.peers.nginx import write_hot_files
from bench.peers.thumbor import HOT_URLS
from bench.probe import fetch_checked, mean_size
from bench.procs import http_get
from bench.progress import log
from bench.registry import workload
from bench.results import SUBJECT, Row, WorkloadResult
from bench.session import BenchSession
from bench.workloads.timed import timed_run
from bench.wrk import Load

_WARM_PASSES = 2  # the second pass lets every worker's memory tier see the key, not just one


@dataclass
class _HotSet:
    job: Job
    peers: list[tuple[HttpPeer, float]]  # each warmed peer with its mean answer size
    notes: list[str]


@workload("hit-one", rank=40, group="hit")
def hit_one(session: BenchSession) -> WorkloadResult | None:
    return measure_hits(session, "hit-one", 1)


@workload("hit-1000", rank=41, group="hit")
def hit_set(session: BenchSession) -> WorkloadResult | None:
    return measure_hits(session, "hit-1000", HOT_URLS)


def measure_hits(session: BenchSession, name: str, count: int) -> WorkloadResult | None:
    hot = _hot_set(session)
    if hot is None:
        log(f"{name}: skipped, no photo-*.jpg in {session.options.corpus}")
        return None
    options = session.options
    job = hot.job
    what = "one hot URL" if count == 1 else f"{count} distinct hot URLs"
    title = f"{what}: {job.source} w={job.width} {job.fmt} q{job.quality}, warmed first"
    result = WorkloadResult(name, title, options.concurrency, notes=list(hot.notes))
    rows = []
    for peer, size in hot.peers:
        row = Row(peer.label, "subject" if peer.label == SUBJECT else "peer", output_bytes=size)
        result.rows.append(row)
        rows.append((peer, row))
    for repeat in range(options.repeats):
        for peer, row in list(rows):
            load = Load(
                base_url=peer.base_url,
                paths=[peer.hot_path(job, index) for index in range(count)],
                bust=False,
                concurrency=options.concurrency,
                duration_s=options.duration_s,
            )
            if not timed_run(session, result, peer, row, load, repeat):
                rows.remove((peer, row))
    return result


def _hot_set(session: BenchSession) -> _HotSet | None:
    """Warm the gateway and thumbor once for both hit workloads, then give nginx the same bytes."""
    cached = session.shared.get("hot-set")
    if isinstance(cached, _HotSet) and all(peer.running() for peer, _ in cached.peers):
        return cached
    # First use, or a server died since (a restarted one has empty caches): warm up again.
    job = hot_job(session.options.corpus)
    if job is None:
        return None
    notes: list[str] = []
    peers: list[tuple[HttpPeer, float]] = []
    candidates: list[HttpPeer | None] = [session.gateway(), session.thumbor(result_storage=True)]
    for peer in candidates:
        if peer is None:
            continue
        try:
            size = _warm(peer, job)
        except (BenchError, OSError) as error:
            notes.append(f"{peer.label} left out: {error}")
            log(f"hits: {peer.label} left out: {error}")
            continue
        peers.append((peer, size))
    stored = _thumbor_stored(session)
    if stored is not None and stored < HOT_URLS:
        notes.append(f"thumbor's result storage holds {stored} files after warm-up, fewer than {HOT_URLS}")
    body, origin = _hot_bytes(session, job)
    notes.append(f"nginx serves {len(body)} bytes per URL, made by {origin}")
    root = session.work_dir / "nginx-root"
    write_hot_files(root, job, body, HOT_URLS)
    nginx = session.nginx(root)
    if nginx is not None:
        peers.append((nginx, float(len(body))))
    hot = _HotSet(job, peers, notes)
    session.shared["hot-set"] = hot
    return hot


def _warm(peer: HttpPeer, job: Job) -> float:
    log(f"hits: warming {HOT_URLS} URLs on {peer.label}")
    requests = [(peer.hot_path(job, index), job) for index in range(HOT_URLS)]
    sizes: list[int] = []
    for _ in range(_WARM_PASSES):
        sizes = fetch_checked(peer.label, peer.base_url, requests, parallel=8)
    return mean_size(sizes)


def _thumbor_stored(session: BenchSession) -> int | None:
    thumbor = session.thumbor(result_storage=True)
    return thumbor.stored_results() if thumbor is not None else None


def _hot_bytes(session: BenchSession, job: Job) -> tuple[bytes, str]:
    """The gateway's own answer when it runs; otherwise the same transform made here with pyvips."""
    gateway = session.gateway()
    if gateway is not None:
        status, body, _ = http_get(gateway.base_url + gateway.hot_path(job, 0))
        if status == 200:
            return body, "imgate"
    source = (session.options.corpus / job.source).read_bytes()
    body = pyvips.Image.thumbnail_buffer(source, job.width).write_to_buffer(job.vips_suffix)
    return bytes(body), "pyvips (imgate not running)"
