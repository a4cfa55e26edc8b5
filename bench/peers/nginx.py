"""nginx serving the gateway's output bytes as static files: the ceiling for cache hits."""

from __future__ import annotations

import os
import pwd
import shutil
from pathlib import Path
from string import Template

from bench.jobs import Job
from bench.peers.base import ProcessPeer
from bench.procs import wait_until_healthy
from bench.tools import require_tool
from loopback.ports import free_port
from loopback.processes import ManagedProcess

_TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "nginx.conf"


def write_hot_files(root: Path, job: Job, body: bytes, count: int) -> None:
    """count separate files with the same bytes (separate files, not links, as distinct cache entries)."""
    shutil.rmtree(root, ignore_errors=True)
    hot = root / "hot"
    hot.mkdir(parents=True)
    for index in range(count):
        (hot / f"{index}.{job.fmt}").write_bytes(body)


class NginxPeer(ProcessPeer):
    label = "nginx static"
    busts_by_query = False

    def __init__(self, root: Path, work_dir: Path, workers: int) -> None:
        nginx = require_tool("nginx")
        (root / "health").write_text("ok\n")
        prefix = work_dir / "nginx"
        for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (prefix / "tmp" / temp).mkdir(parents=True, exist_ok=True)
        port = free_port()
        config = prefix / "nginx.conf"
        config.write_text(
            Template(_TEMPLATE.read_text()).substitute(
                user_line=_user_line(root),
                workers=workers,
                prefix=str(prefix),
                port=port,
                root=str(root),
            )
        )
        self.base_url = f"http://127.0.0.1:{port}"
        # -e: the error log nginx opens before it has read the config (the default is a system path).
        argv = [nginx, "-p", str(prefix), "-c", str(config), "-e", str(prefix / "error.log")]
        self._process = ManagedProcess("nginx", argv, log_path=work_dir / "logs" / "nginx.log")
        wait_until_healthy(self._process, f"{self.base_url}/health")

    def miss_path(self, job: Job) -> str:
        raise NotImplementedError("nginx serves stored bytes only; it takes part in hit workloads")

    def hot_path(self, job: Job, index: int) -> str:
        return f"/hot/{index}.{job.fmt}"


def _user_line(root: Path) -> str:
    # Started as root, nginx would run its workers as `nobody`, who may not be able to enter a clone
    # under a private home folder. Run them as the owner of the files instead.
    if os.geteuid() != 0:
        return ""
    owner = pwd.getpwuid(root.stat().st_uid).pw_name
    return f"user {owner};"
