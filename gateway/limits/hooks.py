"""``LimitHooks``: the limits on the request path (``gateway.delivery.hooks.RequestHooks`` and the path's
render gate).

- ``admit`` (every GET and HEAD of a workspace, hits included, before any work): one token from the
  workspace's bucket (``Limiter``), then the monthly bytes-out quota. Every answer gets ``RateLimit-Policy``
  and ``RateLimit``; a refusal is ``429 RATE_LIMITED`` with ``Retry-After`` and both fields, answered by the
  path with the workspace's CORS headers and ``Cache-Control: no-store``, before the plan, the origin or
  libvips.
- ``before_render`` (a miss of memory and result store, before the origin or libvips): the monthly
  renders or captures quota, so hits keep being served when the render quota is used up.
- ``record``: what the monthly quotas count locally until the next read of the usage counters (renders:
  misses of origin and ``src`` images; captures: capture misses; bytes out: every answer's body).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from gateway.accounts.plans import PlanLimits
from gateway.cache.keys import Kind
from gateway.delivery.hooks import Outcome
from gateway.delivery.plans import RequestPlan
from gateway.errors import RateLimited
from gateway.limits.headers import POLICY, RATELIMIT, policy_value, rate_item, retry_after
from gateway.limits.protocol import Limiter
from gateway.limits.quotas import MonthlyQuotas
from gateway.tenancy import Tenant
from gateway.web.cors import Headers

Refused = Callable[[str], None]  # called with "rate", "renders", "captures" or "bytes" (metrics)


def count_nothing(reason: str) -> None:
    """The default ``on_refused``: no metrics to count in."""


class LimitHooks:
    def __init__(self, limiter: Limiter, quotas: MonthlyQuotas, on_refused: Refused = count_nothing) -> None:
        self._limiter = limiter
        self._quotas = quotas
        self._on_refused = on_refused
        # namespace -> (the tenant's limits, their RateLimit-Policy value), while the tenant's limits are the
        # same object: a tenant and its limits are made once per revision of the workspace (gateway.tenancy).
        self._policies: dict[str, tuple[PlanLimits, bytes]] = {}

    @property
    def limiter(self) -> Limiter:
        return self._limiter

    def admit(self, tenant: Tenant) -> Headers:
        # On every hit: each step is a dictionary lookup or a little arithmetic (~1.5 us of CPU in all).
        namespace = tenant.workspace.namespace
        limits, policy = tenant.limits, self._policy(tenant)
        admitted, remaining, wait = self._limiter.acquire(namespace, limits.requests_per_second, limits.burst)
        if not admitted:
            self._on_refused("rate")
            value = rate_item(remaining, wait) + self._quotas.items(namespace, limits)
            raise RateLimited(
                f"more than {limits.requests_per_second} requests a second (burst {limits.burst}) to this workspace",
                headers={"Retry-After": retry_after(wait), **_fields(policy, value)},
            )
        try:
            items = self._quotas.admit(namespace, limits)
        except RateLimited as exc:
            self._on_refused("bytes")
            exc.headers.update(_fields(policy, rate_item(remaining, wait) + self._quotas.items(namespace, limits)))
            raise
        return ((POLICY, policy), (RATELIMIT, b'"rate";r=%d;t=%d' % (remaining, math.ceil(wait)) + items))

    async def before_render(self, plan: RequestPlan) -> None:
        # The RateLimit fields are on this answer already: admit returned them.
        capture = plan.kind is Kind.CAPTURE
        try:
            await self._quotas.check_render(plan.namespace, capture, plan.tenant.limits)
        except RateLimited:
            self._on_refused("captures" if capture else "renders")
            raise

    def record(self, outcome: Outcome) -> None:
        rendered = outcome.tier == "miss"
        capture = outcome.kind is Kind.CAPTURE
        self._quotas.record(
            outcome.namespace, int(rendered and not capture), int(rendered and capture), outcome.bytes_out
        )

    def _policy(self, tenant: Tenant) -> bytes:
        """The ``RateLimit-Policy`` value of the tenant's limits, formatted once per tenant."""
        cached = self._policies.get(tenant.workspace.namespace)
        if cached is not None and cached[0] is tenant.limits:
            return cached[1]
        policy = policy_value(tenant.limits)
        if len(self._policies) >= 20_000:
            self._policies.clear()
        self._policies[tenant.workspace.namespace] = (tenant.limits, policy)
        return policy


def _fields(policy: bytes, value: bytes) -> dict[str, str]:
    return {"RateLimit-Policy": policy.decode("latin-1"), "RateLimit": value.decode("latin-1")}
