"""The limiter the settings choose (``limiter``): "local", "redis" (with the local one as its fallback), or
"off" (no ``LimitHooks`` at all)."""

from __future__ import annotations

from gateway.accounts.usage import UsageStore
from gateway.limits.clock import SYSTEM_CLOCK, Clock
from gateway.limits.hooks import LimitHooks, Refused, count_nothing
from gateway.limits.node import NodeLimiter
from gateway.limits.protocol import Limiter
from gateway.limits.quotas import MonthlyQuotas
from gateway.limits.redis_limiter import RedisLimiter
from gateway.settings import Settings

TABLE_FILE = "limits.bin"


def build_limiter(settings: Settings, clock: Clock = SYSTEM_CLOCK) -> Limiter:
    node = NodeLimiter(settings.data_path / "run" / TABLE_FILE, clock)
    if settings.limiter == "redis":
        return RedisLimiter(settings.redis_url, node, clock)
    return node


def build_limit_hooks(
    settings: Settings, usage: UsageStore, clock: Clock = SYSTEM_CLOCK, on_refused: Refused = count_nothing
) -> LimitHooks | None:
    if settings.limiter == "off":
        return None
    quotas = MonthlyQuotas(usage.month_totals, clock, settings.quota_refresh)
    return LimitHooks(build_limiter(settings, clock), quotas, on_refused)
