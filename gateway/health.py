"""``/_/health``: each dependency as ``ok``, ``degraded`` or ``down``, and whether the gateway can serve.

    result_store   down or slow: every miss is transformed again, nothing is lost -> degraded
    account_store  unreadable: no workspace can be resolved -> down, the one state answered 503
    redis          (when a setting names it) the shared limiter or the usage counters cannot reach it: the node
                   limits alone and the counters wait in memory -> degraded
    usage          the last flush of the usage counters failed (they are kept for the next) -> degraded
    capture        off, idle (no capture asked for yet), or its browsers: some missing -> degraded, none -> down
                   (images are still served, so the gateway as a whole is degraded, not down)

The answer is 200 while the gateway can serve (``ok`` or ``degraded``), so a load balancer keeps a node whose
result store is away; 503 only when it cannot.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Literal

from gateway.metrics import CaptureState

if TYPE_CHECKING:
    from gateway.services import Services

Status = Literal["ok", "degraded", "down"]
Check = dict[str, str | int | bool]
_ORDER: dict[Status, int] = {"ok": 0, "degraded": 1, "down": 2}
_PROBE_TIMEOUT = 2.0
# A namespace no workspace can have (namespaces are lower-case): reading it costs the store one indexed lookup.
_PROBE_NAMESPACE = "_HEALTH_"


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
    overall: Status = "down" if checks["account_store"]["status"] == "down" else "ok"
    if overall == "ok" and any(entry["status"] != "ok" for entry in checks.values()):
        overall = "degraded"
    return overall, checks


async def _result_store(services: Services) -> Check:
    try:
        ok = await asyncio.wait_for(services.results.healthy(), _PROBE_TIMEOUT)
    except Exception:
        ok = False
    return {"status": "ok" if ok else "degraded", "kind": services.results.kind}


async def _account_store(services: Services) -> Check:
    try:
        await asyncio.wait_for(asyncio.to_thread(services.store.get_workspace, _PROBE_NAMESPACE), _PROBE_TIMEOUT)
    except Exception:
        status: Status = "down"
    else:
        status = "ok"
    return {"status": status, "kind": services.settings.account_store}


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
    return {"status": status, "state": "running", "browsers": live}
