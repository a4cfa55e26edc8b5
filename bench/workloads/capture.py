"""Workload 6: captures, beside a naive new-session-per-capture baseline (bench/capture_bench.py)."""

from __future__ import annotations

import shutil

from bench.capture_bench import run_capture_bench
from bench.capture_jobs_bench import run_capture_jobs_bench
from bench.registry import workload
from bench.results import WorkloadResult
from bench.session import BenchSession


@workload("capture", rank=60)
def capture(session: BenchSession) -> WorkloadResult | None:
    if not (shutil.which("chromedriver") and (shutil.which("chromium") or shutil.which("chromium-browser"))):
        session.unavailable["capture"] = "chromium and chromium-driver are not installed"
        return None
    quick = session.options.repeats == 1 and session.options.duration_s <= 3.0
    numbers = run_capture_bench(
        latency_captures=15 if quick else 40,
        throughput_captures=15 if quick else 40,
        naive_captures=6 if quick else 12,
        memory_captures=40 if quick else 200,
    )
    isolated, naive, memory = numbers["isolated"], numbers["naive"], numbers["memory"]
    notes = [
        f"isolated (warm pool, a browser context per capture, egress proxy): p50 {isolated['latency']['p50_s']:.2f} s,"
        f" p95 {isolated['latency']['p95_s']:.2f} s at concurrency 1;"
        f" {isolated['throughput']['captures_per_s']:.2f} captures/s at concurrency 4",
        f"naive baseline (new ChromeDriver session per capture): p50 {naive['latency']['p50_s']:.2f} s;"
        f" {naive['throughput']['captures_per_s']:.2f} captures/s at concurrency 4",
        f"throughput ratio {numbers['throughput_ratio']:.2f}x (target >= 2x);"
        f" p50 target < 0.6 s: {'met' if numbers['targets']['p50_under_0_6_s'] else 'MISSED'}",
        f"memory over {memory_captures_label(memory)}: growth {memory['growth'] * 100:.1f}%,"
        f" processes {memory['processes_start']} -> {memory['processes_end']}"
        f" ({'flat' if numbers['targets']['memory_flat'] else 'GROWING'})",
    ]
    # The API-job variant: submit, poll, completed, through a real gateway (bench/capture_jobs_bench.py).
    jobs = run_capture_jobs_bench(jobs=12 if quick else 40, concurrency=4)
    numbers["api_jobs"] = jobs
    latency = jobs["submit_to_completed"] or {"p50_s": float("nan"), "p95_s": float("nan")}
    notes.append(
        f"API jobs (POST /captures, poll until completed): {jobs['jobs_per_s']:.2f} jobs/s at concurrency 4;"
        f" submit to completed p50 {latency['p50_s']:.2f} s, p95 {latency['p95_s']:.2f} s"
        f" ({jobs['completed']}/{jobs['jobs']} completed)"
    )
    return WorkloadResult("capture", "page captures (simple local page)", 4, notes=notes, extra=numbers)


def memory_captures_label(memory: dict[str, object]) -> str:
    return f"{memory.get('captures', '?')} captures"
