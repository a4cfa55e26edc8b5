"""The gateway's Prometheus metrics, and the functions the request path and the backends record them with.

``prometheus_client`` in its multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR`` is set (``imgate serve`` sets
it to a fresh folder under the data folder before Granian starts the workers): each worker writes its values
to memory-mapped files there and a scrape of ``/_/metrics``, answered by whichever worker gets it, sums them
all (``gateway.metrics.exposition``). Without the variable (tests in one process) the default registry is used.

The metrics are made on first use, not at import: ``prometheus_client`` picks its value class (per process or
multiprocess) when it is first imported, and the ``imgate`` command imports this module (through the capture
pool) before ``serve`` sets the variable, in the process Granian then forks its workers from.

Labels never carry a URL, a key, a host or anything a client sent except the namespace of a workspace that
exists, and that only with ``metrics_workspace_label = true`` (one series per workspace: small installs).
Recording is a few memory writes, so it is done inline on the request path; label children are looked up
once and kept, since ``labels()`` costs more than the increment.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram

# prometheus_client's own variable; ``imgate serve`` sets it (``gateway.cli.metrics_folder``).
MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

# Hit latencies are well under a millisecond, misses tens of milliseconds to seconds.
_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_WORK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_STORE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class _Instruments:
    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        self.requests = Counter(
            "imgate_requests", "Image requests answered, by status and cache tier", ["status", "tier", "workspace"]
        )
        self.request_seconds = Histogram(
            "imgate_request_duration_seconds",
            "From a request's arrival to its answer being ready, by cache tier (memory, store, coalesced, miss)",
            ["tier"],
            buckets=_LATENCY_BUCKETS,
        )
        self.transform_seconds = Histogram(
            "imgate_transform_duration_seconds", "Time one transform ran on a transform thread", buckets=_WORK_BUCKETS
        )
        self.transform_queue = Gauge(
            "imgate_transform_queue_depth", "Transforms waiting for a thread", multiprocess_mode="livesum"
        )
        self.transform_rejections = Counter(
            "imgate_transform_rejections", "Transforms refused with 503 OVERLOADED (queue full or too long a wait)"
        )
        self.origin_seconds = Histogram(
            "imgate_origin_fetch_duration_seconds",
            "Fetching an original, by source kind (origin, src, capture)",
            ["kind"],
            buckets=_WORK_BUCKETS,
        )
        self.origin_errors = Counter(
            "imgate_origin_errors", "Failed fetches of an original, by source kind and error code", ["kind", "code"]
        )
        self.result_store_seconds = Histogram(
            "imgate_result_store_duration_seconds",
            "Result store calls, by operation",
            ["operation"],
            buckets=_STORE_BUCKETS,
        )
        self.result_store_errors = Counter(
            "imgate_result_store_errors", "Failed result store calls, by operation", ["operation"]
        )
        self.capture_browsers = Gauge(
            "imgate_capture_browsers", "Capture browsers running", multiprocess_mode="livesum"
        )
        self.capture_busy = Gauge(
            "imgate_capture_browsers_busy", "Capture browsers running a capture", multiprocess_mode="livesum"
        )
        self.capture_restarts = Counter(
            "imgate_capture_browser_restarts", "Capture browsers replaced (crashed, hung, recycled)"
        )
        self.memory_bytes = Gauge(
            "imgate_memory_tier_bytes", "Bytes held by the memory tiers", multiprocess_mode="livesum"
        )
        self.memory_entries = Gauge(
            "imgate_memory_tier_entries", "Outputs held by the memory tiers", multiprocess_mode="livesum"
        )
        self.limiter_rejections = Counter(
            "imgate_limiter_rejections",
            "Requests refused with 429 RATE_LIMITED, by limit (rate, renders, ...)",
            ["limit"],
        )
        # Label children, looked up once.
        self.request_children: dict[tuple[str, str, str], Any] = {}
        self.latency_children: dict[str, Any] = {}
        self.limiter_children: dict[str, Any] = {}


_instruments: _Instruments | None = None
_STATUS_TEXT = {status: str(status) for status in range(100, 600)}


def instruments() -> _Instruments:
    global _instruments  # noqa: PLW0603 - one set per process, made on first use (see the module docstring)
    if _instruments is None:
        _instruments = _Instruments()
    return _instruments


class _RequestTally:
    """This process's request counts and latencies since the last fold, in plain dicts.

    Every answer is counted, hits included, and prometheus_client's values take a lock and, in multiprocess
    mode, write a memory-mapped file for each increment: three of them per request (the counter, a histogram
    bucket and its sum) cost more CPU than the rest of a memory hit's bookkeeping. So a request adds to a dict
    here, and ``fold`` adds what gathered to the real values at most ``FOLD_AFTER`` seconds later (on a timer
    of the event loop), and before this process answers a scrape.
    """

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds  # the histogram's upper bounds, +Inf excluded (its bucket is the one past them)
        self.counts: dict[tuple[str, str, str], int] = {}
        self.latencies: dict[str, list[float]] = {}  # tier -> a count per bucket, then the sum of seconds
        self.scheduled = False


# Short enough that no scrape, dashboard or test sees a count late; long enough that a busy worker folds
# hundreds of requests at once.
FOLD_AFTER = 0.02
_tally = _RequestTally(_LATENCY_BUCKETS)


def count_request(status: int, tier: str | None, seconds: float, workspace: str = "") -> None:
    """One answered image request (the monitoring hook calls this from ``record``)."""
    tally = _tally
    name = tier or "none"
    key = (_STATUS_TEXT.get(status, "other"), name, workspace)
    tally.counts[key] = tally.counts.get(key, 0) + 1
    if tier is not None:
        latency = tally.latencies.get(name)
        if latency is None:
            latency = tally.latencies[name] = [0.0] * (len(tally.bounds) + 2)
        latency[bisect_left(tally.bounds, seconds)] += 1
        latency[-1] += seconds
    if not tally.scheduled:
        tally.scheduled = True
        try:
            asyncio.get_running_loop().call_later(FOLD_AFTER, fold)
        except RuntimeError:  # no event loop (a direct call): at once
            fold()


def fold() -> None:
    """Add the requests counted since the last fold to the Prometheus values (see ``_RequestTally``)."""
    tally = _tally
    counts, latencies = tally.counts, tally.latencies
    tally.counts, tally.latencies, tally.scheduled = {}, {}, False
    if not counts and not latencies:
        return
    m = _instruments or instruments()
    for key, count in counts.items():
        child: Counter | None = m.request_children.get(key)
        if child is None:
            child = m.request_children[key] = m.requests.labels(*key)
        child.inc(count)
    for name, latency in latencies.items():
        histogram: Histogram | None = m.latency_children.get(name)
        if histogram is None:
            histogram = m.latency_children[name] = m.request_seconds.labels(name)
        # A histogram has no call that adds many observations; its bucket and sum values are what ``observe``
        # increments, one each (tests/gateway/metrics checks the fold against ``observe``).
        buckets = histogram._buckets  # noqa: SLF001
        for index, observed in enumerate(latency[:-1]):
            if observed:
                buckets[index].inc(observed)
        histogram._sum.inc(latency[-1])  # noqa: SLF001


def count_limiter_rejection(limit: str) -> None:
    """A request refused by a rate limit or a quota; ``limit`` names which (a fixed word, never a value)."""
    m = _instruments or instruments()
    child: Counter | None = m.limiter_children.get(limit)
    if child is None:
        child = m.limiter_children[limit] = m.limiter_rejections.labels(limit)
    child.inc()


def observe_transform(seconds: float) -> None:
    (_instruments or instruments()).transform_seconds.observe(seconds)


def set_transform_queue(depth: int) -> None:
    (_instruments or instruments()).transform_queue.set(depth)


def count_transform_rejection() -> None:
    (_instruments or instruments()).transform_rejections.inc()


def observe_origin(kind: str, seconds: float, code: str | None = None) -> None:
    m = _instruments or instruments()
    m.origin_seconds.labels(kind).observe(seconds)
    if code is not None:
        m.origin_errors.labels(kind, code).inc()


def observe_result_store(operation: str, seconds: float, failed: bool = False) -> None:
    m = _instruments or instruments()
    m.result_store_seconds.labels(operation).observe(seconds)
    if failed:
        m.result_store_errors.labels(operation).inc()


class CaptureState:
    """This process's shared-pool browsers as the pool reported them, for ``/_/health`` (the gauges count them
    with the workspaces' own pools' browsers, which health asks the running capture service about instead)."""

    live = 0
    launched = False  # a browser started at least once, or failed to: the pool was asked for
    failing = False  # the last launch failed


def capture_browser_started(dedicated: bool = False) -> None:
    (_instruments or instruments()).capture_browsers.inc()
    if dedicated:
        return
    CaptureState.live += 1
    CaptureState.launched = True
    CaptureState.failing = False


def capture_launch_failed(dedicated: bool = False) -> None:
    if dedicated:
        return
    CaptureState.launched = True
    CaptureState.failing = True


def capture_browser_stopped(restarted: bool, dedicated: bool = False) -> None:
    m = _instruments or instruments()
    m.capture_browsers.dec()
    if not dedicated:
        CaptureState.live -= 1
    if restarted:
        m.capture_restarts.inc()


def capture_browsers_closed(count: int, dedicated: bool = False) -> None:
    """The pool was closed with ``count`` browsers running (shutdown, or captures stopped)."""
    (_instruments or instruments()).capture_browsers.dec(count)
    if dedicated:
        return
    CaptureState.live -= count
    CaptureState.launched = False


def capture_busy(delta: int) -> None:
    (_instruments or instruments()).capture_busy.inc(delta)


def set_memory_tier(size_bytes: int, entries: int) -> None:
    m = _instruments or instruments()
    m.memory_bytes.set(size_bytes)
    m.memory_entries.set(entries)
