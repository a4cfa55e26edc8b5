"""Workloads 6-7: misses over a remote origin (first byte after 40 ms, 100 Mbit/s per download).

A local-folder origin hides what a real one costs: here every original is new to the servers (the paths carry a
tag, bench/lua/paths.lua), so each is fetched over HTTP: thumbor with its HTTP loader (and its file storage for
originals, its default), imgate with its HTTP origin (originals cache and single flight). In `remote-srcset` the
five widths of one original arrive together, as a browser asks for them: this is where fetching and decoding
once per original, not once per width, shows. No pyvips row: bare pyvips has no origin to wait for.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from bench.errors import BenchError
from bench.jobs import Job, photo_miss_jobs, srcset_jobs
from bench.peers.base import HttpPeer
from bench.peers.gateway import GatewayPeer, imgate_command
from bench.peers.thumbor import ThumborPeer, ensure_thumbor, thumbor_version
from bench.probe import fetch_checked, mean_size
from bench.procs import wait_until_healthy
from bench.progress import log
from bench.registry import workload
from bench.results import SUBJECT, Row, WorkloadResult
from bench.session import BenchSession
from bench.workloads.timed import timed_run
from bench.wrk import Load
from loopback.ports import free_port
from loopback.processes import ManagedProcess

ORIGIN_SCRIPT = Path(__file__).resolve().parent.parent / "slow_origin.py"
FIRST_BYTE_MS = 40
MBIT = 100
NAMESPACE = "remote"


@workload("remote-photo-miss", rank=35, group="remote")
def remote_photo_miss(session: BenchSession) -> WorkloadResult | None:
    title = (
        f"photo-*.jpg -> w=400 JPEG/WebP q80 over an HTTP origin ({FIRST_BYTE_MS} ms first byte, {MBIT} Mbit/s), "
        "every request a new original"
    )
    return _measure(session, "remote-photo-miss", title, photo_miss_jobs(session.options.corpus), "each")


@workload("remote-srcset", rank=36, group="remote")
def remote_srcset(session: BenchSession) -> WorkloadResult | None:
    title = (
        f"each photo at w=320..1920 JPEG q80 over an HTTP origin ({FIRST_BYTE_MS} ms first byte, {MBIT} Mbit/s), "
        "the five widths of a new original together"
    )
    return _measure(session, "remote-srcset", title, srcset_jobs(session.options.corpus), "burst")


class RemoteGateway:
    """imgate's paths on the remote workspace; the peer's process is the gateway's."""

    label = SUBJECT
    busts_by_query = False  # the tag in the path makes each key new

    def __init__(self, gateway: GatewayPeer) -> None:
        self._gateway = gateway
        self.base_url = gateway.base_url

    def miss_path(self, job: Job) -> str:
        return f"/{NAMESPACE}/{{origin}}/{job.source}?w={job.width}&fm={job.fmt}&q={job.quality}"

    def hot_path(self, job: Job, index: int) -> str:
        return self.miss_path(job)

    def rss_roots(self) -> list[int]:
        return self._gateway.rss_roots()

    def running(self) -> bool:
        return self._gateway.running()


def _measure(
    session: BenchSession, name: str, title: str, jobs: Sequence[Job], originals: str
) -> WorkloadResult | None:
    options = session.options
    if not jobs:
        log(f"{name}: skipped, no matching images in {options.corpus}")
        return None
    result = WorkloadResult(name, title, options.concurrency)
    try:
        _run(session, result, jobs, originals)
    except (BenchError, OSError) as error:
        result.notes.append(f"not measured: {error}")
        log(f"{name}: not measured: {error}")
    result.notes.append(
        f"origin: bench/slow_origin.py, {FIRST_BYTE_MS} ms to the first byte and {MBIT} Mbit/s per download; "
        "thumbor: HTTP loader, originals in its file storage; imgate: HTTP origin, originals cache, single flight"
    )
    return result


