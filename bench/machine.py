"""What the numbers were measured on: hardware, versions, and the commit under test."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import pyvips

from bench.errors import BenchError
from bench.options import REPO
from bench.tools import require_tool


def machine_summary(cores: int) -> dict[str, str]:
    return {
        "cpu": _cpu_model(),
        "cores": str(cores),
        "memory": f"{_mem_total_gib():.1f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "libvips": f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}",
        "nginx": _first_line(["nginx", "-v"]).removeprefix("nginx version: "),
        "wrk": "wrk " + _first_line(["wrk", "-v"]).split(" [", 1)[0].removeprefix("wrk "),
        "commit": _commit(),
        "load_at_start": " ".join(f"{value:.2f}" for value in os.getloadavg()),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return 0.0


def _first_line(argv: list[str]) -> str:
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv of a tool found on PATH
            [require_tool(argv[0]), *argv[1:]], capture_output=True, text=True, timeout=10
        )
    except (BenchError, OSError, subprocess.SubprocessError):  # a version string must not fail the run
        return "unknown"
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def _commit() -> str:
    # Read-only: the commit and whether the tree has uncommitted changes.
    try:
        head = subprocess.run(  # noqa: S603
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(  # noqa: S603
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}{' (modified)' if dirty else ''}" if head else "unknown"
