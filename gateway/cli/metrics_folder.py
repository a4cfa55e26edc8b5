"""The folder of one server's metric files (``PROMETHEUS_MULTIPROC_DIR``), set up by ``imgate serve``.

Kept apart from ``gateway.metrics``: the serve command sets the variable before Granian starts the workers,
and must not import ``prometheus_client`` before that (it picks its value class, per process or multiprocess,
when first imported, and forked workers would inherit the wrong one).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from gateway.metrics import MULTIPROC_VARIABLE

__all__ = ["METRICS_DIRECTORY", "MULTIPROC_VARIABLE", "fresh_multiprocess_directory"]

METRICS_DIRECTORY = "metrics"


def fresh_multiprocess_directory(data_path: Path, port: int, pid: int | None = None) -> Path:
    """An empty folder for the metric files of this server (``port``, the serving process ``pid``).

    Counters restart from zero with the server (Prometheus handles resets); files of a run before would add that
    run's counts, and its dead workers' gauges, to every scrape, so the folders of servers that are gone are
    removed. One folder per serving process: servers sharing a port (``--reuse-port``) each keep their own,
    and a new one never deletes the files a running one still writes.
    """
    pid = os.getpid() if pid is None else pid
    port_folder = data_path / METRICS_DIRECTORY / str(port)
    port_folder.mkdir(parents=True, exist_ok=True)
    for old in port_folder.iterdir():
        if old.name == str(pid) or not (old.name.isdigit() and _running(int(old.name))):
            shutil.rmtree(old, ignore_errors=True)
    folder = port_folder / str(pid)
    folder.mkdir()
    return folder


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
