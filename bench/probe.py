"""Before a server is timed, check that it answers every URL of the workload with the right image.

A peer that quietly answers 404s or the wrong size would otherwise win the benchmark.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pyvips

from bench.errors import BenchError
from bench.jobs import Job
from bench.procs import http_get

_MAGIC = {"jpg": (b"\xff\xd8\xff",), "webp": (b"RIFF",)}


def check_image(label: str, path: str, job: Job, status: int, body: bytes) -> None:
    if status != 200:
        raise BenchError(f"{label} answered {status} for {path}: {body[:300]!r}")
    if not body.startswith(_MAGIC[job.fmt]) or (job.fmt == "webp" and body[8:12] != b"WEBP"):
        raise BenchError(f"{label} answered {path} with something that is not {job.fmt}")
    width = pyvips.Image.new_from_buffer(body, "").width
    if width != job.width:
        raise BenchError(f"{label} answered {path} {width} px wide instead of {job.width}")


def fetch_checked(label: str, base_url: str, requests: Sequence[tuple[str, Job]], parallel: int = 4) -> list[int]:
    """GET every path, check each answer against its job; returns the body sizes in request order."""
    return [len(body) for body in fetch_bodies(label, base_url, requests, parallel)]


def fetch_bodies(label: str, base_url: str, requests: Sequence[tuple[str, Job]], parallel: int = 4) -> list[bytes]:
    """GET every path, check each answer against its job; returns the bodies in request order."""

    def one(item: tuple[str, Job]) -> bytes:
        path, job = item
        status, body, _ = http_get(base_url + path)
        check_image(label, path, job, status, body)
        return body

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        return list(pool.map(one, requests))


def mean_size(sizes: Sequence[int]) -> float:
    return statistics.fmean(sizes) if sizes else 0.0
