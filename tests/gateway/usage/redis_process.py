"""A real ``redis-server`` on a free loopback port, owned by the test that starts it."""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from loopback.ports import free_port
from loopback.processes import ManagedProcess
from tests.conftest import require


def redis_server_path() -> str | None:
    return shutil.which("redis-server")


@contextmanager
def redis_server(workdir: Path, port: int | None = None) -> Iterator[str]:
    """A fresh server with no persistence; yields its ``redis://`` URL and stops it on exit."""
    binary = redis_server_path()
    require(binary is not None, "redis-server is not installed")
    assert binary is not None
    port = port or free_port()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    argv += ["--dir", str(workdir)]
    process = ManagedProcess("redis", argv, workdir / f"redis-{port}.log")
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or not process.running():
                raise RuntimeError("redis-server did not start: " + process.log_tail())
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.stop()
