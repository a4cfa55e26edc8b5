"""A workspace's usage per UTC day: requests, hits by tier, renders, captures, bytes out, 304s, errors by code.

``GET /_/api/v1/workspaces/{ns}/usage?from=YYYY-MM-DD&to=YYYY-MM-DD`` over ``gateway.admin.usage``, the same
function ``imgate usage`` and the dashboard charts read. Today's counts lag by at most one flush interval.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from gateway.accounts.usage import MAX_DAYS, DailyUsage
from gateway.admin.usage import DEFAULT_DAYS, default_range, totals, usage
from gateway.routes.api.endpoint import ApiCall, Endpoint
from gateway.routes.api.models import QueryDay, QueryString, ResponseBody
from gateway.routes.api.workspaces import WORKSPACE

USAGE = f"{WORKSPACE}/usage"


class UsageRange(QueryString):
    first: QueryDay | None = Field(
        default=None,
        alias="from",
        description=f"First UTC day (YYYY-MM-DD); default {DEFAULT_DAYS - 1} days before `to`.",
    )
    last: QueryDay | None = Field(default=None, alias="to", description="Last UTC day, included; default today.")


class DayOut(ResponseBody):
    day: date = Field(description="UTC day.")
    requests: int = Field(description="Every answer, errors, 304s and preflights included.")
    hits_memory: int = Field(description="Answered from a worker's memory tier (304s included).")
    hits_store: int = Field(description="Answered from the result store.")
    renders: int = Field(description="Misses that ran a transform (what the render quota counts).")
    captures: int = Field(description="Misses that ran a browser capture.")
    bytes_out: int = Field(description="Body bytes sent (none for HEAD and 304).")
    not_modified: int = Field(description="304 Not Modified answers.")
    errors: dict[str, int] = Field(description="Error answers by error code.")


class TotalsOut(ResponseBody):
    requests: int
    renders: int
    captures: int
    bytes_out: int


class UsageReport(ResponseBody):
    first: date = Field(description="The range's first UTC day.")
    last: date = Field(description="The range's last UTC day, included.")
    days: list[DayOut] = Field(description="By day; days without any request left out.")
    totals: TotalsOut = Field(description="Summed over the range.")


def _day_out(day: DailyUsage) -> DayOut:
    return DayOut(
        day=day.day,
        requests=day.requests,
        hits_memory=day.hits_memory,
        hits_store=day.hits_store,
        renders=day.renders,
        captures=day.captures,
        bytes_out=day.bytes_out,
        not_modified=day.not_modified,
        errors=dict(day.errors),
    )


async def workspace_usage(call: ApiCall) -> UsageReport:
    query = call.query(UsageRange)
    first, last = default_range(last=query.last)
    first = query.first or first
    days = await usage(call.ctx, call.namespace, first, last)
    summed = totals(days)
    return UsageReport(
        first=first,
        last=last,
        days=[_day_out(day) for day in days],
        totals=TotalsOut(
            requests=summed.requests, renders=summed.renders, captures=summed.captures, bytes_out=summed.bytes_out
        ),
    )


ENDPOINTS = (
    Endpoint(
        "GET",
        USAGE,
        "Image requests, cache hits, renders, captures, bytes and errors per UTC day",
        workspace_usage,
        "usage",
        query=UsageRange,
        response=UsageReport,
        description=(
            f"At most {MAX_DAYS} days per call. Counted by every worker in memory and added to the store every "
            "few seconds, so today's counts lag by up to `usage_flush_interval` seconds."
        ),
    ),
)
