"""``CaptureService``: the one object the gateway holds for captures.

    guard = guard_for(settings).trusting(settings.capture.trusted_networks)    # never the gateway's trust
    machinery = MachineryPorts(settings.data_path / "run" / "capture-ports")   # shared by the node's workers
    service = CaptureService(settings.capture, guard, machinery=machinery, gateway_ports=(settings.port,))
    await service.start()                      # egress proxy + warm browsers
    png = await service.capture("https://example.com/", parse_capture_options(pairs))
    pdf = await service.capture("https://example.com/", CaptureOptions(), pdf=True)
    await service.aclose()                     # no chromium or chromedriver left running

``capture`` raises only ``GatewayError``s: ``ValidationError`` (bad URL or an option the page refuses),
``BlockedAddress`` (the target has no public address: it resolves to a non-public one or not at all),
``OriginError`` (the page could not be loaded), ``Overloaded`` (queue full or no browser free in time, with
Retry-After), ``Timeout``, ``CaptureUnavailable``. Whether the workspace may capture the host at all
(allowed capture domains) is the caller's decision, made before calling.

``guard`` decides what the pages may reach; give it ``[capture] trusted_networks``, never the gateway's own
(see gateway/sources/capture.py). Whatever it trusts, the capture machinery of the node (``machinery``:
every service's proxy, ChromeDriver and DevTools ports, and ``gateway_ports``) is refused (machinery.py).
"""

from __future__ import annotations

import asyncio
import ipaddress
import uuid
from collections.abc import Sequence
from urllib.parse import urlsplit

from gateway.capture.browser import Browser
from gateway.capture.inject import PageSetup
from gateway.capture.machinery import MachineryPorts
from gateway.capture.options import CaptureOptions, validate_target
from gateway.capture.pool import BrowserPool
from gateway.capture.procs import find_processes
from gateway.capture.proxy import EgressProxy
from gateway.capture.shoot import capture_page
from gateway.errors import BlockedAddress, CaptureUnavailable, OriginError, ValidationError
from gateway.netguard import NO_PUBLIC_ADDRESS, NetGuard, resolve_public
from gateway.settings import CaptureSettings


class CaptureService:
    def __init__(
        self,
        settings: CaptureSettings,
        guard: NetGuard,
        *,
        machinery: MachineryPorts | None = None,
        gateway_ports: Sequence[int] = (),
    ) -> None:
        self.settings = settings
        self._guard = guard
        # Marks every process of this service's browsers, so that aclose() can find them all (procs.py).
        self._tag = f"imgate-{uuid.uuid4().hex[:16]}"
        self._machinery = machinery if machinery is not None else MachineryPorts()
        self._gateway_ports = {f"gateway-{index}": port for index, port in enumerate(gateway_ports)}
        self._proxy = EgressProxy(
            guard,
            host=settings.proxy_listen_host,
            port=settings.proxy_port,
            clients=settings.proxy_clients,
            connect_timeout=settings.proxy_connect_timeout,
            idle_timeout=settings.proxy_idle_timeout,
            machinery=self._machinery,
            name=f"{self._tag}.proxy",
        )
        self._pool: BrowserPool | None = None

    async def start(self) -> None:
        if self._gateway_ports:
            self._machinery.register(f"{self._tag}.gateway", self._gateway_ports)
        try:
            await self._proxy.start()
        except BaseException:
            self._machinery.unregister(f"{self._tag}.gateway")
            raise
        settings, proxy, machinery = self.settings, self._proxy, self._machinery
        # The browsers may run elsewhere (a Selenium Grid node): they get the address they reach us at.
        proxy_url = proxy.url(settings.proxy_host_for_browsers)
        browser_proxy_url = proxy.browser_url(settings.proxy_host_for_browsers)

        def launch(tag: str) -> Browser:
            # The browser registers its ports in ``machinery`` before it starts (browser.py).
            return Browser.launch(settings, proxy_url, browser_proxy_url, tag, machinery)

        pool = BrowserPool(settings, launch, self._tag)
        try:
            await pool.start()
        except BaseException:
            await self._proxy.aclose()
            self._machinery.unregister(f"{self._tag}.gateway")
            raise
        self._pool = pool

    async def capture(self, url: str, opts: CaptureOptions, pdf: bool = False, setup: PageSetup | None = None) -> bytes:
        """PNG bytes of the page at ``url`` (PDF bytes if ``pdf``); ``setup``: cookies and localStorage to install."""
        target = validate_target(url)
        _check_pdf_options(opts, pdf)
        if self._pool is None:
            raise CaptureUnavailable()
        await self._check_reachable(target)
        settings = self.settings
        return await self._pool.run(
            lambda browser, deadline: capture_page(
                browser, target, opts, pdf=pdf, deadline=deadline, settings=settings, setup=setup
            )
        )

    async def aclose(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.aclose()
        await self._proxy.aclose()
        self._machinery.unregister(f"{self._tag}.gateway")

    @property
    def egress_refusals(self) -> int:
        """Requests the egress proxy refused since start (a metric, and what the SSRF tests count)."""
        return self._proxy.refused

    @property
    def browsers_replaced(self) -> int:
        return self._pool.replaced if self._pool is not None else 0

    @property
    def queued(self) -> int:
        """Captures waiting for a browser right now."""
        return self._pool.waiting if self._pool is not None else 0

    @property
    def process_tag(self) -> str:
        """The ``IMGATE_CAPTURE_TAG`` value in the environment of this service's browser processes."""
        return self._tag

    def process_ids(self) -> list[int]:
        """Live processes of this service's browsers; empty after ``aclose``."""
        if self._pool is None:
            return find_processes(self._tag)
        return self._pool.process_ids()

    async def _check_reachable(self, target: str) -> None:
        # The proxy enforces this for every request; checking the page's own host first turns the
        # common case into a clear BLOCKED_ADDRESS instead of an error page.
        parts = urlsplit(target)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = await asyncio.wait_for(
                resolve_public(parts.hostname or "", port, self._guard), self.settings.proxy_connect_timeout
            )
        except TimeoutError:
            raise OriginError("the page's host name did not resolve in time") from None
        if any(self._proxy.is_machinery(ipaddress.ip_address(address), port) for address in addresses):
            raise BlockedAddress(NO_PUBLIC_ADDRESS)


def _check_pdf_options(opts: CaptureOptions, pdf: bool) -> None:
    if not pdf:
        return
    # A PDF is always the whole document as printed; these options have no meaning there.
    for name, given in (
        ("el", opts.el is not None),
        ("redact", bool(opts.redact)),
        ("full", opts.full),
        ("cdpr", opts.cdpr != 1),
    ):
        if given:
            raise ValidationError(f"{name}: not available with fm=pdf")
