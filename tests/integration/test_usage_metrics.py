"""Usage counters, /_/metrics, /_/health and the access log through real Granian workers on loopback.

Two worker processes each count in memory and flush into one store: their counts must add up, nothing may be
lost when the server stops, a scrape (answered by either worker) must sum both, and no line of the log nor any
metric may hold a secret planted in a key, a query or a src URL. Redis usage runs against a real redis-server.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from gateway.accounts.models import Workspace
from gateway.accounts.redis_usage import RedisUsageStore
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.accounts.usage import DailyUsage
from loopback.ports import free_port
from tests.gateway.usage.redis_process import redis_server
from tests.integration.servers import GatewayProcess, imgate

pytestmark = pytest.mark.integration

SECRET = "planted-Secret-9c41e"
IMAGE = "photo-grey.jpg"


def today() -> datetime:
    return datetime.now(UTC)


def wait_for(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def stored_days(data_dir: Path, namespace: str = "demo") -> list[DailyUsage]:
    store = SqliteAccountStore(data_dir / "imgate.sqlite3")
    try:
        day = today().date()
        return store.usage.days(namespace, day, day)
    finally:
        store.close()


def get(url: str, **kwargs: object) -> httpx.Response:
    # A new connection per request: Granian's workers share the port (SO_REUSEPORT), so connections spread.
    with httpx.Client(timeout=20) as client:
        return client.get(url, **kwargs)  # type: ignore[arg-type]


def series(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith("#") or line.partition("{")[0].partition(" ")[0] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0])) if "{" in line else {}
        if all(found.get(key) == value for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def start(data_dir: Path, images_dir: Path, workers: str = "2", **settings: str) -> GatewayProcess:
    gw = GatewayProcess(data_dir, workers=int(workers), settings=settings)
    gw.add_workspace(Workspace(namespace="demo", origin_kind="local", origin={"root": str(images_dir)}))
    gw.start()
    return gw


def send_mix(url: str) -> dict[str, int]:
    """40 requests of known kinds; what they must add up to."""
    first = get(f"{url}/demo/{IMAGE}", params={"w": "48"})
    assert first.status_code == 200
    etag = first.headers["etag"]
    sent = {"requests": 1, "bytes_out": len(first.content), "not_modified": 0, "errors": 0}
    for _ in range(30):
        answer = get(f"{url}/demo/{IMAGE}", params={"w": "48"})
        assert answer.status_code == 200
        sent["requests"] += 1
        sent["bytes_out"] += len(answer.content)
    for _ in range(5):
        answer = get(f"{url}/demo/{IMAGE}", params={"w": "48"}, headers={"If-None-Match": etag})
        assert answer.status_code == 304
        sent["requests"] += 1
        sent["not_modified"] += 1
    for n in range(4):
        answer = get(f"{url}/demo/missing-{n}.jpg")
        assert answer.status_code == 404
        sent["requests"] += 1
        sent["bytes_out"] += len(answer.content)
        sent["errors"] += 1
    return sent


@pytest.fixture(scope="module")
def counted(
    tmp_path_factory: pytest.TempPathFactory, images_dir: Path
) -> Iterator[tuple[GatewayProcess, dict[str, int]]]:
    gw = start(tmp_path_factory.mktemp("usage"), images_dir, usage_flush_interval="0.5")
    try:
        yield gw, send_mix(gw.url)
    finally:
        gw.stop()


def test_the_counts_of_two_workers_add_up(counted: tuple[GatewayProcess, dict[str, int]]) -> None:
    gw, sent = counted
    wait_for(lambda: sum(day.requests for day in stored_days(gw.data_dir)) == sent["requests"])
    (day,) = stored_days(gw.data_dir)
    assert day.bytes_out == sent["bytes_out"]
    assert day.not_modified == sent["not_modified"]
    assert dict(day.errors) == {"NOT_FOUND": sent["errors"]}
    # Each worker renders at most once (the result store serves the other), every other 200 or 304 was a hit.
    assert 1 <= day.renders <= 2
    assert day.renders + day.hits_memory + day.hits_store == sent["requests"] - sent["errors"]
    # Both workers wrote metric files: the counts really came from two processes.
    files = list((gw.data_dir / "metrics" / str(gw.port)).glob("*/counter_*.db"))
    assert len(files) == 2, files


def test_a_scrape_sums_every_worker(counted: tuple[GatewayProcess, dict[str, int]]) -> None:
    gw, sent = counted
    # Each worker folds its counts into the shared files within ``FOLD_AFTER`` of its last request.
    wait_for(lambda: series(get(f"{gw.url}/_/metrics").text, "imgate_requests_total") == sent["requests"])
    totals = set()
    for _ in range(6):  # answered by either worker: each scrape must see both
        text = get(f"{gw.url}/_/metrics").text
        totals.add(series(text, "imgate_requests_total"))
    assert totals == {float(sent["requests"])}
    text = get(f"{gw.url}/_/metrics").text
    assert series(text, "imgate_requests_total", status="304") == sent["not_modified"]
    assert series(text, "imgate_requests_total", status="404", tier="none") == sent["errors"]
    assert series(text, "imgate_memory_tier_entries") >= 1  # sampled by each worker's flusher


def test_usage_through_the_api_and_the_cli(counted: tuple[GatewayProcess, dict[str, int]]) -> None:
    gw, sent = counted
    wait_for(lambda: sum(day.requests for day in stored_days(gw.data_dir)) == sent["requests"])
    shown = imgate(gw.data_dir, "usage", "demo", "--days", "3")
    assert shown.returncode == 0, shown.stderr
    line = next(row for row in shown.stdout.splitlines() if row.startswith(today().date().isoformat()))
    assert line.split("\t")[1] == str(sent["requests"]) and f"NOT_FOUND={sent['errors']}" in line
    unknown = imgate(gw.data_dir, "usage", "nobody")
    assert unknown.returncode != 0 and "no workspace nobody" in unknown.stderr


def test_nothing_counted_is_lost_when_the_server_stops(tmp_path: Path, images_dir: Path) -> None:
    # A flush interval longer than the test: only the flush at shutdown can store the counts.
    gw = start(tmp_path, images_dir, usage_flush_interval="3600")
    try:
        sent = send_mix(gw.url)
        assert stored_days(gw.data_dir) == []
    finally:
        gw.stop()
    (day,) = stored_days(gw.data_dir)
    assert (day.requests, day.bytes_out, day.not_modified) == (
        sent["requests"],
        sent["bytes_out"],
        sent["not_modified"],
    )


def test_a_planted_secret_reaches_no_log_line_and_no_metric(tmp_path: Path, images_dir: Path) -> None:
    gw = start(tmp_path, images_dir, usage_flush_interval="0.5", metrics_workspace_label="true")
    try:
        get(f"{gw.url}/demo/{SECRET}.jpg")  # in a key
        get(f"{gw.url}/demo/{IMAGE}", params={"w": "40", "q": SECRET})  # in a query value
        get(f"{gw.url}/demo/{IMAGE}", params={SECRET: "1"})  # as a query name
        get(f"{gw.url}/demo", params={"src": f"https://{SECRET}.example.com/{SECRET}.jpg"})  # in a src URL
        get(f"{gw.url}/demo/{IMAGE}", params={"capture": f"https://{SECRET}.example.com/"})  # a capture target
        get(f"{gw.url}/demo/{IMAGE}", headers={"Origin": f"https://{SECRET}.example", "X-Token": SECRET})
        get(f"{gw.url}/{SECRET.lower()}/{IMAGE}")  # as a namespace: no workspace
        ok = get(f"{gw.url}/demo/{IMAGE}", params={"w": "40"})
        assert ok.status_code == 200, (ok.text, ok.headers)
        metrics = get(f"{gw.url}/_/metrics").text
        wait_for(lambda: sum(day.requests for day in stored_days(gw.data_dir)) >= 7)
        api_like = json.dumps([str(day) for day in stored_days(gw.data_dir)])
    finally:
        gw.stop()
    log = gw.log_path.read_text(errors="replace")
    access = [json.loads(line) for line in log.splitlines() if line.startswith('{"time"')]
    assert len(access) == 8  # one line per request (the scrape is no workspace request)
    assert {line["workspace"] for line in access} == {"demo", None}
    for text in (log, metrics, api_like):
        assert SECRET not in text and SECRET.lower() not in text


def test_usage_in_redis_adds_up_across_nodes(tmp_path: Path, images_dir: Path) -> None:
    # Two nodes (each its own data folder and account store, one with two workers) sharing one Redis.
    with redis_server(tmp_path) as url:
        shared = {"usage_store": "redis", "redis_url": url, "usage_flush_interval": "0.5"}
        first = start(tmp_path / "a", images_dir, **shared)
        second = start(tmp_path / "b", images_dir, workers="1", **shared)
        try:
            sent = send_mix(first.url)
            more = send_mix(second.url)
            redis_usage = RedisUsageStore(url)
            day = today().date()
            expected = sent["requests"] + more["requests"]
            wait_for(lambda: sum(u.requests for u in redis_usage.days("demo", day, day)) == expected)
            health = get(f"{first.url}/_/health").json()
            assert health["status"] == "ok" and health["checks"]["redis"] == {"status": "ok"}
            shown = imgate(
                first.data_dir, "usage", "demo", "--days", "1", IMGATE_USAGE_STORE="redis", IMGATE_REDIS_URL=url
            )
            assert shown.returncode == 0, shown.stderr
            assert f"\t{expected}\t" in shown.stdout  # the CLI reads the same Redis counters
        finally:
            first.stop()
            second.stop()
        (usage,) = redis_usage.days("demo", day, day)
        assert (usage.requests, usage.bytes_out) == (expected, sent["bytes_out"] + more["bytes_out"])
        assert dict(usage.errors) == {"NOT_FOUND": sent["errors"] + more["errors"]}
        assert stored_days(first.data_dir) == [] and stored_days(second.data_dir) == []  # none in the account stores
        redis_usage.close()


def redis_check(gw: GatewayProcess) -> object:
    return get(f"{gw.url}/_/health").json()["checks"]["redis"]


def test_redis_away_is_degraded_and_the_counts_wait_for_it(tmp_path: Path, images_dir: Path) -> None:
    port = free_port()
    day = today().date()
    with redis_server(tmp_path / "first", port) as url:
        gw = start(tmp_path / "gw", images_dir, usage_store="redis", redis_url=url, usage_flush_interval="0.3")
    try:
        # The server is gone (a Redis without persistence comes back empty): every request is still answered,
        # health says degraded, and the counts wait in the workers' memory.
        for _ in range(6):
            assert get(f"{gw.url}/demo/{IMAGE}", params={"w": "30"}).status_code == 200
        # Each worker finds out at its own next flush (one with nothing to add asks the store's healthy()):
        # wait until several answers in a row (either worker's) say so.
        wait_for(lambda: all(redis_check(gw) == {"status": "degraded"} for _ in range(4)))
        health = get(f"{gw.url}/_/health")
        assert health.status_code == 200 and health.json()["status"] == "degraded"
        with redis_server(tmp_path / "second", port) as again:
            redis_usage = RedisUsageStore(again)
            wait_for(lambda: sum(u.requests for u in redis_usage.days("demo", day, day)) == 6)
            wait_for(lambda: get(f"{gw.url}/_/health").json()["status"] == "ok")
            redis_usage.close()
    finally:
        gw.stop()
