"""A small blocking client for a browser's own DevTools endpoint.

ChromeDriver forwards DevTools commands only to the page it is driving, and refuses the browser-level
ones isolation needs (``Target.createBrowserContext``). So each browser also gets one direct DevTools
connection: locally to the ``debuggerAddress`` ChromeDriver reports, on a Selenium Grid to the
``se:cdp`` endpoint the grid exposes. It is used from one thread at a time (the browser's slot thread);
``close`` may come from any thread and makes a blocked call fail.

A second connection to the same endpoint (``reconnect``) can attach to one page with a flattened session
(``session_call``) and then hand its thread to ``listen``, which delivers that page's events until
the connection is closed; ``send`` answers them without waiting, and ``listen`` says which of those answers
DevTools refused. gateway/capture/interception.py uses this.
"""

from __future__ import annotations

import http.client
import itertools
import json
import socket
import threading
from collections.abc import Callable, Mapping
from typing import Any

import websocket


class CdpError(Exception):
    """A DevTools command failed, or the connection to the browser is gone."""


# An event: its method, its params, and the flattened session it came from ("" for the browser's own).
EventHandler = Callable[[str, dict[str, Any], str], None]
# A reply to a ``send``: its command id, and whether DevTools refused the command.
ReplyHandler = Callable[[int, bool], None]


class CdpConnection:
    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self._closing = threading.Event()
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

    def reconnect(self, timeout: float) -> CdpConnection:
        """Another connection to the same browser, beside this one."""
        return CdpConnection(self.url, timeout)

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self._call(method, params, "")

    def session_call(self, session: str, method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A command for the flattened session ``session`` (from ``Target.attachToTarget``), waited for."""
        return self._call(method, params, session)

    def _call(self, method: str, params: Mapping[str, Any] | None, session: str) -> dict[str, Any]:
        message_id = next(self._ids)
        try:
            self._socket.send(self._message(message_id, method, params, session))
            while True:
                reply = json.loads(self._socket.recv())
                # Anything else on this connection is an event, which only ``listen`` delivers.
                if reply.get("id") == message_id:
                    break
        except (OSError, ValueError, websocket.WebSocketException) as exc:
            raise CdpError(f"DevTools connection lost during {method}") from exc
        if "error" in reply:
            raise CdpError(f"{method} failed: {reply['error'].get('message', 'unknown error')}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    def send(self, session: str, method: str, params: Mapping[str, Any] | None = None) -> int:
        """A command for ``session`` whose reply is not waited for; for answering events. Its command id, which
        ``listen`` hands to its ``replies`` handler with the reply."""
        message_id = next(self._ids)
        try:
            self._socket.send(self._message(message_id, method, params, session))
        except (OSError, websocket.WebSocketException) as exc:
            raise CdpError(f"DevTools connection lost during {method}") from exc
        return message_id

    def listen(self, handler: EventHandler, replies: ReplyHandler | None = None) -> None:
        """Deliver every event to ``handler``, and every reply to ``send`` to ``replies``, until the connection
        is closed (then return) or lost (``CdpError``). Blocks the calling thread, which then owns reading this
        connection."""
        while not self._closing.is_set():
            try:
                message = json.loads(self._socket.recv())
            except websocket.WebSocketTimeoutException:
                continue  # a quiet page: nothing to deliver, and the connection is still there
            except (OSError, ValueError, websocket.WebSocketException) as exc:
                if self._closing.is_set():
                    return
                raise CdpError("DevTools connection lost while listening") from exc
            if not isinstance(message, dict):
                continue
            method = message.get("method")
            if isinstance(method, str):
                handler(method, message.get("params") or {}, str(message.get("sessionId") or ""))
            elif replies is not None and isinstance(message.get("id"), int):
                replies(message["id"], "error" in message)

    @property
    def connected(self) -> bool:
        return bool(self._socket.connected)

    def close(self) -> None:
        self._closing.set()
        try:
            self._socket.close(timeout=0.5)
        except (OSError, websocket.WebSocketException):
            pass

    def abort(self) -> None:
        """Drop the connection without the closing handshake: safe while another thread is in ``listen``
        (which then returns), where ``close`` would read replies from under it."""
        self._closing.set()
        try:
            # Closing the descriptor alone would leave a blocked recv waiting for its timeout; shutdown wakes it.
            raw = self._socket.sock
            if raw is not None:
                raw.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self._socket.shutdown()  # type: ignore[no-untyped-call]  # websocket-client leaves it untyped
        except (OSError, websocket.WebSocketException):
            pass

    @staticmethod
    def _message(message_id: int, method: str, params: Mapping[str, Any] | None, session: str) -> str:
        message: dict[str, Any] = {"id": message_id, "method": method, "params": dict(params or {})}
        if session:
            message["sessionId"] = session
        return json.dumps(message)


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
