"""The capture pool reports its browsers, busy ones and restarts to the metrics and to /_/health.

The pool is the real one; its browsers are an in-memory stand-in (launching, a crash, a reset), so the test
needs no Chromium: what is checked is the pool's reporting, which Chromium would not change.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from prometheus_client import REGISTRY

from gateway.capture.browser import Browser, BrowserGone
from gateway.capture.pool import BrowserPool
from gateway.errors import CaptureUnavailable
from gateway.metrics import CaptureState
from gateway.settings import CaptureSettings

pytestmark = pytest.mark.anyio


class StandInBrowser:
    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.captures = 0
        self.alive = True
        self.process_group = None
        self.remote = None  # a local browser: the pool watches it, no remote endpoint to ask

    def is_alive(self) -> bool:
        return self.alive

    def reset(self) -> None:
        return None

    def kill(self) -> None:
        self.alive = False


def value(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def test_browsers_busy_and_restarts_are_reported() -> None:
    settings = CaptureSettings(pool_size=2, max_concurrency=2, timeout=5.0)
    pool = BrowserPool(settings, lambda tag: cast(Browser, StandInBrowser(tag)), "metrics-test")
    running_before = value("imgate_capture_browsers")
    restarts_before = value("imgate_capture_browser_restarts_total")
    await pool.start()
    try:
        assert value("imgate_capture_browsers") == running_before + 2
        assert CaptureState.launched and CaptureState.live >= 2
        seen_busy: list[float] = []

        def job(browser: Any, deadline: float) -> str:
            seen_busy.append(value("imgate_capture_browsers_busy"))
            return "shot"

        assert await pool.run(job) == "shot"
        assert seen_busy == [1.0] and value("imgate_capture_browsers_busy") == 0.0

        def crash(browser: Any, deadline: float) -> str:
            browser.alive = False
            raise BrowserGone("the browser went away")

        with pytest.raises(CaptureUnavailable):
            await pool.run(crash)
        assert value("imgate_capture_browser_restarts_total") == restarts_before + 1
        for _ in range(50):  # the replacement starts in the background
            if value("imgate_capture_browsers") == running_before + 2:
                break
            await asyncio.sleep(0.05)
        assert value("imgate_capture_browsers") == running_before + 2
    finally:
        await pool.aclose()
    assert value("imgate_capture_browsers") == running_before
    assert not CaptureState.launched  # a closed pool is idle again for /_/health
