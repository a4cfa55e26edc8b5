"""A real HTTP origin on loopback for tests: aiohttp's server in its own thread and loop.

Usable from sync and async tests alike, since it never shares the test's event loop::

    with OriginServer() as origin:
        origin.file("/img/a.jpg", data, "image/jpeg")
        origin.redirect("/old.jpg", "/img/a.jpg")
        url = origin.url("/img/a.jpg")
        ...
        assert origin.hits("/img/a.jpg") == 1

Routes match the raw (still percent-encoded) request path, so tests can assert exactly what a client
put on the wire; ``origin.requests`` lists every raw path in arrival order.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from types import TracebackType

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class OriginServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.requests: list[str] = []
        self._routes: dict[str, Handler] = {}
        self._hits: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._closing: asyncio.Event | None = None
        self._port = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> OriginServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="origin-server", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), loop).result(timeout=10)

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = self._thread = None

    async def _start(self) -> None:
        self._closing = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def _stop(self) -> None:
        assert self._closing is not None and self._runner is not None
        self._closing.set()  # releases the stalling handlers
        await self._runner.cleanup()

    # -- addresses ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def hits(self, path: str) -> int:
        with self._lock:
            return self._hits[path]

    # -- routes ------------------------------------------------------------------------------

    def route(self, path: str, handler: Handler) -> None:
        """Any custom behaviour: ``handler`` runs on the server's loop."""
        self._routes[path] = handler

    def file(
        self, path: str, data: bytes, content_type: str = "application/octet-stream", *, chunked: bool = False
    ) -> None:
        """Serve ``data``; ``chunked=True`` streams it without a Content-Length."""

        async def handler(request: web.Request) -> web.StreamResponse:
            if not chunked:
                return web.Response(body=data, headers={"Content-Type": content_type})
            response = web.StreamResponse(headers={"Content-Type": content_type})
            response.enable_chunked_encoding()
            await response.prepare(request)
            for start in range(0, len(data), 16 * 1024):
                await response.write(data[start : start + 16 * 1024])
            await response.write_eof()
            return response

        self.route(path, handler)

    def status(self, path: str, status: int) -> None:
        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, text=f"status {status}")

        self.route(path, handler)

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, headers={"Location": location})

        self.route(path, handler)

    def stall_headers(self, path: str) -> None:
        """Accept the request and never answer it."""

        async def handler(request: web.Request) -> web.StreamResponse:
            assert self._closing is not None
            await self._closing.wait()
            return web.Response(status=503)

        self.route(path, handler)

    def stall_body(self, path: str, first_chunk: bytes = b"\xff\xd8") -> None:
        """Send headers and a first chunk, then nothing more."""

        async def handler(request: web.Request) -> web.StreamResponse:
            assert self._closing is not None
            response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            await response.write(first_chunk)
            await self._closing.wait()
            return response

        self.route(path, handler)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        raw_path = request.rel_url.raw_path
        with self._lock:
            self.requests.append(raw_path)
            self._hits[raw_path] += 1
        handler = self._routes.get(raw_path)
        if handler is None:
            return web.Response(status=404, text="not found")
        return await handler(request)


@contextlib.contextmanager
def silent_listener(host: str = "127.0.0.1") -> Iterator[int]:
    """A port whose kernel completes TCP handshakes but whose owner never reads or answers."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((host, 0))
        sock.listen(16)
        yield sock.getsockname()[1]
    finally:
        sock.close()
