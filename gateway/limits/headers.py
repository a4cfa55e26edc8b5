"""The ``RateLimit-Policy`` and ``RateLimit`` fields of draft-ietf-httpapi-ratelimit-headers (its current
syntax: Structured Field lists of a quoted policy name with parameters), on every answer of a workspace.

    RateLimit-Policy: "rate";q=500;w=5, "renders";q=250000, "captures";q=5000, "bytes";q=107374182400;qu="content-bytes"
    RateLimit: "rate";r=480;t=1, "renders";r=249120;t=1900800, "captures";r=5000;t=1900800, "bytes";r=...;t=1900800

``rate`` is the token bucket: ``q`` its size (the burst), ``w`` the seconds it takes to refill from empty;
``r`` the tokens left and ``t`` the seconds until it is full again. The monthly quotas have no fixed window
(months differ in length), so their policies carry no ``w``; their ``t`` is the seconds until the month
resets (UTC). ``r`` of a quota is the gateway's count as of its last read of the usage counters plus what
this process counted since: it can trail the true count by a flush interval.
"""

from __future__ import annotations

import math

from gateway.accounts.plans import PlanLimits

POLICY = b"ratelimit-policy"
RATELIMIT = b"ratelimit"


def policy_value(limits: PlanLimits) -> bytes:
    window = max(1, math.ceil(limits.burst / limits.requests_per_second))
    return b'"rate";q=%d;w=%d, "renders";q=%d, "captures";q=%d, "bytes";q=%d;qu="content-bytes"' % (
        limits.burst,
        window,
        limits.renders_per_month,
        limits.captures_per_month,
        limits.bytes_out_per_month,
    )


def rate_item(remaining: int, wait: float) -> bytes:
    return b'"rate";r=%d;t=%d' % (max(0, remaining), max(0, math.ceil(wait)))


def quota_items(renders: int, captures: int, bytes_out: int, resets_in: float) -> bytes:
    """The monthly part of ``RateLimit``, remaining counts given (never below 0)."""
    t = max(0, math.ceil(resets_in))
    return b', "renders";r=%d;t=%d, "captures";r=%d;t=%d, "bytes";r=%d;t=%d' % (
        max(0, renders),
        t,
        max(0, captures),
        t,
        max(0, bytes_out),
        t,
    )


def retry_after(wait: float) -> str:
    """Whole seconds (HTTP's form), at least one: a client told 0 would retry at once."""
    return str(max(1, math.ceil(wait)))
