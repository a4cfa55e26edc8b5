"""The performance targets judged from synthetic results."""

from __future__ import annotations

from bench.results import Role, Row, WorkloadResult
from bench.stats import RunStats
from bench.targets import evaluate
from bench.workloads.misses import PYVIPS_LIMIT


def _run(rate: float, p99: float = 5.0, errors: int = 0) -> RunStats:
    return RunStats(requests_per_s=rate, p50_ms=1.0, p99_ms=p99, errors=errors, requests=100)


def _verdict(results: dict[str, WorkloadResult], text_start: str) -> str:
    matches = [v.status for v in evaluate(results) if v.target.startswith(text_start)]
    assert len(matches) == 1, text_start
    return matches[0]


def _miss(rates: dict[str, float], errors: int = 0) -> WorkloadResult:
    result = WorkloadResult("photo-miss", "t", 8)
    for label, rate in rates.items():
        role: Role = "subject" if label == "imgate" else "peer"
        result.rows.append(Row(label, role, runs=[_run(rate, errors=errors if role == "subject" else 0)]))
    return result


def test_ratio_targets_are_met_at_the_threshold_and_missed_below() -> None:
    met = {"photo-miss": _miss({"imgate": 150, "thumbor": 100, PYVIPS_LIMIT: 160})}
    assert _verdict(met, "photo-miss: imgate >= 1.5x thumbor") == "met"
    assert _verdict(met, "photo-miss: imgate >= 0.9x pyvips") == "met"
    missed = {"photo-miss": _miss({"imgate": 149, "thumbor": 100, PYVIPS_LIMIT: 170})}
    assert _verdict(missed, "photo-miss: imgate >= 1.5x thumbor") == "missed"
    assert _verdict(missed, "photo-miss: imgate >= 0.9x pyvips") == "missed"


def test_errors_on_the_gateway_miss_a_throughput_target() -> None:
    results = {"photo-miss": _miss({"imgate": 500, "thumbor": 100}, errors=3)}
    assert _verdict(results, "photo-miss: imgate >= 1.5x thumbor") == "missed"


def test_targets_without_measurements_say_so() -> None:
    assert {v.status for v in evaluate({})} == {"not measured"}


def test_medians_over_repeats_decide() -> None:
    result = WorkloadResult("hit-one", "t", 8)
    result.rows.append(Row("imgate", "subject", runs=[_run(1000, p99=50), _run(10000, p99=4), _run(12000, p99=4.5)]))
    result.rows.append(Row("thumbor+rs", "peer", runs=[_run(1000), _run(1000), _run(1000)]))
    results = {"hit-one": result}
    assert _verdict(results, "hit-one: imgate >= 10x thumbor") == "met"
    assert _verdict(results, "hit-one: imgate p99") == "met"


def _memory(idle: int, peak: int, after: int) -> dict[str, WorkloadResult]:
    result = WorkloadResult("memory", "t", 16)
    result.extra["median_bytes"] = {"idle": idle << 20, "peak": peak << 20, "after": after << 20}
    return {"memory": result}


def test_memory_budget_and_return_to_idle() -> None:
    assert _verdict(_memory(200, 900, 250), "memory: peak") == "met"
    assert _verdict(_memory(200, 1100, 250), "memory: peak") == "missed"
    assert _verdict(_memory(200, 900, 250), "memory: back near idle") == "met"
    assert _verdict(_memory(200, 900, 682), "memory: back near idle") == "missed"


def test_ratios_pair_the_runs_of_each_repeat() -> None:
    # Repeat 2 ran while a neighbour took the machine: both servers dropped together.
    result = WorkloadResult("srcset", "t", 8)
    result.rows.append(Row("imgate", "subject", runs=[_run(100), _run(60), _run(200)]))
    result.rows.append(Row("thumbor", "peer", runs=[_run(50), _run(60), _run(100)]))
    assert result.ratio("thumbor") == 2.0  # a ratio of the two medians would say 100 / 60


def test_a_ratio_needs_both_sides() -> None:
    result = WorkloadResult("srcset", "t", 8)
    result.rows.append(Row("imgate", "subject", runs=[_run(100)]))
    assert result.ratio("thumbor") is None
