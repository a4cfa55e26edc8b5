"""One timed run of one server inside a workload, surviving a server that dies under load."""

from __future__ import annotations

from bench.errors import BenchError
from bench.peers.base import HttpPeer
from bench.progress import log, log_run
from bench.results import Row, WorkloadResult
from bench.session import BenchSession
from bench.wrk import Load, run_load


def timed_run(session: BenchSession, result: WorkloadResult, peer: HttpPeer, row: Row, load: Load, repeat: int) -> bool:
    """Append the run to row; False (with a note) when the server failed and should sit out the rest."""
    repeats = session.options.repeats
    try:
        row.runs.append(run_load(load, session.work_dir, peer.rss_roots()))
    except BenchError as error:
        state = "running" if peer.running() else "no longer running"
        reason = str(error).strip().split("\n", 1)[0]
        note = f"{row.label} failed in repeat {repeat + 1}/{repeats} ({state}): {reason}"
        result.notes.append(note)
        log(f"{result.name}: {note}")
        return False
    log_run(result.name, repeat, repeats, row.label, row.runs[-1])
    return True
