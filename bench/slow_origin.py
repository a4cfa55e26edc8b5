"""An origin as a real one behaves: the first byte after a delay, the body at a limited bandwidth.

Run by the remote workloads with the project's python:
    python bench/slow_origin.py ROOT --port P [--first-byte-ms 40] [--mbit 100]
GET /<any>/<...>/<name> answers the file <name> of ROOT (the leading segments are the tags that make each
original new to the servers, see bench/lua/paths.lua). The delay and the pacing are sleeps on an asyncio loop,
so the origin itself costs next to no CPU; each answer is paced on its own, as separate downloads are.
"""

from __future__ import annotations

import argparse
import asyncio
import mimetypes
from pathlib import Path

from aiohttp import web

CHUNK = 16 * 1024


def build_app(root: Path, first_byte_s: float, bytes_per_s: float) -> web.Application:
    files = {path.name: path.read_bytes() for path in root.iterdir() if path.is_file()}

    async def serve(request: web.Request) -> web.StreamResponse:
        name = request.match_info["tail"].rsplit("/", 1)[-1]
        body = files.get(name)
        await asyncio.sleep(first_byte_s)
        if body is None:
            return web.Response(status=404)
        response = web.StreamResponse(
            headers={"Content-Type": mimetypes.guess_type(name)[0] or "application/octet-stream"}
        )
        response.content_length = len(body)
        await response.prepare(request)
        for offset in range(0, len(body), CHUNK):
            await response.write(body[offset : offset + CHUNK])
            await asyncio.sleep(CHUNK / bytes_per_s)
        await response.write_eof()
        return response

    async def health(request: web.Request) -> web.StreamResponse:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", health)
    app.router.add_get("/{tail:.+}", serve)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("root", type=Path)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--first-byte-ms", type=float, default=40.0)
    parser.add_argument("--mbit", type=float, default=100.0, help="bandwidth per download, megabits per second")
    args = parser.parse_args()
    app = build_app(args.root, args.first_byte_ms / 1000, args.mbit * 1_000_000 / 8)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
