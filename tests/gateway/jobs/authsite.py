"""Loopback sites for capture jobs' extra headers and basic credentials: a page that is green or blue only with
the right ``X-Api-Token`` header (red without), one behind HTTP basic auth, and a third-party host those pages
load an image, a script, a fetch and a redirected image from, which keeps every header it was sent.

The fixtures ``site`` and ``third_party`` (one of each per test module) are imported by the modules that use them."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import pyvips

from tests.gateway.jobs.site import COLOURS
from tests.support.http_answer import answer

TOKENS = {"green": "planted-header-token-green-3c9e", "blue": "planted-header-token-blue-8a41"}
USERNAME = "alice"
PASSWORD = "planted-basic-password-6d20"  # noqa: S105 - a test's planted value
TOKEN_HEADER = "X-Api-Token"
DONE = "#done"


def _png(colour: str) -> bytes:
    image = pyvips.Image.black(8, 8).new_from_image(list(COLOURS[colour])).cast("uchar")
    data: bytes = image.pngsave_buffer()
    return data


class AuthSite:
    """Pages: ``/token``, ``/both`` (the token and a ``session`` cookie), ``/basic``. Their subresources:
    ``/own.png?seen=<colour>`` (on the page's own host), ``/redirect?to=URL``, and on the third party
    ``/pixel.png``, ``/script.js``, ``/fetch``, ``/hop.png``; ``/challenge`` is a third-party page behind a
    basic-auth challenge of its own. ``received`` keeps (path and query, headers) of every request."""

    __test__ = False

    def __init__(self, host: str, third_party: str = "") -> None:
        self.received: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self.third_party = third_party
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                site._get(self)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self.host = f"{host}:{self._server.server_address[1]}"
        self.origin = f"http://{self.host}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="auth-site", daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return self.origin + path

    def requests(self, path: str) -> list[dict[str, str]]:
        """The headers of every request for ``path`` (query left out), in order."""
        with self._lock:
            return [headers for seen, headers in self.received if urlsplit(seen).path == path]

    def own_images(self) -> list[tuple[str, str | None]]:
        """(colour of the page that asked, the token that came with it) for every ``/own.png``."""
        with self._lock:
            found = [(urlsplit(seen), headers) for seen, headers in self.received]
        return [
            (parse_qs(parts.query)["seen"][0], headers.get("x-api-token"))
            for parts, headers in found
            if parts.path == "/own.png"
        ]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _page(self, colour: str) -> bytes:
        third = self.third_party
        red, green, blue = COLOURS[colour]
        # Everything a page loads from a third party, and an own-host image that says which page asked for it.
        # The capture waits for #done: the fetch answered (or failed) and the page loaded.
        return (
            f"<!doctype html><html><body style='margin:0;background:rgb({red},{green},{blue})'>"
            f"<img src='/own.png?seen={colour}' width=1 height=1>"
            f"<img src='{third}/pixel.png' width=1 height=1>"
            f"<img src='/redirect?to={third}/hop.png' width=1 height=1>"
            f"<script src='{third}/script.js'></script>"
            "<div style='height:100vh'></div><script>"
            f"const fetched = fetch('{third}/fetch').catch(() => null);"
            "const loaded = new Promise((ok) => window.addEventListener('load', ok));"
            "Promise.all([fetched, loaded]).then(() => {"
            "const d = document.createElement('div'); d.id = 'done'; document.body.appendChild(d); });"
            "</script></body></html>"
        ).encode()

    def _get(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        headers = {name.lower(): value for name, value in request.headers.items()}
        with self._lock:
            self.received.append((request.path, headers))
        if parts.path == "/token":
            colour = next((name for name, token in TOKENS.items() if headers.get("x-api-token") == token), "red")
            return answer(request, 200, self._page(colour))
        if parts.path == "/both":
            # The header and a cookie together: an override of the request's headers keeps the browser's cookies.
            cookie = SimpleCookie(headers.get("cookie", ""))
            both = headers.get("x-api-token") == TOKENS["green"] and "session" in cookie
            return answer(request, 200, self._page("green" if both else "red"))
        if parts.path == "/basic":
            expected = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
            if headers.get("authorization") != expected:
                challenge = {"WWW-Authenticate": 'Basic realm="imgate-test"'}
                return answer(request, 401, self._page("red"), challenge)
            return answer(request, 200, self._page("green"))
        if parts.path == "/redirect":
            target = parse_qs(parts.query).get("to", ["/"])[0]
            return answer(request, 302, b"", {"Location": target})
        if parts.path == "/challenge":
            # A third party that asks for credentials too (a page navigated to it).
            return answer(request, 401, self._page("red"), {"WWW-Authenticate": 'Basic realm="third-party"'})
        if parts.path in ("/own.png", "/pixel.png", "/hop.png"):
            return answer(request, 200, _png("green"), content_type="image/png")
        if parts.path == "/script.js":
            return answer(request, 200, b"window.thirdPartyScript = true;", content_type="text/javascript")
        if parts.path == "/fetch":
            return answer(request, 200, b"ok", content_type="text/plain")
        return answer(request, 404, b"not here", content_type="text/plain")


def serving(host: str, third_party: str = "") -> Iterator[AuthSite]:
    """An ``AuthSite`` for a fixture to yield, closed after."""
    server = AuthSite(host, third_party)
    yield server
    server.close()


@pytest.fixture(scope="module")
def third_party() -> Iterator[AuthSite]:
    # Another loopback address: another host, trusted by the guard so that the page's requests do arrive.
    yield from serving("127.0.0.3")


@pytest.fixture(scope="module")
def site(third_party: AuthSite) -> Iterator[AuthSite]:
    yield from serving("127.0.0.1", third_party.origin)
