"""``CaptureSettings``: every knob of the capture service, with the default an operator gets.

The gateway's own settings module maps its ``capture_*`` keys onto this; the capture package reads
nothing else, so it can be started alone (tests, the bench).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CaptureSettings:
    # Browsers kept running. Each serves one capture at a time; more browsers than ``max_concurrency``
    # are spares that take over at once while a crashed or recycled one restarts (~0.7 s).
    pool_size: int = 2
    max_concurrency: int = 2
    # Captures allowed to wait for a browser; one more is answered 503 OVERLOADED with Retry-After.
    max_queue: int = 16
    # Hard limit for one capture (navigation, waiting, screenshot). A queued capture waits at most
    # this long for a browser too, then gets OVERLOADED.
    timeout_s: float = 20.0
    max_full_height: int = 10_000
    max_delay_ms: int = 5_000
    # A browser is replaced after this many captures: a safety net against slow leaks in Chromium
    # itself, since every capture's state is already discarded with its browser context.
    recycle_after: int = 500
    # Selenium Grid hub (``http://grid:4444``): browsers are remote, the code path is the same.
    grid_url: str | None = None
    # None: found on PATH (``chromium``, then ``chromium-browser``, ``google-chrome``; ``chromedriver``).
    chromium_path: str | None = None
    chromedriver_path: str | None = None
    # The egress proxy every browser request goes through. With a grid, listen on an address the
    # nodes reach, name it in ``proxy_public_host`` and list the nodes' networks in ``proxy_clients``.
    proxy_listen_host: str = "127.0.0.1"
    proxy_port: int = 0
    proxy_public_host: str | None = None
    proxy_clients: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    proxy_connect_timeout_s: float = 5.0
    proxy_idle_timeout_s: float = 30.0
    launch_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        for name in (
            "pool_size",
            "max_concurrency",
            "timeout_s",
            "max_full_height",
            "recycle_after",
            "proxy_connect_timeout_s",
            "proxy_idle_timeout_s",
            "launch_timeout_s",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"capture setting {name!r} must be greater than 0")
        if self.max_queue < 0 or self.max_delay_ms < 0:
            raise ValueError("capture settings 'max_queue' and 'max_delay_ms' must be 0 or more")
        if self.max_concurrency > self.pool_size:
            raise ValueError("capture setting 'max_concurrency' cannot exceed 'pool_size' (one capture per browser)")
        if not 0 <= self.proxy_port <= 65535:
            raise ValueError("capture setting 'proxy_port' must be 0 (any free port) to 65535")
        for network in self.proxy_clients:
            ipaddress.ip_network(network, strict=True)  # ValueError names the bad network
