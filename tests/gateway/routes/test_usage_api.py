"""GET /_/api/v1/workspaces/{ns}/usage: the usage counters per day, read through gateway.admin.usage."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from gateway.accounts.keys import issue_api_key
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.accounts.usage import UsageCounts
from gateway.admin.usage import today
from tests.conftest import DEMO_IMAGES
from tests.gateway.web.running import Sent, call, running

pytestmark = pytest.mark.anyio


async def api(app: object, path: str, secret: str, query: str = "") -> Sent:
    return await call(app, f"/_/api/v1{path}", query.encode(), headers=[("Authorization", f"Bearer {secret}")])


async def test_the_usage_route_answers_the_counted_days(tmp_path: Path) -> None:
    store = MemoryAccountStore()
    store.create_workspace(Workspace(namespace="demo", origin_kind="local", origin={"root": str(DEMO_IMAGES)}))
    store.create_workspace(Workspace(namespace="other"))
    secret, _ = issue_api_key(store, "demo", "Reader")
    long_ago = date(2026, 1, 10)
    store.usage.add("demo", long_ago, UsageCounts(requests=5, renders=2, bytes_out=700, errors={"NOT_FOUND": 1}))
    store.usage.add("other", today(), UsageCounts(requests=99))
    async with running(tmp_path, store) as app:
        assert (await call(app, "/demo/photo-grey.jpg", b"w=20")).status == 200
        assert (await call(app, "/demo/photo-grey.jpg", b"w=20")).status == 200
        await app.app.state.services.usage.flush()  # type: ignore[attr-defined]
        recent = await api(app, "/workspaces/demo/usage", secret)
        ranged = await api(app, "/workspaces/demo/usage", secret, "from=2026-01-01&to=2026-01-31")
        reversed_range = await api(app, "/workspaces/demo/usage", secret, "from=2026-02-01&to=2026-01-01")
        too_long = await api(app, "/workspaces/demo/usage", secret, "from=2020-01-01&to=2026-01-01")
        not_a_day = await api(app, "/workspaces/demo/usage", secret, "from=yesterday")
        unknown = await api(app, "/workspaces/demo/usage", secret, "since=2026-01-01")
        others = await api(app, "/workspaces/other/usage", secret)
    assert recent.status == 200, recent.body
    body = json.loads(recent.body)
    assert body["last"] == today().isoformat()
    assert body["first"] == (today() - timedelta(days=29)).isoformat()
    (day,) = body["days"]
    assert (day["requests"], day["renders"], day["hits_memory"], day["errors"]) == (2, 1, 1, {})
    assert body["totals"]["requests"] == 2
    window = json.loads(ranged.body)
    assert [d["day"] for d in window["days"]] == ["2026-01-10"]
    assert window["days"][0]["errors"] == {"NOT_FOUND": 1}
    assert window["totals"] == {"requests": 5, "renders": 2, "captures": 0, "bytes_out": 700}
    assert reversed_range.status == 400 and b"from" in reversed_range.body
    assert too_long.status == 400 and b"366" in too_long.body
    assert not_a_day.status == 400 and b"query.from" in not_a_day.body
    assert unknown.status == 400
    assert others.status == 403  # a key reads only its own workspace's usage


async def test_days_at_the_calendars_edge_and_numbers_are_refused_or_answered_never_a_500(tmp_path: Path) -> None:
    store = MemoryAccountStore()
    store.create_workspace(Workspace(namespace="demo"))
    secret, _ = issue_api_key(store, "demo", "Reader")
    async with running(tmp_path, store) as app:
        year_one = await api(app, "/workspaces/demo/usage", secret, "to=0001-01-01")
        a_number = await api(app, "/workspaces/demo/usage", secret, "from=0.0")
    assert year_one.status == 200, year_one.body
    assert json.loads(year_one.body)["first"] == "0001-01-01"
    assert a_number.status == 400 and b"query.from" in a_number.body
