"""Usage: the last 30 days per UTC day (requests, cache hit ratio, bytes out, renders, captures, errors by code)
as server-rendered SVG charts with tables, and this month against the plan's limits.

Everything comes from ``gateway.admin.usage`` (the counters every worker flushes every few seconds), so today's
numbers lag the requests by a flush interval at most.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from starlette.responses import Response

from gateway import admin
from gateway.accounts.usage import DailyUsage
from gateway.admin import usage as admin_usage
from gateway.dashboard import charts
from gateway.dashboard.web import Call
from gateway.dashboard.workspace_pages import ns_of, workspace_page

DAYS = 30


def _hit_ratio(day: DailyUsage) -> float:
    served = day.hits_memory + day.hits_store + day.renders
    return 100.0 * (day.hits_memory + day.hits_store) / served if served else 0.0


async def usage(call: Call) -> Response:
    namespace = ns_of(call)
    first, last = admin_usage.default_range(DAYS)
    stored = {day.day: day for day in await admin_usage.usage(call.ctx, namespace, first, last)}
    days = [first + timedelta(days=n) for n in range(DAYS)]
    rows = [stored.get(day) or DailyUsage(namespace, day) for day in days]
    month_start = date(last.year, last.month, 1)
    month = admin_usage.totals([row for row in await admin_usage.usage(call.ctx, namespace, month_start, last)])
    view = await admin.show_workspace(call.ctx, namespace)
    limits = view.limits
    errors: Counter[str] = Counter()
    for row in rows:
        errors.update(row.errors)
    graphs = [
        ("Requests", charts.bar_chart("Requests per day", days, [r.requests for r in rows])),
        (
            "Cache hit ratio",
            charts.bar_chart("Cache hit ratio per day", days, [_hit_ratio(r) for r in rows], charts.percent, 100),
        ),
        ("Bytes out", charts.bar_chart("Bytes out per day", days, [r.bytes_out for r in rows], charts.human_bytes)),
        ("Transforms", charts.bar_chart("Transforms (renders) per day", days, [r.renders for r in rows])),
        ("Captures", charts.bar_chart("Captures per day", days, [r.captures for r in rows])),
        ("Errors", charts.bar_chart("Error answers per day", days, [r.error_count for r in rows])),
    ]
    meters = [
        ("Transforms", month.renders, limits["renders_per_month"], charts.count),
        ("Captures", month.captures, limits["captures_per_month"], charts.count),
        ("Bytes out", month.bytes_out, limits["bytes_out_per_month"], charts.human_bytes),
    ]
    shown_meters = [
        (label, charts.meter(label, used, limit, fmt), fmt(used), fmt(limit)) for label, used, limit, fmt in meters
    ]
    return workspace_page(
        call,
        "usage.html",
        namespace,
        graphs=graphs,
        rows=[(row, _hit_ratio(row)) for row in reversed(rows)],
        errors=errors.most_common(),
        meters=shown_meters,
        month=month_start.strftime("%B %Y"),
        human_bytes=charts.human_bytes,
    )
