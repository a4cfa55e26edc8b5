"""The gateway as a real server for integration tests (the HTTP origin is ``tests.support.origin_server``).

``GatewayProcess`` is the launcher the bench uses too (``loopback.gateway``) with the tests' defaults:
a tenancy TTL short enough that a change made with the CLI shows within a test, the repository as the
working directory, and workspaces written straight into the gateway's account store.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from gateway.accounts.models import Workspace
from gateway.accounts.sqlite import SqliteAccountStore
from loopback import gateway as launcher

REPO = Path(__file__).resolve().parent.parent.parent


def imgate(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the ``imgate`` command as an operator would, against the data folder of a test gateway."""
    environ = {**os.environ, "IMGATE_DATA_DIR": str(data_dir), **env}
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args], cwd=REPO, env=environ, capture_output=True, text=True, timeout=60
    )


class GatewayProcess(launcher.GatewayProcess):
    """``imgate serve`` in a child process (Granian, as a user runs it), with its own data folder."""

    def __init__(
        self, data_dir: Path, *, workers: int = 1, settings: Mapping[str, str] | None = None, **more: str
    ) -> None:
        # Limits off unless a test turns them on (tests/integration/test_limits_*.py): the free plan's 10/s would
        # refuse the bursts other tests send.
        chosen = {"tenancy_ttl": "0.2", "limiter": "off", **(settings or {}), **more}
        super().__init__(data_dir, workers=workers, settings=chosen, cwd=REPO)

    def add_workspace(self, workspace: Workspace) -> None:
        store = SqliteAccountStore(self.data_dir / "imgate.sqlite3")
        try:
            current = store.get_workspace(workspace.namespace)
            if current is None:
                store.create_workspace(workspace)
            else:
                store.update_workspace(dataclasses.replace(workspace, revision=current.revision))
        finally:
            store.close()
