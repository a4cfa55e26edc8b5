"""The gateway as a real server for integration tests (the HTTP origin is ``tests.support.origin_server``)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx

from gateway.accounts.models import Workspace
from gateway.accounts.sqlite import SqliteAccountStore

REPO = Path(__file__).resolve().parent.parent.parent


def imgate(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the ``imgate`` command as an operator would, against the data folder of a test gateway."""
    environ = {**os.environ, "IMGATE_DATA_DIR": str(data_dir), **env}
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args], cwd=REPO, env=environ, capture_output=True, text=True, timeout=60
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class GatewayProcess:
    """``imgate serve`` in a child process (Granian, as a user runs it), with its own data folder."""

    def __init__(
        self, data_dir: Path, *, workers: int = 1, settings: Mapping[str, str] | None = None, **more: str
    ) -> None:
        settings = {**(settings or {}), **more}
        self.data_dir = data_dir
        self.port = free_port()
        self.env = {
            **os.environ,
            "IMGATE_DATA_DIR": str(data_dir),
            "IMGATE_PORT": str(self.port),
            "IMGATE_WORKERS": str(workers),
            "IMGATE_TENANCY_TTL": "0.2",
            **{f"IMGATE_{name.upper()}": value for name, value in settings.items()},
        }
        self.process: subprocess.Popen[bytes] | None = None
        # Per port: several gateways may share one data folder (one account store, like nodes sharing one).
        self.log_path = data_dir / f"gateway-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_workspace(self, workspace: Workspace) -> None:
        store = SqliteAccountStore(self.data_dir / "imgate.sqlite3")
        try:
            if store.get_workspace(workspace.namespace) is None:
                store.create_workspace(workspace)
            else:
                current = store.get_workspace(workspace.namespace)
                assert current is not None
                import dataclasses

                store.update_workspace(dataclasses.replace(workspace, revision=current.revision))
        finally:
            store.close()

    def start(self, timeout: float = 30.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gateway.cli", "serve"],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gateway exited: {self.log_path.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/_/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"gateway did not start: {self.log_path.read_text()[-2000:]}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        self.process = None

    def __enter__(self) -> GatewayProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def running(gateway: GatewayProcess) -> Iterator[GatewayProcess]:
    gateway.start()
    try:
        yield gateway
    finally:
        gateway.stop()
