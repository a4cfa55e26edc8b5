"""A small blocking client for a browser's own DevTools endpoint.

ChromeDriver forwards DevTools commands only to the page it is driving, and refuses the browser-level
ones isolation needs (``Target.createBrowserContext``). So each browser also gets one direct DevTools
connection: locally to the ``debuggerAddress`` ChromeDriver reports, on a Selenium Grid to the
``se:cdp`` endpoint the grid exposes. It is used from one thread at a time (the browser's slot thread);
``close`` may come from any thread and makes a blocked call fail.
"""

from __future__ import annotations

import http.client
import itertools
import json
from collections.abc import Mapping
from typing import Any

import websocket


class CdpError(Exception):
    """A DevTools command failed, or the connection to the browser is gone."""


class CdpConnection:
    def __init__(self, url: str, timeout: float) -> None:
        try:
            # No Origin header: Chromium refuses DevTools websockets from an origin it was not told to trust.
            self._socket = websocket.create_connection(url, timeout=timeout, suppress_origin=True)
        except (OSError, websocket.WebSocketException) as exc:
            raise CdpError("cannot connect to the browser's DevTools endpoint") from exc
        self._ids = itertools.count(1)

    @classmethod
    def for_capabilities(cls, capabilities: Mapping[str, Any], timeout: float) -> CdpConnection:
        """Connect to the browser behind a WebDriver session, local or on a grid."""
        grid_endpoint = capabilities.get("se:cdp")
        if isinstance(grid_endpoint, str) and grid_endpoint:
            return cls(grid_endpoint, timeout)
        address = (capabilities.get("goog:chromeOptions") or {}).get("debuggerAddress")
        if not isinstance(address, str) or ":" not in address:
            raise CdpError("the WebDriver session does not expose a DevTools address")
        host, _, port = address.rpartition(":")
        return cls(_browser_websocket_url(host, int(port), timeout), timeout)

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        message_id = next(self._ids)
        try:
            self._socket.send(json.dumps({"id": message_id, "method": method, "params": dict(params or {})}))
            while True:
                reply = json.loads(self._socket.recv())
                # Anything else on this connection is an event; none is subscribed to, so none matters.
                if reply.get("id") == message_id:
                    break
        except (OSError, ValueError, websocket.WebSocketException) as exc:
            raise CdpError(f"DevTools connection lost during {method}") from exc
        if "error" in reply:
            raise CdpError(f"{method} failed: {reply['error'].get('message', 'unknown error')}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    @property
    def connected(self) -> bool:
        return bool(self._socket.connected)

    def close(self) -> None:
        try:
            self._socket.close(timeout=0.5)
        except (OSError, websocket.WebSocketException):
            pass


def _browser_websocket_url(host: str, port: int, timeout: float) -> str:
    # ChromeDriver reports "localhost"; DevTools listens on IPv4 loopback only.
    host = "127.0.0.1" if host == "localhost" else host
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/json/version")
        version = json.loads(connection.getresponse().read())
    except (OSError, ValueError) as exc:
        raise CdpError("cannot read the browser's DevTools version endpoint") from exc
    finally:
        connection.close()
    url = version.get("webSocketDebuggerUrl") if isinstance(version, dict) else None
    if not isinstance(url, str):
        raise CdpError("the browser did not report a DevTools websocket")
    return url.replace("ws://localhost:", "ws://127.0.0.1:", 1)
