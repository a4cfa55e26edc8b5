"""Workloads by name. Adding one is writing one function and decorating it:

    @workload("capture-miss", rank=60, group="capture")
    def capture_miss(session: BenchSession) -> WorkloadResult | None:
        ...

and importing its module in bench/workloads/__init__.py. Runs measure workloads by rank (the
number in bench/README.md's list times ten). `--only` takes names or groups; the report
and the JSON pick the new rows up without further changes (targets live in bench/targets.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bench.errors import BenchError
from bench.results import WorkloadResult
from bench.session import BenchSession

WorkloadFn = Callable[[BenchSession], WorkloadResult | None]


@dataclass(frozen=True)
class Workload:
    name: str
    rank: int
    group: str
    run: WorkloadFn


_REGISTRY: dict[str, Workload] = {}


def workload(name: str, rank: int, group: str | None = None) -> Callable[[WorkloadFn], WorkloadFn]:
    def register(fn: WorkloadFn) -> WorkloadFn:
        if name in _REGISTRY:
            raise ValueError(f"workload {name!r} registered twice")
        _REGISTRY[name] = Workload(name, rank, group or name, fn)
        return fn

    return register


def registered() -> list[Workload]:
    """In the order a run measures them."""
    return sorted(_REGISTRY.values(), key=lambda w: (w.rank, w.name))


def select(only: Iterable[str] | None) -> list[Workload]:
    every = registered()
    if only is None:
        return every
    wanted = set(only)
    known = {w.name for w in every} | {w.group for w in every}
    unknown = wanted - known
    if unknown:
        raise BenchError(f"unknown workload(s) {sorted(unknown)}; known: {sorted(known)}")
    return [w for w in every if w.name in wanted or w.group in wanted]
