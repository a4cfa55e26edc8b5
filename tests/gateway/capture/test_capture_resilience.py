"""What happens when things go wrong: slow pages, a full queue, a hung browser, a killed ChromeDriver,
and shutting down. Each test runs its own small service, and checks that no process outlives it."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import anyio
import pytest

from gateway.capture import CaptureOptions, CaptureService, CaptureSettings
from gateway.errors import CaptureUnavailable, OriginError, Overloaded, Timeout
from gateway.netguard import NetGuard
from tests.gateway.capture.conftest import require_browser, running, tagged_live_processes
from tests.gateway.capture.testsite import TestSite, eventually

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.anyio]

PNG = b"\x89PNG\r\n\x1a\n"
SMALL = CaptureSettings(pool_size=1, max_concurrency=1, timeout=3)
# Long enough for a replacement browser to start on a busy machine (the next capture waits for it).
REPLACING = CaptureSettings(pool_size=1, max_concurrency=1, timeout=8)


def processes_named(service: CaptureService, name: str) -> list[int]:
    found = []
    for pid in service.process_ids():
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == name:
                found.append(pid)
        except OSError:
            continue
    return found


def parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rfind(")") + 2 :].split()[1])


async def test_slow_pages_and_missing_elements_time_out(site: TestSite) -> None:
    async with running(SMALL) as service:
        with pytest.raises(Timeout):
            await service.capture(site.url("/never"), CaptureOptions())
        with pytest.raises(Timeout):
            await service.capture(site.url("/simple.html"), CaptureOptions(wait="#never-there"))
        # The browser is still good for the next capture.
        assert (await service.capture(site.url("/simple.html"), CaptureOptions())).startswith(PNG)


async def test_a_full_queue_answers_overloaded(site: TestSite) -> None:
    settings = CaptureSettings(pool_size=1, max_concurrency=1, max_queue=1, timeout=20)
    async with running(settings) as service:
        site.rearm()
        held = asyncio.ensure_future(service.capture(site.url("/hold"), CaptureOptions()))
        try:
            assert await anyio.to_thread.run_sync(site.held.wait, 15)
            queued = asyncio.ensure_future(service.capture(site.url("/simple.html"), CaptureOptions()))
            while service.queued < 1:
                await asyncio.sleep(0.01)
            with pytest.raises(Overloaded) as refused:
                await service.capture(site.url("/simple.html"), CaptureOptions())
            assert refused.value.status == 503
            assert int(refused.value.headers["Retry-After"]) >= 1
        finally:
            site.release()
        assert (await held).startswith(PNG)
        assert (await queued).startswith(PNG)


async def test_a_cancelled_capture_gives_its_browser_back(site: TestSite) -> None:
    settings = CaptureSettings(pool_size=1, max_concurrency=1, timeout=20)
    async with running(settings) as service:
        site.rearm()
        abandoned = asyncio.ensure_future(service.capture(site.url("/hold"), CaptureOptions()))
        try:
            assert await anyio.to_thread.run_sync(site.held.wait, 15)
            abandoned.cancel()  # the client went away mid-capture
            with pytest.raises(asyncio.CancelledError):
                await abandoned
        finally:
            site.release()
        # The one browser finishes the abandoned page, is reset, and serves the next capture.
        assert (await service.capture(site.url("/simple.html"), CaptureOptions())).startswith(PNG)
        assert service.browsers_replaced == 0


async def test_a_hung_browser_is_killed_and_replaced(site: TestSite) -> None:
    async with running(REPLACING) as service:
        (chromedriver,) = processes_named(service, "chromedriver")
        (browser,) = [pid for pid in processes_named(service, "chromium") if parent_of(pid) == chromedriver]
        os.kill(browser, signal.SIGSTOP)  # frozen: ChromeDriver waits for it forever
        with pytest.raises(Timeout):
            await service.capture(site.url("/simple.html"), CaptureOptions())
        assert service.browsers_replaced == 1
        assert await eventually(lambda: browser not in tagged_live_processes(service.process_tag))
        assert (await service.capture(site.url("/simple.html"), CaptureOptions())).startswith(PNG)


async def test_a_killed_chromedriver_is_replaced_without_failing_captures(site: TestSite) -> None:
    async with running(REPLACING) as service:
        assert (await service.capture(site.url("/simple.html"), CaptureOptions())).startswith(PNG)
        (chromedriver,) = processes_named(service, "chromedriver")
        os.kill(chromedriver, signal.SIGKILL)
        for _ in range(2):
            assert (await service.capture(site.url("/simple.html"), CaptureOptions())).startswith(PNG)
        assert service.browsers_replaced == 1
        assert chromedriver not in processes_named(service, "chromedriver")


async def test_shutdown_leaves_no_process(site: TestSite) -> None:
    require_browser()
    service = CaptureService(CaptureSettings(pool_size=2, max_concurrency=2), NetGuard(["127.0.0.1/32"]))
    await service.start()
    try:
        started = tagged_live_processes(service.process_tag)
        assert len(processes_named(service, "chromedriver")) == 2
        assert len(started) > 4  # two chromedrivers, two browsers, their zygotes and helpers
        shots = await asyncio.gather(
            *(service.capture(site.url("/tall.html"), CaptureOptions(full=True)) for _ in range(3))
        )
        assert all(shot.startswith(PNG) for shot in shots)
    finally:
        await service.aclose()
    assert await eventually(lambda: tagged_live_processes(service.process_tag) == [])
    assert service.process_ids() == []


async def test_a_browser_that_cannot_start_makes_captures_unavailable(tmp_path: Path) -> None:
    settings = CaptureSettings(chromedriver_path=str(tmp_path / "no-such-chromedriver"), launch_timeout=10)
    service = CaptureService(settings, NetGuard())
    with pytest.raises(CaptureUnavailable):
        await service.start()
    with pytest.raises(CaptureUnavailable):
        await service.capture("https://example.com/", CaptureOptions())
    await service.aclose()


async def test_browsers_reach_the_proxy_where_the_settings_say(site: TestSite) -> None:
    # With a Selenium Grid the browsers run elsewhere and reach the proxy under a name of their own: the
    # listen address and the public host are both what the browsers are given. Sent where nothing listens,
    # a browser gets no page at all; sent to the listen address, it does.
    nowhere = CaptureSettings(timeout=10, proxy_public_host="127.0.0.2")
    async with running(nowhere) as service:
        with pytest.raises(OriginError):
            await service.capture(site.url("/simple.html"), CaptureOptions())
    elsewhere = CaptureSettings(timeout=10, proxy_listen_host="127.0.0.2", proxy_clients=("127.0.0.0/8",))
    async with running(elsewhere) as service:
        assert (await service.capture(site.url("/simple.html"), CaptureOptions())).startswith(PNG)
