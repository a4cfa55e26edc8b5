"""Workload 5: the gateway's peak memory while it makes large misses at concurrency 16, and whether
it gives the memory back afterwards.

It runs on a freshly started gateway, so "idle" is the figure of a server that has answered one
request per source and nothing else, whatever ran before it in this bench: the earlier workloads
fill the result and originals caches, which would hide both the peak and what is kept afterwards.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import replace

from bench.errors import BenchError
from bench.jobs import large_miss_jobs
from bench.probe import fetch_checked
from bench.progress import log, log_run
from bench.registry import workload
from bench.results import SUBJECT, Row, WorkloadResult
from bench.rss import PeakRssSampler, tree_rss_bytes
from bench.session import BenchSession
from bench.wrk import Load, run_load

SETTLE_S = 2.0  # between the warm-up answers and the idle reading
AFTER_S = 5.0  # after the load: time to release buffers and caches' transient memory


@workload("memory", rank=50)
def memory(session: BenchSession) -> WorkloadResult | None:
    options = session.options
    jobs = large_miss_jobs(options.corpus)
    gateway = session.fresh_gateway() if jobs else None
    if not jobs or gateway is None:
        log("memory: skipped, " + ("no large images" if not jobs else "imgate is not running"))
        return None
    title = f"peak RSS of all imgate processes during large-miss at concurrency {options.memory_concurrency}"
    result = WorkloadResult("memory", title, options.memory_concurrency)
    row = Row(SUBJECT, "subject")
    result.rows.append(row)
    # One answer per source first: imports, libvips start-up and pools belong to "idle".
    fetch_checked(SUBJECT, gateway.base_url, [(_busted(gateway.miss_path(job)), job) for job in jobs])
    time.sleep(SETTLE_S)
    idle = tree_rss_bytes(gateway.rss_roots())
    log(f"memory: idle {idle >> 20} MiB after start and one request per source")
    readings: list[dict[str, int]] = []
    for repeat in range(options.repeats):
        load = Load(
            base_url=gateway.base_url,
            paths=[gateway.miss_path(job) for job in jobs],
            bust=True,
            concurrency=options.memory_concurrency,
            duration_s=options.duration_s,
            reconnect=True,  # as in large-miss
        )
        # The peak is watched through the cool-down too: requests queued when wrk stops are still
        # being made (and their memory taken) after the load ends.
        try:
            with PeakRssSampler(gateway.rss_roots()) as sampler:
                stats = run_load(load, session.work_dir, gateway.rss_roots())
                time.sleep(AFTER_S)
                after = tree_rss_bytes(gateway.rss_roots())
        except BenchError as error:
            result.notes.append(f"imgate failed in repeat {repeat + 1}: {str(error).strip().splitlines()[0]}")
            break
        stats = replace(stats, peak_rss_bytes=sampler.peak_bytes)
        row.runs.append(stats)
        log_run("memory", repeat, options.repeats, SUBJECT, stats)
        readings.append({"idle": idle, "peak": sampler.peak_bytes, "after": after})
        log(f"memory [{repeat + 1}/{options.repeats}]: idle {idle >> 20} MiB, after {after >> 20} MiB")
    if not readings:
        return result
    result.extra["readings_bytes"] = readings
    result.extra["median_bytes"] = {
        key: int(statistics.median(reading[key] for reading in readings)) for key in ("idle", "peak", "after")
    }
    result.notes.append(
        "RSS is VmRSS summed over the `imgate serve` process and its children, sampled every 100 ms "
        f"during each load and the {AFTER_S:g} s after it; on a freshly started imgate, idle is read once, "
        f"{SETTLE_S:g} s after one request per source; after is read at the end of each cool-down"
    )
    return result


def _busted(path: str) -> str:
    return f"{path}&v=memory-idle"
