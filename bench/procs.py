"""HTTP from the harness, and start-up waits that fail with a BenchError.

The child processes themselves (``ManagedProcess``, a process group logged to a file) and the free
port come from ``loopback``, which the integration tests share: one way to start and stop a server.
"""

from __future__ import annotations

import urllib.error
import urllib.request

from bench.errors import BenchError
from loopback.processes import ManagedProcess, StartError, wait_until_answering


def http_get(url: str, timeout_s: float = 60.0) -> tuple[int, bytes, str]:
    """(status, body, content type); HTTP errors come back as a status rather than raising."""
    request = urllib.request.Request(url, headers={"User-Agent": "imgate-bench"})  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - loopback only
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("Content-Type", "")


def wait_until_healthy(process: ManagedProcess, url: str, timeout_s: float = 60.0) -> None:
    """``url`` answers 200, or the process is stopped and the person running the bench reads why."""
    try:
        wait_until_answering(process, url, timeout_s)
    except StartError as error:
        raise BenchError(str(error)) from None
