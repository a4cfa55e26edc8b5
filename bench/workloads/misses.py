"""Workloads 1-3: every request a new cache key, against thumbor and the bare-pyvips limit."""

from __future__ import annotations

import secrets
import statistics
from collections.abc import Sequence

import pyvips

from bench import quality
from bench.errors import BenchError
from bench.jobs import Job, large_miss_jobs, photo_miss_jobs, srcset_jobs
from bench.peers.base import HttpPeer
from bench.peers.pyvips_limit import run_loop, variants
from bench.probe import fetch_bodies, mean_size
from bench.progress import log, log_run
from bench.registry import workload
from bench.results import SUBJECT, Role, Row, WorkloadResult
from bench.session import BenchSession
from bench.workloads.timed import timed_run
from bench.wrk import Load

PYVIPS_LIMIT = "pyvips limit"
PYVIPS_THUMBNAIL = "pyvips thumbnail_buffer"


@workload("photo-miss", rank=10, group="miss")
def photo_miss(session: BenchSession) -> WorkloadResult | None:
    title = "photo-*.jpg -> w=400 JPEG q80 and WebP q80 (alternating), every request a new cache key"
    return measure_misses(session, "photo-miss", title, photo_miss_jobs(session.options.corpus))


@workload("large-miss", rank=20, group="miss")
def large_miss(session: BenchSession) -> WorkloadResult | None:
    title = "large-*-5120 JPEG/PNG -> w=1200 JPEG q80, every request a new cache key"
    return measure_misses(session, "large-miss", title, large_miss_jobs(session.options.corpus))


@workload("srcset", rank=30, group="miss")
def srcset(session: BenchSession) -> WorkloadResult | None:
    title = "each photo at w=320,640,960,1280,1920 JPEG q80 in turn (a browser's srcset), all misses"
    return measure_misses(session, "srcset", title, srcset_jobs(session.options.corpus))


def measure_misses(session: BenchSession, name: str, title: str, jobs: Sequence[Job]) -> WorkloadResult | None:
    options = session.options
    if not jobs:
        log(f"{name}: skipped, no matching images in {options.corpus}")
        return None
    result = WorkloadResult(name, title, options.concurrency)
    peers = _checked_peers(session, jobs, result)
    loops = variants(options.cores)
    loop_rows = [Row(variant.label, "variant") for variant in loops]
    result.rows.extend(loop_rows)
    for repeat in range(options.repeats):
        for peer, row in list(peers):
            load = Load(
                base_url=peer.base_url,
                paths=[peer.miss_path(job) for job in jobs],
                bust=peer.busts_by_query,
                concurrency=options.concurrency,
                duration_s=options.duration_s,
                reconnect=True,  # see Load.reconnect: spreads misses over every worker process
            )
            if not timed_run(session, result, peer, row, load, repeat):
                peers.remove((peer, row))
        for variant, row in zip(loops, loop_rows, strict=True):
            row.runs.append(run_loop(variant, jobs, options.corpus, session.work_dir, options.duration_s))
            log_run(name, repeat, options.repeats, row.label, row.runs[-1])
    best = _fastest(loop_rows)
    by_thumbnail = _fastest([row for row, loop in zip(loop_rows, loops, strict=True) if loop.driving == "thumbnail"])
    result.rows.append(Row(PYVIPS_LIMIT, "peer", runs=best.runs, output_bytes=_pyvips_output_bytes(jobs, session)))
    result.rows.append(Row(PYVIPS_THUMBNAIL, "peer", runs=by_thumbnail.runs))
    result.notes.append(
        f"{PYVIPS_LIMIT} = the fastest of the pyvips loops ({best.label}); {PYVIPS_THUMBNAIL} = the faster "
        f"thumbnail_buffer loop ({by_thumbnail.label}); the loops run {options.cores} at a time with no HTTP, "
        f"the servers take {options.concurrency} connections"
    )
    result.notes.append(
        "thumbor runs without result storage here, so every request is a real transform; "
        "one connection per request (a kept-alive one stays with the forked process that accepted it)"
    )
    return result


def _fastest(rows: Sequence[Row]) -> Row:
    return max(rows, key=lambda row: row.median.requests_per_s if row.median else 0.0)


def _checked_peers(session: BenchSession, jobs: Sequence[Job], result: WorkloadResult) -> list[tuple[HttpPeer, Row]]:
    """The HTTP servers of this workload that answer every job correctly, each with its empty row."""
    candidates: list[HttpPeer | None] = [session.gateway(), session.thumbor(result_storage=False)]
    checked: list[tuple[HttpPeer, Row]] = []
    nonce = secrets.token_hex(4)
    scored = quality.available()
    per_request: dict[str, list[float]] = {}
    for peer in candidates:
        if peer is None:
            continue
        requests = [(_probe_path(peer, job, nonce), job) for job in jobs]
        try:
            bodies = fetch_bodies(peer.label, peer.base_url, requests)
        except (BenchError, OSError) as error:
            result.notes.append(f"{peer.label} left out: {error}")
            log(f"{result.name}: {peer.label} left out: {error}")
            continue
        role: Role = "subject" if peer.label == SUBJECT else "peer"
        row = Row(peer.label, role, output_bytes=mean_size([len(body) for body in bodies]))
        if scored:
            per_request[peer.label] = quality.scores(session.options.corpus, jobs, bodies)
            row.ssim = statistics.fmean(per_request[peer.label])
        result.rows.append(row)
        checked.append((peer, row))
    _compare_quality(result, per_request, scored)
    return checked


def _compare_quality(result: WorkloadResult, per_request: dict[str, list[float]], scored: bool) -> None:
    """imgate's SSIM minus thumbor's, request by request: the worst gap is what the quality target judges."""
    if not scored:
        result.notes.append("SSIM column empty: scikit-image is not installed (a dev dependency)")
        return
    ours, theirs = per_request.get(SUBJECT), per_request.get("thumbor")
    if ours is None or theirs is None:
        return
    gaps = [mine - peer for mine, peer in zip(ours, theirs, strict=True)]
    result.extra["ssim_worst_gap"] = min(gaps)
    result.notes.append(
        "SSIM = mean structural similarity of the answers against the source decoded at full size and resized "
        f"with lanczos3 (bench/quality.py); imgate minus thumbor per request: worst {min(gaps):+.4f}, "
        f"median {statistics.median(gaps):+.4f}"
    )


def _probe_path(peer: HttpPeer, job: Job, nonce: str) -> str:
    path = peer.miss_path(job)
    if peer.busts_by_query:
        path += ("&" if "?" in path else "?") + f"v=probe-{nonce}"
    return path


def _pyvips_output_bytes(jobs: Sequence[Job], session: BenchSession) -> float:
    corpus = session.options.corpus
    sizes = [
        len(
            pyvips.Image.thumbnail_buffer((corpus / job.source).read_bytes(), job.width).write_to_buffer(
                job.vips_suffix
            )
        )
        for job in jobs
    ]
    return mean_size(sizes)
