"""Child processes the harness owns: each in its own session so the whole group can be killed.

Servers fork workers (Granian, thumbor --processes, nginx); killing only the parent would leave
workers holding ports and memory, so every stop is a process-group kill.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from bench.errors import BenchError

_STOP_GRACE_S = 5.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ManagedProcess:
    """A started command whose output goes to a log file and whose process group dies with it."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("wb") as log:
            self._popen = subprocess.Popen(  # noqa: S603 - argv is built by the harness, never a shell
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self._popen.pid

    def running(self) -> bool:
        return self._popen.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        self._signal_group(signal.SIGTERM)
        try:
            self._popen.wait(timeout=_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            pass
        # Workers may outlive their parent for a moment; make sure nothing of the group is left.
        self._signal_group(signal.SIGKILL)
        try:
            self._popen.wait(timeout=_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            pass

    def _signal_group(self, sig: signal.Signals) -> None:
        try:
            os.killpg(self._popen.pid, sig)
        except ProcessLookupError:
            pass


def http_get(url: str, timeout_s: float = 60.0) -> tuple[int, bytes, str]:
    """(status, body, content type); HTTP errors come back as a status rather than raising."""
    request = urllib.request.Request(url, headers={"User-Agent": "imgate-bench"})  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - loopback only
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("Content-Type", "")


def wait_until_healthy(process: ManagedProcess, url: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        if not process.running():
            process.stop()  # its workers may still be alive in the group
            raise BenchError(f"{process.name} exited during start-up:\n{process.log_tail()}")
        try:
            status, _, _ = http_get(url, timeout_s=2.0)
        except OSError as error:
            last = str(error)
        else:
            if status == 200:
                return
            last = f"HTTP {status}"
        time.sleep(0.2)
    # Do not leave a half-started server behind: the caller only sees the error.
    process.stop()
    tail = process.log_tail()
    raise BenchError(f"{process.name} not healthy at {url} after {timeout_s:.0f} s ({last}):\n{tail}")
