"""Plans as data: what each tier may do, and the operator's overrides for one workspace.

Everything that enforces a limit (the limiter, the capture path, custom domains, the management API's IP
allowlist, outgoing webhooks) reads ``effective_limits(workspace.plan, workspace.limit_overrides)`` and nothing
else, so a tier is changed here and an exception for one customer is changed in its workspace's overrides.

Why these numbers. One 2-core node answers ~28,000 cache hits/s, renders ~100 misses/s (10-40 ms of CPU
each) and runs a capture in 0.1-1 s of a browser. Requests per second count hits too (a hit costs a worker),
so they are set against what a page needs, not against render cost:

- ``free``: a site in development or a small blog. 10/s with a burst of 50 loads a page of ~40 thumbnails at
  once; 10,000 renders a month is a catalogue of ~1,000 images in ~10 variants (sizes x formats x dpr);
  100 captures to try them; 5 GiB out (~100,000 images of 50 KB). No custom domain: each one costs a TLS
  certificate and a DNS check, and the gateway's own host works. Captures kept at most a day.
- ``pro``: a shop behind a CDN, which absorbs repeats, so the gateway sees mostly first requests: 100/s,
  burst 500; renders and bytes x25, captures x50; two custom domains (site + staging); signed webhooks.
- ``business``: several sites or a large catalogue: x5-10 again, ten domains, retention up to 30 days, and IP
  allowlisting for the management API (a compliance requirement at that size).
- ``enterprise``: the table's values are a starting point sized at ~7% of one node's hit rate; contracts
  set the real numbers through overrides. Dedicated rendering: its captures run in browsers of its own (one
  in each worker process that captures for it, ~450 MB each), never in the pool other workspaces share, so a
  neighbour's heavy pages neither queue ahead of it nor share a browser process with it (an override gives it
  to any workspace, up to ``MAX_DEDICATED_BROWSERS``; a process runs at most ``[capture]
  dedicated_browsers_max`` of them for all workspaces together). Limits stay finite everywhere on purpose: an
  "unlimited" path is a path with no protection when a customer's page goes into a request loop.

Capture retention options are the values a workspace may choose for ``capture_retention`` (seconds; 0 is
"deliver and keep nothing"); the admin layer refuses any other when one is set, and a value stored before a
downgrade stays until it is changed. Every tier offers one day, the default of a new workspace.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_HOUR = 3600
_DAY = 24 * _HOUR
_GIB = 1024**3


_BOOLS = ("ip_allowlisting", "signed_webhooks")
# A rate of 0 would refuse every request: an operator who means that deactivates the workspace instead.
_AT_LEAST_ONE = ("requests_per_second", "burst")
# Each browser holds ~450 MB in every worker process that captures for the workspace: a typo must not start a
# hundred. A process also caps all its workspaces' browsers together (``[capture] dedicated_browsers_max``).
MAX_DEDICATED_BROWSERS = 8


def _check_values(values: Mapping[str, Any]) -> None:
    """Refuse what no limiter should ever be handed; messages name the limit and never echo a value."""
    for name, value in values.items():
        if value is None:
            continue
        if name in _BOOLS:
            if not isinstance(value, bool):
                raise ValueError(f"plan limit {name} must be true or false")
        elif name == "capture_retention_options":
            if not isinstance(value, (tuple, list)) or not value:
                raise ValueError("plan limit capture_retention_options must be a non-empty list of seconds")
            for seconds in value:
                _check_count(name, seconds, 0)
        else:
            _check_count(name, value, 1 if name in _AT_LEAST_ONE else 0)
            if name == "dedicated_browsers" and value > MAX_DEDICATED_BROWSERS:
                raise ValueError(f"plan limit {name} must be at most {MAX_DEDICATED_BROWSERS}")


def _check_count(name: str, value: Any, least: int) -> None:
    # bool is an int in Python; a JSON true where a number belongs is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"plan limit {name} must be a whole number of at least {least}")
    # Counters (SQLite, Redis) are signed 64-bit: a limit must fit one with room to add to it.
    if value > 2**62:
        raise ValueError(f"plan limit {name} is too large")


def _options(values: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(sorted(set(values)))


@dataclass(frozen=True, slots=True)
class PlanLimits:
    """What one workspace may do. Monthly quotas reset at the start of each UTC calendar month."""

    requests_per_second: int
    # The most requests admitted at once (a token bucket's size); never below the per-second rate.
    burst: int
    renders_per_month: int
    captures_per_month: int
    bytes_out_per_month: int
    custom_domains: int
    capture_retention_options: tuple[int, ...]
    ip_allowlisting: bool
    signed_webhooks: bool
    # Browsers of the workspace's own capture pool in each worker process that captures for it (at most that
    # process's ``[capture] dedicated_browsers_max``); 0: the shared pool.
    dedicated_browsers: int = 0

    def __post_init__(self) -> None:
        _check_values({f.name: getattr(self, f.name) for f in dataclasses.fields(self)})
        object.__setattr__(self, "capture_retention_options", _options(self.capture_retention_options))
        if self.burst < self.requests_per_second:
            raise ValueError("burst must be at least requests_per_second")

    def allows_retention(self, seconds: int) -> bool:
        return seconds in self.capture_retention_options


PLAN_TABLE: Mapping[str, PlanLimits] = {
    "free": PlanLimits(
        requests_per_second=10,
        burst=50,
        renders_per_month=10_000,
        captures_per_month=100,
        bytes_out_per_month=5 * _GIB,
        custom_domains=0,
        capture_retention_options=(0, _HOUR, _DAY),
        ip_allowlisting=False,
        signed_webhooks=False,
    ),
    "pro": PlanLimits(
        requests_per_second=100,
        burst=500,
        renders_per_month=250_000,
        captures_per_month=5_000,
        bytes_out_per_month=100 * _GIB,
        custom_domains=2,
        capture_retention_options=(0, _HOUR, _DAY, 7 * _DAY),
        ip_allowlisting=False,
        signed_webhooks=True,
    ),
    "business": PlanLimits(
        requests_per_second=500,
        burst=2_000,
        renders_per_month=2_500_000,
        captures_per_month=50_000,
        bytes_out_per_month=1024 * _GIB,
        custom_domains=10,
        capture_retention_options=(0, _HOUR, _DAY, 7 * _DAY, 30 * _DAY),
        ip_allowlisting=True,
        signed_webhooks=True,
    ),
    "enterprise": PlanLimits(
        requests_per_second=2_000,
        burst=10_000,
        renders_per_month=25_000_000,
        captures_per_month=500_000,
        bytes_out_per_month=10 * 1024 * _GIB,
        custom_domains=100,
        capture_retention_options=(0, _HOUR, _DAY, 7 * _DAY, 30 * _DAY, 90 * _DAY, 365 * _DAY),
        ip_allowlisting=True,
        signed_webhooks=True,
        dedicated_browsers=1,
    ),
}

# In upgrade order: the first is what a new workspace gets.
PLAN_TIERS: tuple[str, ...] = tuple(PLAN_TABLE)


def plan_limits(tier: str) -> PlanLimits:
    """The table's limits of ``tier``; ``ValueError`` for a tier the table does not have."""
    try:
        return PLAN_TABLE[tier]
    except KeyError:
        raise ValueError(f"plan must be one of {', '.join(PLAN_TIERS)}") from None


