"""``imgate serve`` in a child process, as an operator runs it (Granian, settings from ``IMGATE_*``).

The integration tests and the bench both start the gateway through ``GatewayProcess``; each adds only
what is its own (the tests a short tenancy TTL and workspaces written to the store, the bench the
installed ``imgate`` command and its log folder).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Self

from loopback.ports import free_port
from loopback.processes import ManagedProcess, wait_until_answering

HOST = "127.0.0.1"


class GatewayProcess:
    """One gateway on a free loopback port with its own data folder; ``settings`` become ``IMGATE_*``.

    ``command`` is how to run the CLI (default: this interpreter's ``-m gateway.cli``). The log goes to
    ``log_path``, by default ``gateway-<port>.log`` in the data folder (appended, so a restart keeps
    what came before and several gateways may share one folder, like nodes sharing one account store).
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        workers: int = 1,
        settings: Mapping[str, str] | None = None,
        command: Sequence[str] | None = None,
        log_path: Path | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.port = free_port(HOST)
        self.command = list(command) if command is not None else [sys.executable, "-m", "gateway.cli"]
        self.cwd = cwd
        self.env = {
            **os.environ,
            "IMGATE_DATA_DIR": str(data_dir),
            "IMGATE_HOST": HOST,
            "IMGATE_PORT": str(self.port),
            "IMGATE_WORKERS": str(workers),
            # Test and bench gateways live on loopback, whatever public host name they are told to answer to.
            "IMGATE_MAILER_CONSOLE_ANYWHERE": "true",
            **{f"IMGATE_{name.upper()}": value for name, value in (settings or {}).items()},
        }
        self.log_path = log_path or data_dir / f"gateway-{self.port}.log"
        self._process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def process(self) -> ManagedProcess:
        if self._process is None:
            raise RuntimeError("the gateway has not been started")
        return self._process

    def start(self, timeout: float = 30.0) -> None:
        """Start and wait for ``/_/health``; raises ``StartError`` (the child stopped) if it never answers."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [*self.command, "serve"]
        self._process = ManagedProcess("imgate", argv, self.log_path, env=self.env, cwd=self.cwd, append=True)
        try:
            wait_until_answering(self._process, f"{self.url}/_/health", timeout_s=timeout)
        except BaseException:
            self.stop()  # an interrupted wait must not leave the child behind either
            raise

    def alive(self) -> bool:
        return self._process is not None and self._process.running()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
