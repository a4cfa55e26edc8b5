"""Dedicated rendering: a workspace whose plan has dedicated browsers captures only in its own pool, and no
other workspace ever captures there. Browser identity is the pool's own record: each ``Browser`` counts the
captures it ran, and its processes carry a tag of their own, read back from /proc."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

from gateway.capture import CaptureOptions, CaptureService, CaptureSettings
from gateway.capture.browser import Browser
from gateway.errors import CaptureUnavailable, Overloaded
from tests.gateway.capture.conftest import running, tagged_live_processes
from tests.gateway.capture.testsite import TestSite, eventually

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.anyio]

PNG = b"\x89PNG\r\n\x1a\n"
OWN, OTHER, THIRD = "solo", "neighbour", "third"


@asynccontextmanager
async def dedicated(**changes: object) -> AsyncIterator[CaptureService]:
    """A service with one shared browser, ``changes`` to its settings; no dedicated browser outlives it."""
    given: dict[str, object] = {"pool_size": 1, "max_concurrency": 1, "timeout": 10, **changes}
    async with running(CaptureSettings(**given)) as service:  # type: ignore[arg-type]
        yield service
    assert (service.dedicated_pools, service.dedicated_live) == (0, 0)


async def shoot(
    service: CaptureService, site: TestSite, namespace: str, dedicated: int, path: str = "/simple.html", wait: float = 0
) -> None:
    png = await service.capture(
        site.url(path), CaptureOptions(), namespace=namespace, dedicated_browsers=dedicated, pool_wait=wait
    )
    assert png.startswith(PNG)


def only(browsers: list[Browser]) -> Browser:
    assert len(browsers) == 1
    return browsers[0]


async def test_a_dedicated_workspace_and_its_neighbours_never_share_a_browser(site: TestSite) -> None:
    # A capture timeout well beyond the wait below: a hold that ended on its own would hide a queued capture.
    async with dedicated(dedicated_pools=2, timeout=40) as service:
        shared = only(service.browsers())
        assert service.dedicated_pools == 0 and service.browsers(OWN) == []
        # Interleaved and at once: the neighbour shares the common pool, the other captures only in its own.
        await shoot(service, site, OTHER, 0)
        await shoot(service, site, OWN, 1)
        await asyncio.gather(shoot(service, site, OWN, 1), shoot(service, site, OTHER, 0), shoot(service, site, OWN, 1))
        await shoot(service, site, "", 0)  # a capture with no workspace (the service used alone): common pool
        own = only(service.browsers(OWN))
        assert own is not shared and own.tag != shared.tag
        assert own.captures == 3 and shared.captures == 3
        assert (service.dedicated_pools, service.dedicated_size(OWN), service.dedicated_live) == (1, 1, 1)
        # Separate processes, each browser's own (its tag is in their environment).
        own_processes, shared_processes = tagged_live_processes(own.tag), tagged_live_processes(shared.tag)
        assert own_processes and shared_processes and not set(own_processes) & set(shared_processes)

        # A neighbour's page that hangs holds the common browser; the dedicated workspace does not queue behind it:
        # its capture ends while the hold still does not.
        site.rearm()
        held = asyncio.ensure_future(shoot(service, site, OTHER, 0, "/hold"))
        try:
            assert await anyio.to_thread.run_sync(site.held.wait, 15)
            with anyio.fail_after(30):
                await shoot(service, site, OWN, 1)
            assert not held.done()
        finally:
            site.release()
            await held
        assert own.captures == 4 and shared.captures == 4


async def test_an_idle_pool_is_closed_and_started_again_on_demand(site: TestSite) -> None:
    async with dedicated(dedicated_pools=2, dedicated_idle_timeout=0.5) as service:
        await shoot(service, site, OWN, 1)
        first = only(service.browsers(OWN))
        assert tagged_live_processes(first.tag)
        assert await eventually(lambda: service.dedicated_pools == 0)
        assert await eventually(lambda: tagged_live_processes(first.tag) == [])
        assert await eventually(lambda: service.dedicated_live == 0)
        assert only(service.browsers()).captures == 0  # the common pool stayed, and was never used
        await shoot(service, site, OWN, 1)
        second = only(service.browsers(OWN))
        assert second.tag != first.tag and second.captures == 1


async def test_a_plan_that_drops_it_or_changes_its_size_closes_the_idle_pool(site: TestSite) -> None:
    async with dedicated(dedicated_pools=2) as service:
        shared = only(service.browsers())
        await shoot(service, site, OWN, 1)
        first = only(service.browsers(OWN))
        # Downgraded: the next capture runs in the common pool, and the workspace's own browsers go.
        await shoot(service, site, OWN, 0)
        assert shared.captures == 1 and service.browsers(OWN) == []
        assert await eventually(lambda: tagged_live_processes(first.tag) == [])
        # Upgraded to two browsers: a pool of the new size.
        await asyncio.gather(shoot(service, site, OWN, 2), shoot(service, site, OWN, 2))
        assert service.dedicated_size(OWN) == 2
        assert sum(browser.captures for browser in service.browsers(OWN)) == 2 and shared.captures == 1


async def test_a_busy_pool_keeps_its_size_while_two_views_of_the_plan_disagree(site: TestSite) -> None:
    async with dedicated(dedicated_pools=2, timeout=40) as service:
        shared = only(service.browsers())
        await shoot(service, site, OWN, 1)
        first = only(service.browsers(OWN))
        site.rearm()
        held = asyncio.ensure_future(shoot(service, site, OWN, 1, "/hold"))
        asked: list[asyncio.Future[None]] = []
        try:
            assert await anyio.to_thread.run_sync(site.held.wait, 15)
            # The views of the plan disagree for a moment (the store's, the tenancy cache's): two browsers, none,
            # one. The running pool serves every dedicated capture meanwhile, closed and relaunched for none.
            asked.append(asyncio.ensure_future(shoot(service, site, OWN, 2)))
            assert await eventually(lambda: service.dedicated_busy(OWN) == 2, 30)
            await shoot(service, site, OWN, 0)
            assert shared.captures == 1
            asked.append(asyncio.ensure_future(shoot(service, site, OWN, 1)))
            assert await eventually(lambda: service.dedicated_busy(OWN) == 3, 30)
            assert only(service.browsers(OWN)) is first and service.dedicated_size(OWN) == 1
        finally:
            site.release()
            await asyncio.gather(held, *asked)
        # The latest view asked for the size it has: it stays once idle.
        assert first.captures == 4 and only(service.browsers(OWN)) is first
        # Asked for another size while idle: resized at once.
        await shoot(service, site, OWN, 2)
        assert service.dedicated_size(OWN) == 2
        assert await eventually(lambda: tagged_live_processes(first.tag) == [])


async def test_the_cap_closes_the_least_recently_used_idle_pool_then_refuses(site: TestSite) -> None:
    async with dedicated(dedicated_pools=2, max_queue=0, timeout=40) as service:
        shared = only(service.browsers())
        await shoot(service, site, OWN, 1)
        await shoot(service, site, OTHER, 1)
        own_tag = only(service.browsers(OWN)).tag
        # A third workspace: the least recently used idle pool (OWN's) makes room.
        await shoot(service, site, THIRD, 1)
        assert service.dedicated_pools == 2 and service.browsers(OWN) == []
        assert await eventually(lambda: tagged_live_processes(own_tag) == [])
        # Both pools busy: a capture URL gets 503 with Retry-After at once, never a browser of the common pool;
        # a job's capture waits for room instead.
        site.rearm()
        before = site.hits["/hold"]
        holds = [asyncio.ensure_future(shoot(service, site, name, 1, "/hold")) for name in (OTHER, THIRD)]
        waiting: asyncio.Future[None] | None = None
        try:
            assert await eventually(lambda: site.hits["/hold"] == before + 2, 15)
            with pytest.raises(Overloaded) as refused:
                await shoot(service, site, OWN, 1)
            assert refused.value.status == 503 and 1 <= int(refused.value.headers["Retry-After"]) <= 60
            waiting = asyncio.ensure_future(shoot(service, site, OWN, 1, wait=60))
            assert await eventually(lambda: service.dedicated_waiting == 1, 15)
            assert not waiting.done()
        finally:
            site.release()
            await asyncio.gather(*holds)
        assert waiting is not None
        with anyio.fail_after(60):
            await waiting
        assert shared.captures == 0 and only(service.browsers(OWN)).captures == 1
        # Once one is free again, a capture URL gets a pool back too.
        await shoot(service, site, OWN, 1)
        assert only(service.browsers(OWN)).captures == 2 and shared.captures == 0


async def test_dedicated_browsers_are_capped_per_process_whatever_the_plans_ask(site: TestSite) -> None:
    async with dedicated(dedicated_pools=3, dedicated_browsers_max=1, max_queue=0, timeout=40) as service:
        # A plan of three browsers gets the process's one.
        await shoot(service, site, OWN, 3)
        assert service.dedicated_size(OWN) == 1 and service.dedicated_live == 1
        # A second workspace's pool would exceed the browsers (not the pools): the idle one makes room.
        await shoot(service, site, OTHER, 1)
        assert service.browsers(OWN) == [] and service.dedicated_size(OTHER) == 1
        assert await eventually(lambda: service.dedicated_live == 1)
        site.rearm()
        held = asyncio.ensure_future(shoot(service, site, OTHER, 1, "/hold"))
        try:
            assert await anyio.to_thread.run_sync(site.held.wait, 15)
            with pytest.raises(Overloaded):
                await shoot(service, site, OWN, 1)
        finally:
            site.release()
            await held
        assert service.dedicated_live == 1 and only(service.browsers()).captures == 0


async def test_a_capture_waiting_for_room_ends_when_the_service_closes(site: TestSite) -> None:
    async with dedicated(dedicated_pools=1, timeout=40) as service:
        site.rearm()
        held = asyncio.ensure_future(shoot(service, site, OTHER, 1, "/hold"))
        try:
            assert await anyio.to_thread.run_sync(site.held.wait, 15)
            waiting = asyncio.ensure_future(shoot(service, site, OWN, 1, wait=60))
            assert await eventually(lambda: service.dedicated_waiting == 1, 15)
            closing = asyncio.ensure_future(service.aclose())
            # Refused before any pool is started for it behind the close (not a browser that failed to start).
            with pytest.raises(CaptureUnavailable) as refused, anyio.fail_after(30):
                await waiting
            assert refused.value.message == CaptureUnavailable().message
        finally:
            site.release()
            await asyncio.gather(held, return_exceptions=True)
        await closing
        assert service.browsers(OWN) == []
