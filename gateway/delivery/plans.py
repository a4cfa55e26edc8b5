"""Memoised request plans: what a URL means for a workspace, worked out once and reused by every hit.

Parsing the query, building the canonical options, resolving the mark and hashing the cache key cost more
than serving the bytes of a hit. A plan holds all of it, keyed by the raw URL of the request, and is valid
while the workspace's tenant record is the same object (any change to its settings, marks, rules or purges
makes a new one) and for at most ``PLAN_TTL`` seconds (a mark image kept in the origin is re-read by then).
Only successful plans are kept: a URL that is an error is worked out again every time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from cachetools import LRUCache

from gateway.delivery.render import FetchOriginal
from gateway.marks.resolve import ResolvedMark
from gateway.tenancy import Tenant
from transforms.options import Format, TransformOptions

PLAN_TTL = 10.0


@dataclass(frozen=True, slots=True)
class Target:
    kind: str  # "o" (workspace origin), "src" (external URL) or "cap" (capture)
    source_key: str
    identity: str
    fetch: FetchOriginal
    host: str | None  # for auto-apply rules on external hosts
    # Captures: how long outputs are kept (None = a year), and whether to serve the bytes as they are (PDF).
    max_age: int | None = None
    passthrough: bool = False


@dataclass(slots=True)
class Plan:
    tenant: Tenant
    options: TransformOptions
    target: Target
    mark: ResolvedMark | None
    info: bool
    purged_after: float
    expires: float
    # Cache keys by negotiated format (None = the source's family), filled as Accept variants are seen.
    keys: dict[Format | None, str] = field(default_factory=dict)


class PlanCache:
    def __init__(self, size: int = 8192) -> None:
        self._plans: LRUCache[tuple[str, str, bytes], Plan] = LRUCache(maxsize=size)

    def get(self, namespace: str, key: str, query: bytes, tenant: Tenant) -> Plan | None:
        plan = self._plans.get((namespace, key, query))
        if plan is None or plan.tenant is not tenant or plan.expires <= time.monotonic():
            return None
        return plan

    def put(self, namespace: str, key: str, query: bytes, plan: Plan) -> None:
        self._plans[(namespace, key, query)] = plan

    @staticmethod
    def expiry() -> float:
        return time.monotonic() + PLAN_TTL
