"""Browsers on a remote W3C WebDriver endpoint: a Selenium Grid, or a ChromeDriver serving remotely.

With ``[capture] grid_url`` set, ``Browser.launch`` asks that endpoint for a session instead of starting
ChromeDriver here (``start_remote_session``). Everything else stays as it is for a local browser: the
same Chromium flags, the same egress proxy (the browser is told the address it reaches it at,
``proxy_public_host``), and the same fresh DevTools browser context per capture, made on the browser's own
DevTools connection:

- on a Selenium Grid, through the ``se:cdp`` endpoint the grid exposes for the session;
- on a ChromeDriver serving remotely, through its own WebDriver BiDi websocket (the session asks for
  ``webSocketUrl``): ChromeDriver's ``goog:cdp.sendCommand`` without a DevTools session is a command to
  the browser target, which is what ``Target.createBrowserContext`` needs. The ``debuggerAddress`` it
  also reports is no use from here: Chromium's DevTools listens on the loopback of the machine the
  browser runs on. An endpoint that offers neither is refused: without its own DevTools connection a
  browser cannot be isolated per capture.

What no page may reach: the endpoint's port, and the session's DevTools port (which matters when the
browser runs on this machine), are recorded in the node's machinery registry (machinery.py) before any
capture runs, so the egress proxy refuses them on every address of this machine whatever
``[capture] trusted_networks`` says. A grid on another machine is out of the pages' reach because the
proxy refuses every non-public address unless ``[capture] trusted_networks`` lists it: never list the
grid's network there.

A remote end can die without anything here noticing: a socket fails only when it is next used, a grid's
hub keeps its side of the DevTools connection open whatever its node does, and a browser whose driver was
killed keeps its own DevTools port. So a remote browser is alive only while
its endpoint still answers for its session (``answering``, a ``GET /session/{id}/timeouts``, which a
driver answers without asking the browser); the pool asks before every capture and after every failure,
off the event loop. A dead one is replaced with backoff (pool.py), captures are answered 503
``CAPTURE_UNAVAILABLE`` until the endpoint is back, and then work again without a restart. Logs name the
failure, never the endpoint (an internal address).
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import urllib3
import websocket
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chromium.remote_connection import ChromiumRemoteConnection
from selenium.webdriver.remote.client_config import ClientConfig
from selenium.webdriver.remote.webdriver import WebDriver

from gateway.capture.cdp import CdpConnection, CdpError
from gateway.errors import CaptureUnavailable
from gateway.settings import CaptureSettings

logger = logging.getLogger(__name__)

# How long the liveness check waits for the endpoint: it runs before every capture, so a black-holed
# grid must not hold a capture much longer than a refused connection would.
PROBE_TIMEOUT_S = 2.0
# What talking to a dead or unreachable endpoint raises: Selenium lets urllib3's errors through.
UNREACHABLE = (WebDriverException, urllib3.exceptions.HTTPError, OSError)


@dataclass(frozen=True, slots=True)
class RemoteEndpoint:
    """``grid_url`` taken apart: the URL without credentials, where it listens, and its basic-auth pair."""

    url: str
    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, grid_url: str) -> RemoteEndpoint:
        parts = urlsplit(grid_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("a remote WebDriver endpoint is an http or https URL with a host")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise ValueError("a remote WebDriver endpoint's port must be 1 to 65535") from exc
        host = parts.hostname
        netloc = f"[{host}]" if ":" in host else host
        if parts.port is not None:
            netloc = f"{netloc}:{parts.port}"
        url = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        return cls(url=url, host=host, port=port, username=username, password=password)

    @property
    def on_loopback(self) -> bool:
        return self.host == "localhost" or (_is_ip(self.host) and ipaddress.ip_address(self.host).is_loopback)

    def websocket_url(self, reported: str) -> str:
        """``reported`` (a websocket URL the endpoint gave) as reachable from here: a ChromeDriver names its
        own loopback, which from another machine must be the endpoint's own host and port."""
        parts = urlsplit(reported)
        host = parts.hostname or ""
        loopback = host == "localhost" or (_is_ip(host) and ipaddress.ip_address(host).is_loopback)
        if self.on_loopback or not loopback:
            return reported
        scheme = "wss" if urlsplit(self.url).scheme == "https" else "ws"
        return urlunsplit((scheme, urlsplit(self.url).netloc, parts.path, parts.query, ""))

    def headers(self) -> dict[str, str]:
        if self.username is None:
            return {}
        pair = f"{self.username}:{self.password or ''}".encode()
        return {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}


