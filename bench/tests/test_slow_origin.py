"""The remote workloads' origin: files by their last path segment, after a first-byte delay, at a set bandwidth."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.procs import http_get
from bench.workloads.remote import ORIGIN_SCRIPT
from loopback.ports import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def origin(tmp_path: Path) -> Iterator[tuple[str, bytes]]:
    body = bytes(range(256)) * 1024  # 256 KiB
    (tmp_path / "photo.jpg").write_bytes(body)
    port = free_port()
    argv = [sys.executable, str(ORIGIN_SCRIPT), str(tmp_path), "--port", str(port)]
    process = subprocess.Popen([*argv, "--first-byte-ms", "100", "--mbit", "20"])  # 20 Mbit/s: 105 ms for 256 KiB
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                http_get(url + "/", timeout_s=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url, body
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_file_comes_after_the_delay_at_the_bandwidth(origin: tuple[str, bytes]) -> None:
    url, body = origin
    began = time.monotonic()
    status, data, _ = http_get(url + "/tag-1/photo.jpg", timeout_s=10)
    took = time.monotonic() - began
    assert (status, data) == (200, body)
    assert took >= 0.1 + 0.1  # the first-byte delay, then about 105 ms of pacing
    assert http_get(url + "/tag-1/nothing.jpg", timeout_s=10)[0] == 404
