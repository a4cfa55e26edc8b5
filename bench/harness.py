"""One bench run from start to report: check tools, run the selected workloads, judge, write."""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from types import FrameType

import bench.workloads  # noqa: F401 - importing the package registers every workload
from bench.errors import BenchError
from bench.machine import machine_summary
from bench.options import BenchOptions, parse_options
from bench.progress import log
from bench.registry import Workload, select
from bench.report import RunRecord, render_markdown, to_json, utc_now, write_reports
from bench.results import WorkloadResult
from bench.runlock import RunLock
from bench.session import BenchSession
from bench.targets import evaluate
from bench.tools import check_tools


class _Terminated(BaseException):
    """SIGTERM, turned into an exception so that every server is stopped and the report written."""


def _raise_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    problems = check_tools()
    if problems:
        for problem in problems:
            print(f"bench: {problem}", file=sys.stderr)
        return 2
    try:
        workloads = select(options.only)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    lock = RunLock(options.work_dir)
    try:
        lock.acquire()
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    try:
        return _run(options, workloads)
    finally:
        lock.release()


def _run(options: BenchOptions, workloads: Sequence[Workload]) -> int:
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    started = utc_now()
    machine = machine_summary(options.cores)
    session = BenchSession(options)
    results: list[WorkloadResult] = []
    status = 0
    stopped_early: str | None = None
    try:
        for workload in workloads:
            log(f"workload {workload.name}")
            result = workload.run(session)
            if result is not None:
                results.append(result)
    except (KeyboardInterrupt, _Terminated) as stop:
        log("interrupted: stopping servers and writing what was measured")
        status = 130 if isinstance(stop, KeyboardInterrupt) else 143
        stopped_early = "interrupted"
    except BenchError as error:
        log(f"stopped: {error}")
        status = 1
        stopped_early = _first_line(str(error))
    finally:
        session.close()
    if status == 0 and "imgate" in session.unavailable:
        status = 1  # the peers alone measure nothing this bench is for
    machine.update(session.versions)
    verdicts = evaluate({result.name: result for result in results})
    record = RunRecord(
        started, options, machine, results, verdicts, session.unavailable, stopped_early, session.restarts
    )
    markdown = render_markdown(record)
    print("\n" + markdown)
    for path in write_reports(options.results_dir, started, markdown, to_json(record)):
        log(f"wrote {path}")
    return status


def _first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0]