class RemoteSession:
    """One WebDriver session on the remote endpoint and what it takes to drive, watch and end it."""

    def __init__(self, endpoint: RemoteEndpoint, driver: WebDriver) -> None:
        self.endpoint = endpoint
        self.driver = driver
        # Its own small pool, never the driver's: the check runs beside a capture on another thread.
        self._probe = urllib3.PoolManager(
            num_pools=1, maxsize=2, timeout=urllib3.Timeout(total=PROBE_TIMEOUT_S), retries=False
        )

    def devtools(self, timeout: float) -> CdpConnection:
        """The browser-level DevTools connection of this session (see the module docstring)."""
        capabilities: Mapping[str, Any] = self.driver.capabilities
        grid_endpoint = capabilities.get("se:cdp")
        if isinstance(grid_endpoint, str) and grid_endpoint:
            return CdpConnection(grid_endpoint, timeout)
        bidi = capabilities.get("webSocketUrl")
        if isinstance(bidi, str) and bidi:
            return BidiCdpConnection(self.endpoint.websocket_url(bidi), timeout)
        raise CdpError("the remote WebDriver endpoint offers no DevTools connection (se:cdp or webSocketUrl)")

    def machinery_ports(self) -> dict[str, int]:
        """Ports of this session's machinery that listen on this machine, for the registry."""
        ports = {"webdriver": self.endpoint.port}
        # Reported for the browser's own machine; refusing that port here too costs nothing.
        address = (self.driver.capabilities.get("goog:chromeOptions") or {}).get("debuggerAddress")
        if isinstance(address, str) and address.rpartition(":")[2].isdigit():
            ports["devtools"] = int(address.rpartition(":")[2])
        return ports

    def answering(self) -> bool:
        """Whether the endpoint still answers for this session (blocking, at most ``PROBE_TIMEOUT_S``)."""
        url = f"{self.endpoint.url}/session/{quote(str(self.driver.session_id), safe='')}/timeouts"
        try:
            response = self._probe.request("GET", url, headers=self.endpoint.headers(), preload_content=True)
        except (urllib3.exceptions.HTTPError, OSError):
            return False
        return response.status == 200

    def quit(self) -> None:
        """End the session on the endpoint if it still answers; never raises (the end may be gone)."""
        try:
            self.driver.quit()
        except UNREACHABLE as exc:
            logger.info("a remote capture session could not be ended: %s", type(exc).__name__)
        try:
            self.driver.command_executor.close()  # type: ignore[union-attr]  # a RemoteConnection here
        except UNREACHABLE:
            pass
        self._probe.clear()


class BidiCdpConnection(CdpConnection):
    """Browser-level DevTools commands through a ChromeDriver's WebDriver BiDi websocket."""

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        message_id = next(self._ids)
        command = {"method": method, "params": dict(params or {})}
        try:
            self._socket.send(json.dumps({"id": message_id, "method": "goog:cdp.sendCommand", "params": command}))
            while True:
                reply = json.loads(self._socket.recv())
                # Anything else is an event; none is subscribed to, so none matters.
                if reply.get("id") == message_id:
                    break
        except (OSError, ValueError, websocket.WebSocketException) as exc:
            raise CdpError(f"DevTools connection lost during {method}") from exc
        if reply.get("type") != "success":
            raise CdpError(f"{method} failed: {reply.get('message') or reply.get('error') or 'unknown error'}")
        result: dict[str, Any] = (reply.get("result") or {}).get("result") or {}
        return result


def start_remote_session(settings: CaptureSettings, options: webdriver.ChromeOptions) -> RemoteSession:
    """A new session on ``settings.grid_url`` with ``options``; ``CaptureUnavailable`` if none starts."""
    endpoint = RemoteEndpoint.parse(settings.grid_url)
    config = ClientConfig(
        remote_server_addr=endpoint.url,
        keep_alive=True,
        username=endpoint.username,
        password=endpoint.password,
        # One WebDriver call may not outlast what the pool waits for: a capture and its grace period,
        # or a launch (a grid may queue the new session until a node is free).
        timeout=math.ceil(max(settings.launch_timeout, settings.timeout) + 5),
        # No retries: a WebDriver command is not safe to send twice, a refused connection means the end is
        # gone (the pool decides what then), and urllib3 would log the endpoint's address on each retry.
        # Selenium reads this one key of the mapping.
        # A few connections: the slot thread's commands and a kill from another thread may overlap.
        init_args_for_pool_manager={"init_args_for_pool_manager": {"retries": False, "maxsize": 4}},
    )
    # The BiDi websocket is the browser-level DevTools connection where the endpoint offers no se:cdp.
    options.set_capability("webSocketUrl", True)
    # ChromiumRemoteConnection knows the vendor command that forwards DevTools calls to the page.
    executor = ChromiumRemoteConnection(
        endpoint.url, vendor_prefix="goog", browser_name="chrome", ignore_proxy=True, client_config=config
    )
    try:
        driver = webdriver.Remote(command_executor=executor, options=options)
    except UNREACHABLE as exc:
        executor.close()  # type: ignore[no-untyped-call]
        reason = exc.msg if isinstance(exc, WebDriverException) and exc.msg else type(exc).__name__
        logger.warning("the remote WebDriver endpoint did not start a browser: %s", _first_line(reason))
        raise CaptureUnavailable() from exc
    return RemoteSession(endpoint, driver)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _first_line(text: str) -> str:
    # A driver's message can carry a stack trace and the browser's command line; the first line says why.
    return text.strip().splitlines()[0][:200] if text.strip() else "unknown error"