def _run(session: BenchSession, result: WorkloadResult, jobs: Sequence[Job], originals: str) -> None:
    options = session.options
    with _origin(options.corpus, session.work_dir) as origin, _servers(session, origin) as servers:
        peers: list[tuple[HttpPeer, Row]] = []
        for peer in servers:
            try:
                sizes = _probe(peer, jobs)
            except (BenchError, OSError) as error:
                result.notes.append(f"{peer.label} left out: {error}")
                continue
            row = Row(peer.label, "subject" if peer.label == SUBJECT else "peer", output_bytes=mean_size(sizes))
            result.rows.append(row)
            peers.append((peer, row))
        for repeat in range(options.repeats):
            for peer, row in list(peers):
                load = Load(
                    base_url=peer.base_url,
                    paths=[peer.miss_path(job) for job in jobs],
                    bust=False,
                    concurrency=options.concurrency,
                    duration_s=options.duration_s,
                    reconnect=True,
                    originals=originals,
                )
                if not timed_run(session, result, peer, row, load, repeat):
                    peers.remove((peer, row))


def _probe(peer: HttpPeer, jobs: Sequence[Job]) -> list[int]:
    tag = f"probe-{secrets.token_hex(4)}"
    requests = [(peer.miss_path(job).replace("{origin}", tag), job) for job in jobs]
    return fetch_checked(peer.label, peer.base_url, requests)


@contextmanager
def _origin(corpus: Path, work_dir: Path) -> Iterator[str]:
    """The slow origin, running: yields its "127.0.0.1:port"."""
    port = free_port()
    argv = [sys.executable, str(ORIGIN_SCRIPT), str(corpus), "--port", str(port)]
    argv += ["--first-byte-ms", str(FIRST_BYTE_MS), "--mbit", str(MBIT)]
    process = ManagedProcess("slow-origin", argv, log_path=work_dir / "logs" / "slow-origin.log")
    try:
        wait_until_healthy(process, f"http://127.0.0.1:{port}/")
        yield f"127.0.0.1:{port}"
    finally:
        process.stop()


@contextmanager
def _servers(session: BenchSession, origin: str) -> Iterator[list[HttpPeer]]:
    """imgate with a workspace on the origin, and thumbor with its HTTP loader; both stopped afterwards."""
    options = session.options
    started: list[GatewayPeer | ThumborPeer] = []
    servers: list[HttpPeer] = []
    try:
        gateway = GatewayPeer(
            options.corpus,
            session.work_dir,
            options.cores,
            settings={"trusted_networks": "127.0.0.0/8"},  # the origin is on loopback
            data_name="gw-remote",
        )
        started.append(gateway)
        _create_workspace(gateway, f"http://{origin}/")
        servers.append(RemoteGateway(gateway))
        binary = ensure_thumbor(session.work_dir)
        session.versions.setdefault("thumbor", thumbor_version(binary))
        thumbor = ThumborPeer(
            binary,
            session.work_dir / "thumbor-root",
            session.work_dir,
            options.cores,
            result_storage=False,
            http_origin=origin,
        )
        started.append(thumbor)
        servers.append(thumbor)
        yield servers
    finally:
        for server in started:
            server.stop()


def _create_workspace(gateway: GatewayPeer, base_url: str) -> None:
    env = {"IMGATE_DATA_DIR": str(gateway.data_dir)}
    command = imgate_command()
    for argv in (
        [command, "workspace", "create", NAMESPACE, "--origin", "http", "--base-url", base_url],
        [command, "workspace", "limits", NAMESPACE, "--requests-per-second", "1000000000", "--burst", "1000000000"],
    ):
        done = subprocess.run(  # noqa: S603 - argv is built here, never a shell
            argv, env={**os.environ, **env}, capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0:
            raise BenchError(f"`imgate {' '.join(argv[1:3])}` failed: {(done.stdout + done.stderr).strip()[-400:]}")
