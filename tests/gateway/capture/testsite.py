"""The local test site for capture tests: static pages from ``site/`` plus a few dynamic routes, on a
real HTTP server on 127.0.0.1 (the address the tests trust). And a canary: a TCP server on an untrusted
loopback address that counts every connection it ever gets."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import anyio
import pyvips

from tests.support.http_answer import answer

PAGES = Path(__file__).resolve().parent / "site"
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript", ".png": "image/png"}
_COLOURS = {"blue": [0, 0, 255], "green": [0, 255, 0], "grey": [128, 128, 128]}
HOLD_LIMIT_S = 30.0


def solid_png(colour: str) -> bytes:
    image = (pyvips.Image.black(8, 8) + _COLOURS[colour]).cast("uchar")
    data: bytes = image.write_to_buffer(".png")
    return data


class TestSite:
    """Routes besides the files in ``site/``:

    - ``/img/<colour>.png`` a solid image; ``/cached.png`` the same, cacheable for an hour
    - ``/redirect?to=URL`` a 302 to anywhere; ``/headers`` echoes the request headers
    - ``/never`` starts a page and never finishes it
    - ``/hold`` answers only once ``release()`` is called (``held`` is set when it is hit)
    - ``set-state.html`` is also served with a Set-Cookie header
    """

    __test__ = False  # not a test class, despite the name

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.held = threading.Event()
        self._release = threading.Event()
        self._stopping = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                site._route(self)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="test-site", daemon=True)
        self._thread.start()
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return f"{self.origin}{path}"

    def release(self) -> None:
        self._release.set()

    def rearm(self) -> None:
        self.held.clear()
        self._release.clear()

    def close(self) -> None:
        self._stopping.set()
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def _route(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        path = parts.path
        self.hits[path] += 1
        if path.startswith("/img/") and path.endswith(".png"):
            self._send(request, 200, solid_png(path[5:-4]), "image/png")
        elif path == "/cached.png":
            self._send(request, 200, solid_png("grey"), "image/png", {"Cache-Control": "public, max-age=3600"})
        elif path == "/redirect":
            target = parse_qs(parts.query).get("to", ["/"])[0]
            self._send(request, 302, b"", "text/plain", {"Location": target})
        elif path == "/headers":
            self._send(request, 200, str(request.headers).encode(), "text/plain")
        elif path == "/never":
            self._never(request)
        elif path == "/hold":
            self.held.set()
            self._release.wait(HOLD_LIMIT_S)
            self._send(request, 200, (PAGES / "simple.html").read_bytes(), _TYPES[".html"])
        else:
            self._static(request, path)

    def _static(self, request: BaseHTTPRequestHandler, path: str) -> None:
        file = (PAGES / path.lstrip("/")).resolve()
        if PAGES not in file.parents or not file.is_file():
            self._send(request, 404, b"not found", "text/plain")
            return
        headers = {"Set-Cookie": "imgate_http=1; Max-Age=3600; Path=/"} if file.name == "set-state.html" else {}
        self._send(request, 200, file.read_bytes(), _TYPES.get(file.suffix, "application/octet-stream"), headers)

    def _never(self, request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", _TYPES[".html"])
        request.send_header("Content-Length", "100000")
        request.end_headers()
        try:
            request.wfile.write(b"<!doctype html><html><body><p>loading")
            request.wfile.flush()
            self._stopping.wait(HOLD_LIMIT_S)
        except OSError:
            pass

    @staticmethod
    def _send(
        request: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        answer(request, status, body, headers, content_type)


class Canary:
    """Accepts connections on a loopback address (by default an untrusted one) and counts them; nothing
    should ever come."""

    def __init__(self, host: str = "127.0.0.2") -> None:
        self.hits = 0
        self._socket = socket.create_server((host, 0))
        self._socket.settimeout(0.2)
        self.address = f"{host}:{self._socket.getsockname()[1]}"
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="canary", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self.address.rpartition(":")[2])

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.hits += 1
            connection.close()

    def close(self) -> None:
        self._stopping.set()
        self._thread.join()
        self._socket.close()


async def eventually(condition: Callable[[], bool], limit_s: float = 10.0) -> bool:
    """Poll ``condition()`` until it is true or ``limit_s`` passes (an upper bound, never asserted),
    letting the event loop run meanwhile: the service kills and replaces browsers in background tasks."""
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        if condition():
            return True
        await anyio.sleep(0.05)
    return condition()
