"""How much of the machine other programs took during a run.

On a shared machine a benchmark is only as good as its quiet: a test suite running beside it
takes cores from whichever server happens to be measured. Each run records the CPU time the
machine spent outside the harness, its children and the server under test, as a share of all
cores over the run; the report flags runs where it was high instead of hiding it.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from bench.rss import process_tree

_TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def _machine_busy_and_total_s() -> tuple[float, float]:
    # First line of /proc/stat: user nice system idle iowait irq softirq steal (in clock ticks).
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = fields[3] + fields[4]
    total = sum(fields)
    return (total - idle) * _TICK_S, total * _TICK_S


def _tree_cpu_s(roots: Sequence[int]) -> float:
    ticks = 0
    for root in roots:
        for pid in process_tree(root):
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            # The command name is in parentheses and may hold spaces: split after the last ')'.
            fields = stat.rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks * _TICK_S


def _own_cpu_s() -> float:
    """The harness and every child it has waited for (wrk, the pyvips loops)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


class ForeignCpuMeter:
    """Share (0-1) of the machine's CPU that other programs used while the `with` block ran."""

    def __init__(self, server_roots: Sequence[int]) -> None:
        self._roots = list(server_roots)
        self.share = 0.0
        self._start = (0.0, 0.0, 0.0, 0.0)

    def __enter__(self) -> ForeignCpuMeter:
        busy, total = _machine_busy_and_total_s()
        self._start = (busy, total, _tree_cpu_s(self._roots), _own_cpu_s())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        busy, total = _machine_busy_and_total_s()
        busy0, total0, tree0, own0 = self._start
        ours = (_tree_cpu_s(self._roots) - tree0) + (_own_cpu_s() - own0)
        capacity = total - total0
        if capacity > 0:
            self.share = min(1.0, max(0.0, (busy - busy0 - ours) / capacity))
