"""``/_/health``: each dependency as ``ok``, ``degraded`` or ``down``, and whether the gateway can serve.

    result_store   down or slow: every miss is transformed again, nothing is lost -> degraded
    account_store  unreadable: no workspace can be resolved -> down, the one state answered 503
    redis          (when a setting names it) the shared limiter or the usage counters cannot reach it: the node
                   limits alone and the counters wait in memory -> degraded
    usage          the last flush of the usage counters failed (they are kept for the next) -> degraded
    capture        off, idle (no capture asked for yet), or its browsers: some missing -> degraded, none -> down
                   (images are still served, so the gateway as a whole is degraded, not down); and how many
                   workspaces' own pools run, with their browsers (never which workspaces)
    capture_jobs   the job queue: workers reporting (every node), this process's, queued jobs and the oldest's
                   age in seconds; jobs queued with no worker running, or the queue unreadable -> degraded

The answer is 200 while the gateway can serve (``ok`` or ``degraded``), so a load balancer keeps a node whose
result store is away; 503 only when it cannot.

``/_/health`` needs no credentials, so its probes of the result store and the account store are shared: one at a
time per store, its answer kept ``PROBE_TTL`` seconds, and a probe past ``_PROBE_TIMEOUT`` answered as failed but
left to finish (a thread cannot be stopped) rather than joined by another. A burst of health calls, or a store
that hangs, costs each store one probe, never one per call.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal

from gateway.jobs.local import StoreQueue
from gateway.metrics import CaptureState

if TYPE_CHECKING:
    from gateway.services import Services

Status = Literal["ok", "degraded", "down"]
Check = dict[str, str | int | bool]
_ORDER: dict[Status, int] = {"ok": 0, "degraded": 1, "down": 2}
_PROBE_TIMEOUT = 2.0
# A namespace no workspace can have (namespaces are lower-case): reading it costs the store one indexed lookup.
_PROBE_NAMESPACE = "_HEALTH_"


# Seconds a probe's answer is reused: short enough that a load balancer sees a store go away within its own interval.
PROBE_TTL = 1.5


class SharedProbe:
    """One probe of one dependency at a time, its answer reused for ``PROBE_TTL`` seconds."""

    def __init__(self, timeout: float = _PROBE_TIMEOUT) -> None:
        self._timeout = timeout
        self._ok = False
        self._at = -PROBE_TTL
        self._running: asyncio.Task[bool] | None = None

    async def ok(self, probe: Callable[[], Awaitable[bool]]) -> bool:
        if time.monotonic() - self._at < PROBE_TTL:
            return self._ok
        running = self._running
        if running is None or running.get_loop() is not asyncio.get_running_loop():
            running = self._running = asyncio.ensure_future(self._probe(probe))
        try:
            # Shielded: a caller that stops waiting (timeout, disconnect) does not cancel the shared probe.
            return await asyncio.wait_for(asyncio.shield(running), self._timeout)
        except TimeoutError:
            # Still running (a hung store): answered as failed, and the next call waits on the same probe.
            self._ok, self._at = False, time.monotonic()
            return False

    async def _probe(self, probe: Callable[[], Awaitable[bool]]) -> bool:
        try:
            ok = bool(await probe())
        except Exception:
            ok = False
        self._ok, self._at, self._running = ok, time.monotonic(), None
        return ok


# Keyed by the store object itself: each store (each test's, each reload's) has its own, and goes with it.
_PROBES: weakref.WeakKeyDictionary[object, SharedProbe] = weakref.WeakKeyDictionary()


def shared_probe(target: object) -> SharedProbe:
    """The probe shared by every health call about ``target``."""
    try:
        probe = _PROBES.get(target)
        if probe is None:
            probe = _PROBES[target] = SharedProbe()
    except TypeError:  # a store that cannot be weakly referenced or hashed: probed per call, as before
        return SharedProbe()
    return probe


def worst(statuses: list[Status]) -> Status:
    return max(statuses, key=_ORDER.__getitem__, default="ok")


async def check(services: Services) -> tuple[Status, dict[str, Check]]:
    """The overall status (``down`` only when requests cannot be served) and one entry per dependency."""
    checks: dict[str, Check] = {
        "result_store": await _result_store(services),
        "account_store": await _account_store(services),
    }
    redis = _redis(services)
    if redis is not None:
        checks["redis"] = redis
    if services.usage is not None:
        checks["usage"] = {"status": "ok" if services.usage.healthy else "degraded"}
    checks["capture"] = _capture(services)
    if services.jobs is not None:
        checks["capture_jobs"] = await _capture_jobs(services)
    overall: Status = "down" if checks["account_store"]["status"] == "down" else "ok"
    if overall == "ok" and any(entry["status"] != "ok" for entry in checks.values()):
        overall = "degraded"
    return overall, checks


async def _result_store(services: Services) -> Check:
    results = services.results
    ok = await shared_probe(results).ok(results.healthy)
    return {"status": "ok" if ok else "degraded", "kind": results.kind}


async def _account_store(services: Services) -> Check:
    store = services.store

    async def readable() -> bool:
        await asyncio.to_thread(store.get_workspace, _PROBE_NAMESPACE)
        return True

    ok = await shared_probe(store).ok(readable)
    return {"status": "ok" if ok else "down", "kind": services.settings.account_store}


def _redis(services: Services) -> Check | None:
    settings = services.settings
    statuses: list[Status] = []
    if settings.limiter == "redis" and services.limits is not None:
        statuses.append(services.limits.limiter.health())
    if settings.usage_store == "redis" and services.usage is not None:
        statuses.append("ok" if services.usage.healthy else "degraded")
    if not statuses:
        return None
    return {"status": worst(statuses)}


def _capture(services: Services) -> Check:
    settings = services.settings.capture
    if not settings.enabled:
        return {"status": "ok", "state": "off"}
    if not CaptureState.launched:
        return {"status": "ok", "state": "idle"}
    live = CaptureState.live
    status: Status = "ok" if live >= settings.pool_size else "degraded" if live > 0 else "down"
    # Workspaces' own pools as the running service holds them, by number only: which workspaces have one is
    # not for a public endpoint.
    service = services.capture.service
    return {
        "status": status,
        "state": "running",
        "browsers": live,
        "dedicated_pools": service.dedicated_pools if service is not None else 0,
        "dedicated_browsers": service.dedicated_live if service is not None else 0,
        # Jobs' captures waiting for room because every pool is busy: dedicated_pools or
        # dedicated_browsers_max is too small for this node when it stays above 0.
        "dedicated_waiting": service.dedicated_waiting if service is not None else 0,
    }


async def _capture_jobs(services: Services) -> Check:
    queue = StoreQueue(services.store.capture_jobs, services.settings)
    local = services.jobs.running if services.jobs is not None else 0
    try:
        stats = await asyncio.wait_for(asyncio.to_thread(queue.stats), _PROBE_TIMEOUT)
    except Exception:
        return {"status": "degraded", "local_workers": local}
    age = 0 if stats.oldest_queued_at is None else max(0, int(time.time() - stats.oldest_queued_at))
    stuck = stats.queued > 0 and stats.workers == 0
    return {
        "status": "degraded" if stuck else "ok",
        "workers": stats.workers,
        "local_workers": local,
        "queued": stats.queued,
        "processing": stats.processing,
        "oldest_queued_age": age,
    }
