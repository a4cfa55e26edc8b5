"""A workspace's usage counters per UTC day: what the API, ``imgate usage`` and the dashboard charts read.

The counters are added by every worker's flusher every few seconds (``gateway.usage``), so today's row lags the
requests by at most one flush interval (``usage_flush_interval``). Reading records no audit row: it changes
nothing, and the management API audits its own calls.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from gateway.accounts.usage import MAX_DAYS, DailyUsage, UsageTotals, totals_of
from gateway.admin.context import AdminContext
from gateway.admin.errors import Invalid
from gateway.admin.workspaces import load
from gateway.usage.stores import usage_store

DEFAULT_DAYS = 30


def today() -> date:
    return datetime.now(UTC).date()


def default_range(days: int = DEFAULT_DAYS, last: date | None = None) -> tuple[date, date]:
    """The ``days`` UTC days ending with ``last`` (default today)."""
    if not 1 <= days <= MAX_DAYS:
        raise Invalid(f"days: from 1 to {MAX_DAYS}", "days")
    last = last or today()
    back = timedelta(days=days - 1)
    # Clamped at the calendar's first day, so a range ending in year 1 cannot overflow.
    return (last - back if last - date.min >= back else date.min), last


async def usage(ctx: AdminContext, namespace: str, first: date, last: date) -> list[DailyUsage]:
    """The days from ``first`` to ``last`` (UTC, inclusive) that have counts, by day.

    ``NotFound`` for an unknown workspace; ``Invalid`` for a range that ends before it starts or is longer than
    ``MAX_DAYS``.
    """
    await load(ctx, namespace)
    if last < first:
        raise Invalid("from: must not be after to", "from")
    if (last - first).days + 1 > MAX_DAYS:
        raise Invalid(f"to: a range is at most {MAX_DAYS} days", "to")
    return await ctx.call(usage_store(ctx.settings, ctx.store).days, namespace, first, last)


def totals(days: list[DailyUsage]) -> UsageTotals:
    return totals_of(days)
