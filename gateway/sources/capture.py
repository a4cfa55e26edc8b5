"""Captures as a source: the page's PNG (or PDF) enters the same transform and cache path as any original.

The browsers start on the first capture a worker process serves, not at boot: a gateway that never
captures never runs Chromium, and each Granian worker owns only its own small pool.

What the pages may reach is decided here, once: the gateway's guard (its deny lists, live) trusting
``[capture] trusted_networks`` instead of the gateway's ``trusted_networks``, so trusting loopback for
origins in development never lets a page at loopback too. The workers register their capture machinery
in one registry under the data folder, so each worker's egress proxy refuses every worker's ChromeDriver,
DevTools and proxy ports and the gateway's own port (gateway/capture/machinery.py).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from gateway.capture import CaptureOptions, CaptureService
from gateway.capture.inject import PageSetup
from gateway.capture.machinery import MachineryPorts
from gateway.errors import CaptureUnavailable, GatewayError
from gateway.netguard import NetGuard
from gateway.settings import Settings
from gateway.sources.base import Original

log = logging.getLogger("imgate.capture")


MACHINERY_DIRECTORY = Path("run") / "capture-ports"


class CaptureSource:
    def __init__(self, settings: Settings, guard: NetGuard) -> None:
        self.enabled = settings.capture.enabled
        self.settings = settings.capture
        self._guard = guard.trusting(settings.capture.trusted_networks)
        self._machinery = MachineryPorts(settings.data_path / MACHINERY_DIRECTORY)
        self._gateway_ports = (settings.port,)
        self._service: CaptureService | None = None
        self._lock = asyncio.Lock()

    async def _running(self) -> CaptureService:
        if not self.enabled:
            raise CaptureUnavailable("captures are turned off on this gateway")
        if self._service is None:
            async with self._lock:
                if self._service is None:
                    service = CaptureService(
                        self.settings, self._guard, machinery=self._machinery, gateway_ports=self._gateway_ports
                    )
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

    async def fetch(
        self,
        url: str,
        options: CaptureOptions,
        pdf: bool,
        setup: PageSetup | None = None,
        *,
        namespace: str = "",
        dedicated_browsers: int = 0,
        pool_wait: float = 0.0,
    ) -> Original:
        """The page's capture; ``namespace`` and its plan's ``dedicated_browsers`` choose the pool it runs in,
        ``pool_wait`` how long it may wait for a dedicated pool when all are busy (``CaptureService.capture``)."""
        service = await self._running()
        data = await service.capture(
            url,
            options,
            pdf=pdf,
            setup=setup,
            namespace=namespace,
            dedicated_browsers=dedicated_browsers,
            pool_wait=pool_wait,
        )
        return Original(data, "application/pdf" if pdf else "image/png")

    @property
    def service(self) -> CaptureService | None:
        """The running service; None before this process's first capture."""
        return self._service

    async def aclose(self) -> None:
        service, self._service = self._service, None
        if service is not None:
            await service.aclose()
