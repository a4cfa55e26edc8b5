"""Requests are counted in plain dicts and folded into prometheus_client's values: the fold must give exactly
what ``inc`` and ``observe`` per request would have, and must happen by itself soon after the requests."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY, CollectorRegistry, Histogram

from gateway import metrics
from gateway.metrics import _LATENCY_BUCKETS, FOLD_AFTER, count_request, fold
from gateway.metrics.exposition import render

# Below, on and above bucket bounds (a value on a bound belongs to that bound's bucket, as in ``observe``).
LATENCIES = (0.0, 0.0001, 0.0005, 0.00051, 0.001, 0.0049, 0.01, 0.5, 9.99, 30.0, 31.0, 1000.0)


def samples(registry: CollectorRegistry, name: str, tier: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for family in registry.collect():
        for sample in family.samples:
            if sample.name.startswith(name) and sample.labels.get("tier") == tier:
                found[sample.name + ":" + sample.labels.get("le", "")] = sample.value
    return found


def test_a_fold_adds_what_observing_each_request_would_have() -> None:
    fold()
    before = samples(REGISTRY, "imgate_request_duration_seconds", "fold-test")
    for seconds in LATENCIES:
        count_request(200, "fold-test", seconds)
    fold()
    after = samples(REGISTRY, "imgate_request_duration_seconds", "fold-test")
    grown = {name: value - before.get(name, 0.0) for name, value in after.items() if not name.endswith("created:")}

    reference = CollectorRegistry()
    expected = Histogram("imgate_request_duration_seconds", "x", ["tier"], buckets=_LATENCY_BUCKETS, registry=reference)
    for seconds in LATENCIES:
        expected.labels("fold-test").observe(seconds)
    wanted = {
        name: value
        for name, value in samples(reference, "imgate_request_duration_seconds", "fold-test").items()
        if not name.endswith("created:")
    }
    assert grown == pytest.approx(wanted)
    assert grown["imgate_request_duration_seconds_count:"] == len(LATENCIES)


def test_the_counter_is_folded_by_itself_soon_after_the_requests() -> None:
    def total() -> float:
        value = REGISTRY.get_sample_value("imgate_requests_total", {"status": "203", "tier": "memory", "workspace": ""})
        return value or 0.0

    async def scenario() -> tuple[float, float, float]:
        fold()
        start = total()
        for _ in range(5):
            count_request(203, "memory", 0.0001)
        pending = total()  # not yet: the requests wait in the tally
        await asyncio.sleep(FOLD_AFTER * 5)
        return start, pending, total()

    start, pending, later = asyncio.run(scenario())
    assert pending == start
    assert later == start + 5
    assert not metrics._tally.counts  # noqa: SLF001 - nothing left behind


def test_rendering_leaves_the_tally_to_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    # ``render`` runs in a thread while the loop goes on counting: only the loop may fold (the scrape's route
    # folds before it hands the rendering to the thread), or a count could be added twice or lost.
    labels = {"status": "299", "tier": "memory", "workspace": ""}
    monkeypatch.setattr(metrics, "FOLD_AFTER", 60.0)  # the loop's own fold must not come during the rendering

    async def scenario() -> tuple[float, float, bool, float]:
        fold()
        before = REGISTRY.get_sample_value("imgate_requests_total", labels) or 0.0
        count_request(299, "memory", 0.0001)
        await asyncio.to_thread(render)
        rendered = REGISTRY.get_sample_value("imgate_requests_total", labels) or 0.0
        waiting = bool(metrics._tally.counts)  # noqa: SLF001 - still the loop's to fold
        fold()
        return before, rendered, waiting, REGISTRY.get_sample_value("imgate_requests_total", labels) or 0.0

    before, rendered, waiting, folded = asyncio.run(scenario())
    assert rendered == before and waiting
    assert folded == before + 1
