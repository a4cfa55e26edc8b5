"""Child processes a test or the bench owns: each in its own session, so the whole group can be killed.

Servers fork workers (Granian, thumbor --processes, nginx); killing only the parent would leave
workers holding ports and memory, so every stop is a process-group kill.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

_STOP_GRACE_S = 5.0


class StartError(RuntimeError):
    """A server exited or never answered during start-up; the message ends with the tail of its log."""


class ManagedProcess:
    """A started command whose output goes to a log file and whose process group dies with it."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        *,
        append: bool = False,
    ) -> None:
        self.name = name
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab" if append else "wb") as log:  # the child keeps its own copy of the descriptor
            self._popen = subprocess.Popen(  # noqa: S603 - argv is built by the caller, never a shell
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


def wait_until_answering(process: ManagedProcess, url: str, timeout_s: float = 60.0) -> None:
    """Return once ``url`` answers 200; otherwise stop ``process`` (and its workers) and raise StartError."""
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        if not process.running():
            process.stop()  # its workers may still be alive in the group
            raise StartError(f"{process.name} exited during start-up:\n{process.log_tail()}")
        try:
            status = _status(url)
        except OSError as error:
            last = str(error)
        else:
            if status == 200:
                return
            last = f"HTTP {status}"
        time.sleep(0.1)
    # Do not leave a half-started server behind: the caller only sees the error.
    process.stop()
    raise StartError(f"{process.name} not healthy at {url} after {timeout_s:.0f} s ({last}):\n{process.log_tail()}")


def _status(url: str) -> int:
    request = urllib.request.Request(url, headers={"User-Agent": "imgate-loopback"})  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=2.0) as response:  # noqa: S310 - loopback only
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code
