"""The folder of one server's metric files (``PROMETHEUS_MULTIPROC_DIR``), set up by ``imgate serve``.

Kept apart from ``gateway.metrics``: the serve command sets the variable before Granian starts the workers,
and must not import ``prometheus_client`` before that (it picks its value class, per process or multiprocess,
when first imported, and forked workers would inherit the wrong one).
"""

from __future__ import annotations

import shutil
from pathlib import Path

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
METRICS_DIRECTORY = "metrics"


def fresh_multiprocess_directory(data_path: Path, port: int) -> Path:
    """An empty folder for the metric files of the server on ``port``; what a run before left there is removed.

    Counters restart from zero with the server (Prometheus handles resets); files of a run before would add that
    run's counts, and its dead workers' gauges, to every scrape. One folder per port: several servers may share
    a data folder, but not a port.
    """
    folder = data_path / METRICS_DIRECTORY / str(port)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
