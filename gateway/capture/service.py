"""``CaptureService``: the one object the gateway holds for captures.

    guard = guard_for(settings).trusting(settings.capture.trusted_networks)    # never the gateway's trust
    machinery = MachineryPorts(settings.data_path / "run" / "capture-ports")   # shared by the node's workers
    service = CaptureService(settings.capture, guard, machinery=machinery, gateway_ports=(settings.port,))
    await service.start()                      # egress proxy + warm browsers
    png = await service.capture("https://example.com/", parse_capture_options(pairs))
    pdf = await service.capture("https://example.com/", CaptureOptions(), pdf=True)
    png = await service.capture(url, opts, namespace="acme", dedicated_browsers=1)   # acme's own browsers
    png = await service.capture(url, opts, namespace="acme", dedicated_browsers=1, pool_wait=60)   # a job's
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
import dataclasses
import ipaddress
import itertools
import uuid
from collections.abc import Sequence
from urllib.parse import urlsplit

from gateway.capture.browser import Browser
from gateway.capture.dedicated import DedicatedPools
from gateway.capture.inject import PageSetup
from gateway.capture.interception import intercepting
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
        self._dedicated: DedicatedPools | None = None
        self._dedicated_numbers = itertools.count(1)

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

        def dedicated_pool(browsers: int) -> BrowserPool:
            # A tag of its own (``<service>.d<N>``), so that closing it kills its browsers and no others.
            sized = dataclasses.replace(settings, pool_size=browsers, max_concurrency=browsers)
            return BrowserPool(sized, launch, f"{self._tag}.d{next(self._dedicated_numbers)}", dedicated=True)

        self._dedicated = DedicatedPools(settings, dedicated_pool)

    async def capture(
        self,
        url: str,
        opts: CaptureOptions,
        pdf: bool = False,
        setup: PageSetup | None = None,
        *,
        namespace: str = "",
        dedicated_browsers: int = 0,
        pool_wait: float = 0.0,
    ) -> bytes:
        """PNG bytes of the page at ``url`` (PDF bytes if ``pdf``); ``setup``: cookies and localStorage to install.

        ``namespace`` with ``dedicated_browsers`` (its plan's number): the capture runs in that workspace's own
        pool (dedicated.py), never in the common one; with 0, in the common pool, and a pool it still had closes
        once idle. ``pool_wait``: seconds to wait for room when every dedicated pool is busy (a job's; 0: a
        ``?capture=`` URL's, ``Overloaded`` at once)."""
        target = validate_target(url)
        _check_pdf_options(opts, pdf)
        if self._pool is None or self._dedicated is None:
            raise CaptureUnavailable()
        await self._check_reachable(target)
        settings = self.settings

        def job(browser: Browser, deadline: float) -> bytes:
            # A job's extra headers and basic credentials: for this capture only, to allowed hosts only.
            with intercepting(browser, setup.network if setup else None, deadline):
                return capture_page(browser, target, opts, pdf=pdf, deadline=deadline, settings=settings, setup=setup)

        if namespace and dedicated_browsers > 0:
            return await self._dedicated.run(namespace, dedicated_browsers, job, wait=pool_wait)
        if namespace:
            self._dedicated.release(namespace)
        return await self._pool.run(job)

    async def aclose(self) -> None:
        dedicated, self._dedicated = self._dedicated, None
        if dedicated is not None:
            await dedicated.aclose()
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
    def dedicated_pools(self) -> int:
        """Workspaces' own pools running in this service now."""
        return self._dedicated.count if self._dedicated is not None else 0

    @property
    def dedicated_live(self) -> int:
        """Browsers running in the workspaces' own pools here (those closing included)."""
        return self._dedicated.live if self._dedicated is not None else 0

    @property
    def dedicated_waiting(self) -> int:
        """Captures (jobs') waiting for room because every dedicated pool is busy."""
        return self._dedicated.waiting if self._dedicated is not None else 0

    def dedicated_busy(self, namespace: str) -> int:
        """Captures running or waiting in ``namespace``'s own pool here."""
        return self._dedicated.busy(namespace) if self._dedicated is not None else 0

    def dedicated_size(self, namespace: str) -> int:
        """The browsers of ``namespace``'s own pool here; 0: it has none running."""
        return self._dedicated.size(namespace) if self._dedicated is not None else 0

    def browsers(self, namespace: str = "") -> list[Browser]:
        """Live browsers of ``namespace``'s own pool, or of the common pool without one (each counts its captures)."""
        if not namespace:
            return self._pool.browsers() if self._pool is not None else []
        return self._dedicated.browsers(namespace) if self._dedicated is not None else []

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
