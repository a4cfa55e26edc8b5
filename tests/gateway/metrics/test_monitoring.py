"""/_/metrics, /_/health and the access log of the whole app in this process (one worker, no Granian)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.admin.usage import today
from gateway.health import PROBE_TTL
from gateway.metrics.access_log import ACCESS_LOGGER, BATCH, FLUSH_AFTER, AccessLog, format_of
from gateway.metrics.exposition import MetricsAccess
from gateway.settings import Settings
from tests.conftest import DEMO_IMAGES
from tests.gateway.web.running import call, running

pytestmark = pytest.mark.anyio

SECRET = "s3cr3t-planted-7f3a"


def demo_store() -> MemoryAccountStore:
    store = MemoryAccountStore()
    store.create_workspace(Workspace(namespace="demo", origin_kind="local", origin={"root": str(DEMO_IMAGES)}))
    return store


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one series in a scrape (0 when absent)."""
    for line in text.splitlines():
        if line.startswith("#") or line.partition("{")[0].partition(" ")[0] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0])) if "{" in line else {}
        if all(found.get(key) == value for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.extend(record.getMessage().splitlines())  # a record holds a batch of lines


@pytest.fixture
def access_lines() -> Iterator[list[str]]:
    logger = logging.getLogger(ACCESS_LOGGER)
    handler = Lines()
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def every_line(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


async def test_metrics_count_requests_by_status_and_tier(tmp_path: Path) -> None:
    async with running(tmp_path, demo_store()) as app:
        before = (await call(app, "/_/metrics")).body.decode()
        assert (await call(app, "/demo/photo-grey.jpg", b"w=64")).status == 200  # a miss
        assert (await call(app, "/demo/photo-grey.jpg", b"w=64")).status == 200  # a hit from memory
        assert (await call(app, "/demo/nothing-here.jpg")).status == 404
        scraped = await call(app, "/_/metrics")
    assert scraped.status == 200 and (scraped.header("content-type") or "").startswith("text/plain")
    after = scraped.body.decode()

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("imgate_requests_total", status="200", tier="miss") == 1
    assert grew("imgate_requests_total", status="200", tier="memory") == 1
    assert grew("imgate_requests_total", status="404", tier="none") == 1
    assert grew("imgate_request_duration_seconds_count", tier="miss") == 1
    assert grew("imgate_transform_duration_seconds_count") == 1
    assert grew("imgate_origin_fetch_duration_seconds_count", kind="origin") >= 1
    assert "imgate_transform_queue_depth" in after and "imgate_limiter_rejections" in after
    assert 'workspace="demo"' not in after  # no workspace label unless the setting asks for it


async def test_a_workspace_label_only_when_the_setting_enables_it(tmp_path: Path) -> None:
    async with running(tmp_path, demo_store(), metrics_workspace_label="true") as app:
        await call(app, "/demo/photo-grey.jpg", b"w=32")
        await call(app, "/made-up-space/photo-grey.jpg")
        text = (await call(app, "/_/metrics")).body.decode()
    assert sample(text, "imgate_requests_total", workspace="demo", tier="miss") >= 1
    assert "made-up-space" not in text  # only namespaces that are workspaces become label values


async def test_metrics_answer_only_their_networks_or_the_token(tmp_path: Path) -> None:
    async with running(tmp_path, demo_store(), metrics_networks="10.0.0.0/8", metrics_token=SECRET) as app:
        refused = await call(app, "/_/metrics")
        wrong = await call(app, "/_/metrics", headers=[("Authorization", "Bearer nope")])
        allowed = await call(app, "/_/metrics", headers=[("Authorization", f"Bearer {SECRET}")])
        posted = await call(app, "/_/metrics", method="POST")
    assert refused.status == 403 and json.loads(refused.body)["error"]["code"] == "FORBIDDEN"
    assert wrong.status == 403
    assert allowed.status == 200 and b"imgate_requests_total" in allowed.body
    assert posted.status == 405 and posted.header("allow") == "GET, HEAD"


def scope(peer: str | None, *headers: tuple[str, str]) -> dict[str, object]:
    return {
        "client": (peer, 1) if peer is not None else None,
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers],
    }


def test_metrics_access_rules() -> None:
    access = MetricsAccess(Settings(metrics_networks=("127.0.0.0/8", "fd00::/8"), metrics_token=""))
    assert access.allows(scope("127.0.0.1"))
    assert access.allows(scope("::ffff:127.0.0.1"))
    assert access.allows(scope("fd00::5"))
    assert not access.allows(scope("192.0.2.1"))
    assert not access.allows(scope("192.0.2.1", ("Authorization", "Bearer ")))  # no token set: nothing opens
    assert not access.allows(scope(None))
    assert not access.allows(scope("not-an-address"))


def test_a_proxy_in_front_does_not_make_every_client_local() -> None:
    # Caddy on the same host: every request arrives from loopback, with X-Forwarded-For naming the client.
    unknown_proxy = MetricsAccess(Settings(metrics_token=SECRET))
    assert not unknown_proxy.allows(scope("127.0.0.1", ("X-Forwarded-For", "198.51.100.7")))
    assert not unknown_proxy.allows(scope("127.0.0.1", ("Forwarded", "for=198.51.100.7")))
    assert unknown_proxy.allows(
        scope("127.0.0.1", ("X-Forwarded-For", "1.2.3.4"), ("Authorization", f"Bearer {SECRET}"))
    )
    # Named as a trusted proxy, the forwarded client is what is checked.
    trusted = MetricsAccess(Settings(trusted_proxies=("127.0.0.1/32",), metrics_networks=("10.0.0.0/8",)))
    assert trusted.allows(scope("127.0.0.1", ("X-Forwarded-For", "10.1.2.3")))
    assert not trusted.allows(scope("127.0.0.1", ("X-Forwarded-For", "198.51.100.7")))


async def test_health_reports_each_dependency(tmp_path: Path) -> None:
    async with running(tmp_path, demo_store()) as app:
        answer = await call(app, "/_/health")
    body = json.loads(answer.body)
    assert answer.status == 200 and body["status"] == "ok"
    assert body["checks"]["account_store"]["status"] == "ok"
    assert body["checks"]["result_store"] == {"status": "ok", "kind": "none"}
    assert body["checks"]["usage"] == {"status": "ok"}
    assert body["checks"]["capture"]["status"] == "ok"
    assert "redis" not in body["checks"]  # no Redis configured
    assert answer.header("cache-control") == "no-store"


class FailingStore(MemoryAccountStore):
    """An account store that stops answering, as a lost database file or disk would."""

    broken = False

    def get_workspace(self, namespace: str) -> Workspace | None:
        if self.broken:
            raise OSError("disk I/O error")
        return super().get_workspace(namespace)


async def test_health_is_503_only_when_no_workspace_can_be_resolved(tmp_path: Path) -> None:
    store = FailingStore()
    async with running(tmp_path, store) as app:
        store.broken = True
        answer = await call(app, "/_/health")
        store.broken = False
        await asyncio.sleep(PROBE_TTL)  # the probe's answer is reused that long
        again = await call(app, "/_/health")
    body = json.loads(answer.body)
    assert answer.status == 503 and body["status"] == "down"
    assert body["checks"]["account_store"]["status"] == "down"
    assert "disk I/O" not in answer.body.decode()  # no internal detail
    assert again.status == 200 and json.loads(again.body)["status"] == "ok"


async def test_a_broken_usage_store_is_degraded_not_down(tmp_path: Path) -> None:
    store = demo_store()
    async with running(tmp_path, store) as app:
        await call(app, "/demo/photo-grey.jpg", b"w=16")
        services = app.app.state.services  # type: ignore[attr-defined]
        flusher = services.usage
        original = flusher._store  # noqa: SLF001 - swapped for a store that refuses, then put back

        class Refusing:
            def add_batch(self, batch: object) -> None:
                raise ConnectionError("away")

        flusher._store = Refusing()  # noqa: SLF001
        assert not await flusher.flush()
        answer = await call(app, "/_/health")
        flusher._store = original  # noqa: SLF001
    body = json.loads(answer.body)
    assert answer.status == 200 and body["status"] == "degraded" and body["checks"]["usage"]["status"] == "degraded"
    # The counts were kept and added at shutdown once the store answered again.
    assert [day.requests for day in store.usage.days("demo", *_today_range())] == [1]


def _today_range() -> tuple[date, date]:
    return today(), today()


async def test_the_access_log_is_one_json_line_per_request_without_the_url(
    tmp_path: Path, access_lines: list[str], every_line: pytest.LogCaptureFixture
) -> None:
    async with running(tmp_path, demo_store()) as app:
        await call(app, f"/demo/{SECRET}.jpg", b"w=10")
        await call(app, "/demo/photo-grey.jpg", f"w=20&token={SECRET}".encode())
        await call(app, "/demo/photo-grey.jpg", b"w=24", headers=[("Origin", f"https://{SECRET}.example")])
        await call(app, "/demo/photo-grey.jpg", f"src=https://{SECRET}.example/a.jpg".encode())
        await call(app, f"/{SECRET}/photo-grey.jpg")
        ok = await call(app, "/demo/photo-grey.jpg", b"w=30&fm=webp")
        metrics = (await call(app, "/_/metrics")).body.decode()
    assert ok.status == 200
    assert len(access_lines) == 6
    lines = [json.loads(line) for line in access_lines]
    assert set(lines[-1]) == {"time", "workspace", "status", "code", "latency_ms", "bytes", "tier", "format"}
    assert lines[-1]["workspace"] == "demo" and lines[-1]["format"] == "webp" and lines[-1]["tier"] == "miss"
    assert lines[-1]["bytes"] == len(ok.body)
    assert lines[4]["workspace"] is None and lines[4]["status"] == 404  # a made-up namespace is never written
    everything = "\n".join([*access_lines, *every_line.messages, metrics])
    assert SECRET not in everything


async def test_the_access_log_can_be_off_or_sampled(tmp_path: Path, access_lines: list[str]) -> None:
    async with running(tmp_path, demo_store(), access_log="false") as app:
        await call(app, "/demo/photo-grey.jpg", b"w=10")
    assert access_lines == []
    draws = iter([0.05, 0.5, 0.09, 0.99])
    log = AccessLog(0.1, logging.getLogger(ACCESS_LOGGER), chance=lambda: next(draws))
    for _ in range(4):
        log.write("demo", 200, None, 0.001, 10, "memory", "image/png")
    log.flush()
    assert [json.loads(line)["format"] for line in access_lines] == ["png", "png"]
    assert format_of("image/avif") == "avif" and format_of(None) is None and format_of("text/html") == "other"


async def test_access_lines_are_handed_over_in_batches(access_lines: list[str]) -> None:
    records: list[str] = []
    logger = logging.getLogger(ACCESS_LOGGER)
    collect = Lines()
    collect.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logger.addHandler(collect)
    try:
        log = AccessLog(1.0, logger)
        for n in range(BATCH + 3):
            log.write("demo", 200, None, n / 1000, n, "memory", "image/webp")
        assert len(records) == 1 and len(records[0].splitlines()) == BATCH  # a full batch goes at once
        await asyncio.sleep(FLUSH_AFTER + 0.2)  # the rest within FLUSH_AFTER
        assert len(records) == 2 and len(records[1].splitlines()) == 3
    finally:
        logger.removeHandler(collect)
    parsed = [json.loads(line) for line in access_lines]
    assert [line["bytes"] for line in parsed] == list(range(BATCH + 3))
    assert parsed[7]["latency_ms"] == 7.0 and parsed[7]["time"].endswith("Z")
