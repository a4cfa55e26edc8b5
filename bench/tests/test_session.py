"""A server that dies during a run is noted, left out, and started again for the next workload."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from bench.jobs import Job
from bench.options import BenchOptions
from bench.peers.nginx import write_hot_files
from bench.results import Row, WorkloadResult
from bench.session import BenchSession
from bench.workloads.timed import timed_run
from bench.wrk import Load

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("wrk", "nginx")]


def _session(tmp_path: Path) -> BenchSession:
    options = BenchOptions(
        corpus=tmp_path,
        duration_s=1,
        repeats=1,
        only=None,
        concurrency=2,
        memory_concurrency=2,
        cores=1,
        results_dir=tmp_path / "results",
    )
    return BenchSession(options)


def test_a_dead_server_is_noted_and_replaced(tmp_path: Path) -> None:
    job = Job("photo.jpg", 10, "jpg")
    root = tmp_path / "root"
    write_hot_files(root, job, b"\xff\xd8\xff not really a jpeg", 1)
    session = _session(tmp_path)
    try:
        first = session.nginx(root)
        assert first is not None and first.running()
        result = WorkloadResult("hit-one", "t", 2)
        row = Row(first.label, "peer")
        load = Load(first.base_url, [first.hot_path(job, 0)], bust=False, concurrency=2, duration_s=1)
        assert timed_run(session, result, first, row, load, 0)
        assert row.runs[0].requests > 0

        os.killpg(first.rss_roots()[0], signal.SIGKILL)  # as a neighbour's `pkill nginx` would
        assert not timed_run(session, result, first, row, load, 0)
        assert len(row.runs) == 1
        assert "no longer running" in result.notes[-1]

        second = session.nginx(root)
        assert second is not None and second is not first and second.running()
        assert session.restarts == {"nginx static": 1}
    finally:
        session.close()
