"""imgate itself, started the way a user would: the `imgate` command, Granian with workers = cores."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

from bench.errors import BenchError
from bench.jobs import Job
from bench.peers.base import ProcessPeer
from loopback.gateway import GatewayProcess
from loopback.processes import StartError

NAMESPACE = "bench"
# Limits of the bench workspace, raised where no workload reaches them (a hit run sends gigabytes).
_LIMITS = ("requests-per-second", "burst", "renders-per-month", "captures-per-month", "bytes-out-per-month")
_UNREACHED = 10**15


def imgate_command() -> str:
    # The bench runs with the project's virtualenv python; its `imgate` script sits beside it.
    beside = Path(sys.executable).parent / "imgate"
    if beside.exists():
        return str(beside)
    found = shutil.which("imgate")
    if found is None:
        raise BenchError("the `imgate` command is not installed: run `make install` first")
    return found


class GatewayPeer(ProcessPeer):
    label = "imgate"
    busts_by_query = True

    def __init__(
        self,
        corpus: Path,
        work_dir: Path,
        workers: int,
        *,
        label: str = "imgate",
        settings: Mapping[str, str] | None = None,
        data_name: str = "gw-var",
    ) -> None:
        """``settings`` become ``IMGATE_*`` (the limiter workloads start one gateway per limiter)."""
        self.label = label
        data_dir = work_dir / data_name
        self.data_dir = data_dir
        # A fresh data folder each run: the bench's own SQLite file and an empty result store.
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        env = {**os.environ, "IMGATE_DATA_DIR": str(data_dir)}
        command = imgate_command()
        created = subprocess.run(  # noqa: S603 - argv is built here, never a shell
            [command, "workspace", "create", NAMESPACE, "--origin", "local", "--root", str(corpus)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if created.returncode != 0:
            output = (created.stdout + created.stderr).strip()[-800:]
            raise BenchError(f"`imgate workspace create` failed ({created.returncode}): {output}")
        # The bench measures the gateway, not a plan: the limiter stays on (the default) but never refuses.
        raised = [f"--{limit}={_UNREACHED}" for limit in _LIMITS]
        unlimited = subprocess.run(  # noqa: S603 - argv is built here, never a shell
            [command, "workspace", "limits", NAMESPACE, *raised],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if unlimited.returncode != 0:
            output = (unlimited.stdout + unlimited.stderr).strip()[-800:]
            raise BenchError(f"`imgate workspace limits` failed ({unlimited.returncode}): {output}")
        gateway = GatewayProcess(
            data_dir,
            workers=workers,
            settings=settings,
            command=[command],
            log_path=work_dir / "logs" / ("imgate.log" if data_name == "gw-var" else f"{data_name}.log"),
        )
        try:
            gateway.start(timeout=60.0)
        except StartError as error:
            raise BenchError(str(error)) from None
        self.base_url = gateway.url
        self._process = gateway.process

    def miss_path(self, job: Job) -> str:
        return f"/{NAMESPACE}/{quote(job.source)}?w={job.width}&fm={job.fmt}&q={job.quality}"

    def hot_path(self, job: Job, index: int) -> str:
        return f"{self.miss_path(job)}&v=hot-{index}"