@dataclass(frozen=True, slots=True)
class PlanOverrides:
    """An operator's exceptions for one workspace: every field left ``None`` keeps the plan's value.

    Stored with the workspace (so every node's tenancy cache sees a change with the next revision) and
    kept when the plan changes: an override is about the customer, not about the tier.
    """

    requests_per_second: int | None = None
    burst: int | None = None
    renders_per_month: int | None = None
    captures_per_month: int | None = None
    bytes_out_per_month: int | None = None
    custom_domains: int | None = None
    capture_retention_options: tuple[int, ...] | None = None
    ip_allowlisting: bool | None = None
    signed_webhooks: bool | None = None
    dedicated_browsers: int | None = None

    def __post_init__(self) -> None:
        _check_values(self.as_dict())
        if self.capture_retention_options is not None:
            object.__setattr__(self, "capture_retention_options", _options(self.capture_retention_options))

    def as_dict(self) -> dict[str, Any]:
        """Only the values that are set (retention options as a list): JSON-ready, and what is stored."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        shown = {name: value for name, value in values.items() if value is not None}
        if "capture_retention_options" in shown:
            shown["capture_retention_options"] = list(shown["capture_retention_options"])
        return shown

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> PlanOverrides:
        """The inverse of ``as_dict``; ``ValueError`` naming an unknown limit or a bad value."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown plan limit {unknown[0]!r}; known: {', '.join(sorted(known))}")
        given = dict(values)
        options = given.get("capture_retention_options")
        if isinstance(options, list):
            given["capture_retention_options"] = tuple(options)
        return cls(**given)

    @property
    def empty(self) -> bool:
        return not self.as_dict()


def effective_limits(workspace_plan: str, overrides: PlanOverrides | None = None) -> PlanLimits:
    """The plan's limits with the workspace's overrides applied.

    Never refuses a stored override: when an override of the rate and a plan's burst no longer fit together
    (the plan changed since), the burst is raised to the rate, because a bucket smaller than the rate would
    refuse requests that the rate admits. ``ValueError`` only for a tier the table does not have.
    """
    limits = plan_limits(workspace_plan)
    if overrides is None or overrides.empty:
        return limits
    changes = {f.name: getattr(overrides, f.name) for f in dataclasses.fields(overrides)}
    merged = {f.name: getattr(limits, f.name) for f in dataclasses.fields(limits)}
    merged.update({name: value for name, value in changes.items() if value is not None})
    merged["burst"] = max(merged["burst"], merged["requests_per_second"])
    return PlanLimits(**merged)
