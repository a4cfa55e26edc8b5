"""/_/health needs no credentials, so a burst of calls must not become a burst of store reads: each store is
probed once at a time, the answer reused for PROBE_TTL seconds, and a hung store is not probed again meanwhile."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest

from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.health import PROBE_TTL, SharedProbe
from tests.gateway.web.running import call, running

pytestmark = pytest.mark.anyio


class CountingStore(MemoryAccountStore):
    """Counts the health probe's reads (of a namespace no workspace has); ``hold`` makes them hang."""

    def __init__(self) -> None:
        super().__init__()
        self.probes = 0
        self.hold = threading.Event()
        self.hold.set()

    def get_workspace(self, namespace: str) -> Workspace | None:
        if namespace == "_HEALTH_":
            self.probes += 1
            self.hold.wait(10)
        return super().get_workspace(namespace)


async def test_fifty_concurrent_health_calls_probe_each_store_once(tmp_path: Path) -> None:
    store = CountingStore()
    async with running(tmp_path, store) as app:
        services = app.app.state.services  # type: ignore[attr-defined]
        results = services.results
        result_probes = 0
        healthy = results.healthy

        async def counted() -> bool:
            nonlocal result_probes
            result_probes += 1
            await asyncio.sleep(0.05)  # long enough for every call of the burst to arrive meanwhile
            return bool(await healthy())

        results.healthy = counted
        answers = await asyncio.gather(*(call(app, "/_/health") for _ in range(50)))
        assert all(answer.status == 200 for answer in answers)
        assert {json.loads(answer.body)["checks"]["account_store"]["status"] for answer in answers} == {"ok"}
        assert (store.probes, result_probes) == (1, 1)
        # Past the reuse time, the next call probes again.
        await asyncio.sleep(PROBE_TTL)
        await call(app, "/_/health")
        assert (store.probes, result_probes) == (2, 2)


async def test_a_hung_probe_is_answered_failed_and_not_started_again() -> None:
    # Every waiter gives up after the probe timeout; the probe itself keeps running and is the only one.
    shared = SharedProbe(timeout=0.05)
    started = 0
    release = asyncio.Event()

    async def hangs() -> bool:
        nonlocal started
        started += 1
        await release.wait()
        return True

    assert not await shared.ok(hangs)
    await asyncio.sleep(PROBE_TTL)
    assert not await shared.ok(hangs)  # still hung: the same probe, not a second one
    assert started == 1
    release.set()
    await asyncio.sleep(0.01)
    assert await shared.ok(hangs)  # its late answer is the one reused
    assert started == 1
