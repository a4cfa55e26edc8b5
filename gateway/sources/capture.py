"""Captures as a source: the page's PNG (or PDF) enters the same transform and cache path as any original.

The browsers start on the first capture a worker process serves, not at boot: a gateway that never
captures never runs Chromium, and each Granian worker owns only its own small pool.
"""

from __future__ import annotations

import asyncio
import logging

from gateway.capture import CaptureOptions, CaptureService
from gateway.errors import CaptureUnavailable, GatewayError
from gateway.netguard import NetGuard
from gateway.settings import Settings
from gateway.sources.base import Original

log = logging.getLogger("imgate.capture")


class CaptureSource:
    def __init__(self, settings: Settings, guard: NetGuard) -> None:
        self.enabled = settings.capture.enabled
        self.settings = settings.capture
        self._guard = guard
        self._service: CaptureService | None = None
        self._lock = asyncio.Lock()

    async def _running(self) -> CaptureService:
        if not self.enabled:
            raise CaptureUnavailable("captures are turned off on this gateway")
        if self._service is None:
            async with self._lock:
                if self._service is None:
                    service = CaptureService(self.settings, self._guard)
                    try:
                        await service.start()
                    except GatewayError:
                        await service.aclose()
                        raise
                    except Exception:
                        log.exception("the capture browsers could not start")
                        await service.aclose()
                        raise CaptureUnavailable() from None
                    self._service = service
        return self._service

    async def fetch(self, url: str, options: CaptureOptions, pdf: bool) -> Original:
        service = await self._running()
        data = await service.capture(url, options, pdf=pdf)
        return Original(data, "application/pdf" if pdf else "image/png")

    async def aclose(self) -> None:
        service, self._service = self._service, None
        if service is not None:
            await service.aclose()
