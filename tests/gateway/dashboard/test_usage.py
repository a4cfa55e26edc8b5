"""The usage page: SVG charts with a title per bar, tables, and this month against the plan's limits."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from gateway.accounts.usage import UsageCounts
from gateway.admin.usage import today
from tests.gateway.dashboard.support import DASH, Dash

pytestmark = pytest.mark.anyio


async def test_usage_charts_and_tables(dash: Dash) -> None:
    await dash.sign_up("ana@example.com", "acme")
    now = today()
    dash.store.usage.add(
        "acme",
        now,
        UsageCounts(
            requests=40, hits_memory=20, hits_store=10, renders=10, bytes_out=3 * 1024 * 1024, errors={"NOT_FOUND": 3}
        ),
    )
    dash.store.usage.add("acme", now - timedelta(days=2), UsageCounts(requests=7, renders=7, captures=2))
    dash.store.usage.add("acme", now - timedelta(days=45), UsageCounts(requests=999))  # outside the 30 days
    page = await dash.client.get(f"{DASH}/w/acme/usage")
    assert page.status_code == 200
    assert page.text.count('<svg class="chart"') == 6
    assert f"<title>{now.isoformat()}: 40</title>" in page.text  # requests bar of today
    assert f"<title>{now.isoformat()}: 75 %</title>" in page.text  # 30 hits of 40 served
    assert "3 MiB" in page.text and "<code>NOT_FOUND</code>" in page.text
    assert ">999<" not in page.text
    rows = re.findall(r'<td data-label="Day" class="nowrap">([0-9-]+)</td>', page.text)
    assert rows == [now.isoformat(), (now - timedelta(days=2)).isoformat()]
    # This month's transforms: today's 10, and the 7 of two days ago when that day is in this month too.
    two_days_ago = now - timedelta(days=2)
    transforms = 10 + (7 if (two_days_ago.year, two_days_ago.month) == (now.year, now.month) else 0)
    assert re.search(rf'aria-label="Transforms: {transforms} of [0-9,]+"', page.text)
