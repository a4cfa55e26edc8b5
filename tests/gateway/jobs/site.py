"""A loopback site for capture job tests: a page behind a login cookie, one that needs a localStorage entry, one
that hangs on its first request, redirects, one that loads an image late and slowly, and a webhook receiver that
keeps what it was sent."""

from __future__ import annotations

import threading
import time
from collections import Counter
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pyvips

from tests.support.http_answer import answer

COLOURS = {"green": (0, 200, 0), "blue": (0, 0, 200), "red": (200, 0, 0)}
STORAGE_TOKEN = "letmein-planted-storage-5d1c"  # noqa: S105 - a test's planted value
HOLD_LIMIT_S = 30.0
# An ad slot (blue, top left) and a consent banner over everything (red), as the blocking rules know them.
CLUTTER = (
    "<ins class='adsbygoogle' style='display:block;position:fixed;top:0;left:0;width:80px;height:80px;"
    "background:rgb(0,0,200);z-index:2'></ins>"
    "<div id='onetrust-banner-sdk' style='position:fixed;top:100px;left:0;right:0;bottom:0;"
    "background:rgb(200,0,0);z-index:1'></div>"
)


# A green page that, 300 ms after it loaded, starts an image (blue, over everything) that takes a second to come:
# "load" sees green, "networkidle" waits for the blue.
LATE_IMAGE_DELAY_S = 1.0
LATE_IMAGE = (
    "<script>window.addEventListener('load', () => setTimeout(() => {"
    "const i = new Image(); i.src = '/slow-image';"
    "i.style = 'position:fixed;top:0;left:0;width:100vw;height:100vh';"
    "document.body.appendChild(i); }, 300));</script>"
)


# A green page with a field and a button: the right word typed, then a click, turns it blue (a wrong one red), and
# only then does #revealed exist.
PASSWORD = "open sesame"  # noqa: S105 - a test page's word
REVEAL = (
    "<input id='word' style='position:fixed;top:0;left:0'><button id='go' style='position:fixed;top:30px;left:0'>"
    "go</button><script>document.getElementById('go').addEventListener('click', () => {"
    f"const ok = document.getElementById('word').value === '{PASSWORD}';"
    "document.body.style.background = ok ? 'rgb(0,0,200)' : 'rgb(200,0,0)';"
    "const d = document.createElement('div'); d.id = 'revealed'; document.body.appendChild(d); });</script>"
)


def page(colour: str, script: str = "") -> bytes:
    red, green, blue = COLOURS[colour]
    return (
        f"<!doctype html><html><body style='margin:0;background:rgb({red},{green},{blue})'>"
        f"<div style='height:100vh'></div>{script}</body></html>"
    ).encode()


class JobSite:
    __test__ = False

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.hooks: list[tuple[dict[str, str], bytes]] = []
        self.slow_started = threading.Event()
        self.release = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                site._get(self)

            def do_POST(self) -> None:  # noqa: N802
                site._post(self)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="job-site", daemon=True)
        self._thread.start()

    @property
    def host(self) -> str:
        return self.origin.removeprefix("http://")

    def url(self, path: str) -> str:
        return self.origin + path

    def close(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def _get(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        self.hits[parts.path] += 1
        cookies = SimpleCookie(request.headers.get("Cookie", ""))
        if parts.path == "/private":
            session = cookies["session"].value if "session" in cookies else ""
            if session not in ("green", "blue"):
                return self._send(request, 302, b"", {"Location": "/login"})
            return self._send(request, 200, page(session))
        if parts.path == "/login":
            return self._send(request, 200, page("red"))
        if parts.path == "/storage":
            script = (
                "<script>document.body.style.background = localStorage.getItem('token') === "
                f"'{STORAGE_TOKEN}' ? 'rgb(0,200,0)' : 'rgb(200,0,0)';</script>"
            )
            return self._send(request, 200, page("blue", script))
        if parts.path == "/slow-once":
            if self.hits[parts.path] == 1:
                self.slow_started.set()
                self.release.wait(HOLD_LIMIT_S)
            return self._send(request, 200, page("green"))
        if parts.path == "/redirect":
            target = parse_qs(parts.query).get("to", ["/"])[0]
            return self._send(request, 302, b"", {"Location": target})
        if parts.path == "/cluttered":
            return self._send(request, 200, page("green", CLUTTER))
        if parts.path == "/reveal":
            return self._send(request, 200, page("green", REVEAL))
        if parts.path == "/late-image":
            return self._send(request, 200, page("green", LATE_IMAGE))
        if parts.path == "/slow-image":
            time.sleep(LATE_IMAGE_DELAY_S)
            blue = pyvips.Image.black(8, 8).new_from_image(list(COLOURS["blue"])).cast("uchar")
            return self._send(request, 200, blue.pngsave_buffer(), content_type="image/png")
        return self._send(request, 404, b"not here")

    def _post(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        self.hits[f"POST {parts.path}"] += 1
        body = request.rfile.read(int(request.headers.get("Content-Length", "0")))
        if parts.path == "/hook":
            self.hooks.append(({k.lower(): v for k, v in request.headers.items()}, body))
            return self._send(request, 200, b"ok")
        if parts.path == "/redirect":
            target = parse_qs(parts.query).get("to", ["/"])[0]
            return self._send(request, 307, b"", {"Location": target})
        return self._send(request, 404, b"not here")

    def _send(
        self,
        request: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
        content_type: str = "text/html; charset=utf-8",
    ) -> None:
        answer(request, status, body, headers, content_type)
