"""The performance targets, each judged against this run's medians."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from bench.results import SUBJECT, WorkloadResult
from bench.workloads.misses import PYVIPS_LIMIT

Status = Literal["met", "missed", "not measured"]
Results = Mapping[str, WorkloadResult]

MEMORY_BUDGET_BYTES = 1 << 30
# "Back near idle": after the load, at most a quarter of what the load added may still be held
# (with 64 MiB of slack so that a small rise does not fail on allocator noise).
RETURN_FRACTION = 0.25
RETURN_SLACK_BYTES = 64 << 20


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    status: Status


@dataclass(frozen=True)
class Target:
    text: str
    judge: Callable[[Results], Verdict]


def _ratio_target(workload: str, peer: str, minimum: float) -> Target:
    text = f"{workload}: imgate >= {minimum:g}x {peer} req/s"

    def judge(results: Results) -> Verdict:
        result = results.get(workload)
        ratio = result.ratio(peer) if result else None
        if result is None or ratio is None:
            return Verdict(text, "-", "not measured")
        row = result.row(SUBJECT)
        errors = row.median.errors if row and row.median else 0
        measured = f"{ratio:.2f}x" + (f" ({errors} errors)" if errors else "")
        return Verdict(text, measured, "met" if ratio >= minimum and errors == 0 else "missed")

    return Target(text, judge)


def _p99_target(workload: str, limit_ms: float) -> Target:
    text = f"{workload}: imgate p99 < {limit_ms:g} ms"

    def judge(results: Results) -> Verdict:
        result = results.get(workload)
        row = result.row(SUBJECT) if result else None
        median = row.median if row else None
        if median is None:
            return Verdict(text, "-", "not measured")
        return Verdict(text, f"{median.p99_ms:.2f} ms", "met" if median.p99_ms < limit_ms else "missed")

    return Target(text, judge)


# SSIM is noisy in its fourth decimal between encoders; a real loss of detail costs more than this.
SSIM_SLACK = 0.002


def _quality_target(workload: str) -> Target:
    text = f"{workload}: imgate SSIM >= thumbor's on every request (-{SSIM_SLACK})"

    def judge(results: Results) -> Verdict:
        result = results.get(workload)
        gap = result.extra.get("ssim_worst_gap") if result else None
        if not isinstance(gap, float):
            return Verdict(text, "-", "not measured")
        return Verdict(text, f"worst {gap:+.4f}", "met" if gap >= -SSIM_SLACK else "missed")

    return Target(text, judge)


def _memory_peak_target() -> Target:
    text = "memory: peak RSS < 1 GiB"

    def judge(results: Results) -> Verdict:
        figures = _memory(results)
        if figures is None:
            return Verdict(text, "-", "not measured")
        peak = figures["peak"]
        return Verdict(text, f"{peak / 2**20:.0f} MiB", "met" if peak < MEMORY_BUDGET_BYTES else "missed")

    return Target(text, judge)


def _memory_return_target() -> Target:
    text = "memory: back near idle afterwards (keeps <= 25% of the rise, +64 MiB slack)"

    def judge(results: Results) -> Verdict:
        figures = _memory(results)
        if figures is None:
            return Verdict(text, "-", "not measured")
        idle, peak, after = figures["idle"], figures["peak"], figures["after"]
        allowed = idle + max(RETURN_FRACTION * (peak - idle), RETURN_SLACK_BYTES)
        measured = f"idle {idle >> 20} / peak {peak >> 20} / after {after >> 20} MiB"
        return Verdict(text, measured, "met" if after <= allowed else "missed")

    return Target(text, judge)


def _memory(results: Results) -> dict[str, int] | None:
    result = results.get("memory")
    figures = result.extra.get("median_bytes") if result else None
    return figures if isinstance(figures, dict) else None


TARGETS: list[Target] = [
    _ratio_target("photo-miss", "thumbor", 1.5),
    _ratio_target("large-miss", "thumbor", 1.5),
    _ratio_target("srcset", "thumbor", 2.0),
    _ratio_target("remote-photo-miss", "thumbor", 1.5),
    _ratio_target("remote-srcset", "thumbor", 2.0),
    _ratio_target("photo-miss", PYVIPS_LIMIT, 0.9),
    _ratio_target("large-miss", PYVIPS_LIMIT, 0.9),
    _ratio_target("srcset", PYVIPS_LIMIT, 0.9),
    _ratio_target("hit-one", "thumbor+rs", 10.0),
    _ratio_target("hit-1000", "thumbor+rs", 10.0),
    _ratio_target("hit-one", "nginx static", 0.5),
    _ratio_target("hit-1000", "nginx static", 0.5),
    # The Redis limiter on a hit costs at most 10% of limits off (README "Limits and usage").
    _ratio_target("hit-one-limits", "limits off", 0.9),
    # A custom domain's hit costs at most 10% more than the same hit by its namespace URL.
    _ratio_target("hit-one-domain", "namespace URL", 0.9),
    _p99_target("hit-one", 5.0),
    _p99_target("hit-1000", 5.0),
    _memory_peak_target(),
    _memory_return_target(),
    _quality_target("photo-miss"),
    _quality_target("large-miss"),
    _quality_target("srcset"),
]


def evaluate(results: Results) -> list[Verdict]:
    return [target.judge(results) for target in TARGETS]
