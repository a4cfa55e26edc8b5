"""Capture latency, throughput and memory, beside a naive baseline, in one run on this machine.

    .venv/bin/python bench/capture_bench.py [--quick] [--json FILE]

``run_capture_bench(...)`` is the entry point (the ``make bench`` harness calls it); it returns a dict:

- ``isolated``: the capture service as shipped (a warm pool, a fresh browser context per capture, every
  request through the egress proxy): latency p50/p95 at concurrency 1, captures/s at concurrency 4.
- ``naive``: a new ChromeDriver session per capture (start, load, screenshot, quit), same page, same
  concurrencies, no proxy, no pool: what a first implementation does.
- ``memory``: browser RSS (VmRSS summed over the service's chromedriver/chromium processes) every
  ``memory_every`` captures over ``memory_captures`` sequential captures, and the process count.
- ``targets``: p50 < 0.6 s, throughput >= 2x naive, memory flat (last samples within 15 % of the first).

The page is a small local one on 127.0.0.1, so the numbers are the browser's and the service's, not a
network's. Nothing here is asserted in tests: timing belongs in the bench.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

from gateway.capture import CaptureOptions, CaptureService, CaptureSettings  # noqa: E402
from gateway.capture.browser import find_chromium  # noqa: E402
from gateway.netguard import NetGuard  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>bench</title>
<style>body{margin:0;font:16px sans-serif} header{height:80px;background:#036;color:#fff}</style></head>
<body><header>imgate</header><main><h1>Pricing</h1><p>A simple page to capture.</p>
<ul><li>One</li><li>Two</li><li>Three</li></ul></main></body></html>"""
FLAT_TOLERANCE = 0.15


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)
        except OSError:
            pass  # the favicon request of a context that is already gone

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def run_capture_bench(
    *,
    latency_captures: int = 40,
    throughput_captures: int = 40,
    naive_captures: int = 12,
    memory_captures: int = 200,
    memory_every: int = 20,
    concurrency: int = 4,
) -> dict[str, Any]:
    """Run every measurement and return the numbers (see the module docstring)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="bench-page", daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        isolated = asyncio.run(_isolated(url, latency_captures, throughput_captures, concurrency))
        memory = asyncio.run(_memory(url, memory_captures, memory_every))
        naive = _naive(url, naive_captures, concurrency)
    finally:
        server.shutdown()
        server.server_close()
    ratio = isolated["throughput"]["captures_per_s"] / naive["throughput"]["captures_per_s"]
    return {
        "machine": {"cores": os.cpu_count(), "load_average": os.getloadavg()},
        "isolated": isolated,
        "naive": naive,
        "throughput_ratio": round(ratio, 2),
        "memory": memory,
        "targets": {
            "p50_under_0_6_s": isolated["latency"]["p50_s"] < 0.6,
            "throughput_2x_naive": ratio >= 2.0,
            "memory_flat": memory["growth"] <= FLAT_TOLERANCE,
            "no_process_growth": memory["processes_end"] <= memory["processes_start"],
        },
    }


def _service(pool: int) -> CaptureService:
    settings = CaptureSettings(pool_size=pool, max_concurrency=pool, max_queue=64, timeout=30)
    return CaptureService(settings, NetGuard(["127.0.0.1/32"]))


async def _isolated(url: str, latency_captures: int, throughput_captures: int, concurrency: int) -> dict[str, Any]:
    # As many browsers as the cores can keep busy: more only queue for the same two CPUs.
    service = _service(pool=min(concurrency, os.cpu_count() or 2))
    await service.start()
    try:
        for _ in range(3):  # warm-up: first paint, fonts
            await _one(service, url)
        latencies = []
        for _ in range(latency_captures):
            started = time.perf_counter()
            await _one(service, url)
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.05)  # let the next context open, as between real requests
        started = time.perf_counter()
        pending = iter(range(throughput_captures))

        async def client() -> None:
            for _ in pending:
                await _one(service, url)

        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    finally:
        await service.aclose()
    return {
        "latency": _latency(latencies),
        "throughput": _throughput(throughput_captures, elapsed, concurrency),
    }


async def _memory(url: str, captures: int, every: int) -> dict[str, Any]:
    service = _service(pool=1)
    await service.start()
    samples: list[float] = []
    proportional: list[float] = []
    try:
        await _one(service, url)
        processes_start = len(service.process_ids())
        for index in range(captures + 1):
            if index:
                await _one(service, url)
            if index % every == 0:
                pids = service.process_ids()
                samples.append(_memory_mb(pids, "/status", "VmRSS:"))
                proportional.append(_memory_mb(pids, "/smaps_rollup", "Pss:"))
        await asyncio.sleep(1.0)  # renderers of the last contexts exit
        processes_end = len(service.process_ids())
    finally:
        await service.aclose()
    leftover = len(service.process_ids())
    head, tail = statistics.median(samples[:3]), statistics.median(samples[-3:])
    return {
        "captures": captures,
        "rss_mb": [round(sample, 1) for sample in samples],
        # Proportional set size: shared pages divided among the processes sharing them; the honest total.
        "pss_mb": [round(sample, 1) for sample in proportional],
        "growth": round((tail - head) / head, 3),
        "processes_start": processes_start,
        "processes_end": processes_end,
        "processes_after_shutdown": leftover,
    }


async def _one(service: CaptureService, url: str) -> None:
    png = await service.capture(url, CaptureOptions())
    if not png.startswith(PNG):
        raise RuntimeError("the capture service returned something other than a PNG")


def _naive(url: str, captures: int, concurrency: int) -> dict[str, Any]:
    chromium, chromedriver = find_chromium(), shutil.which("chromedriver")
    if chromium is None or chromedriver is None:
        raise RuntimeError("chromium and chromedriver are needed")

    def capture() -> float:
        started = time.perf_counter()
        profile = tempfile.mkdtemp(prefix="imgate-bench-naive-")
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in (
            "--headless=new",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1280,800",
            f"--user-data-dir={profile}",
        ):
            options.add_argument(flag)
        if os.geteuid() == 0:
            options.add_argument("--no-sandbox")
        driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
        try:
            driver.get(url)
            if not driver.get_screenshot_as_png().startswith(PNG):
                raise RuntimeError("the naive baseline did not get a PNG")
        finally:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)
        return time.perf_counter() - started

    capture()  # warm-up: the binaries in the page cache
    latencies = [capture() for _ in range(captures)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(lambda _: capture(), range(captures)))
    elapsed = time.perf_counter() - started
    return {"latency": _latency(latencies), "throughput": _throughput(captures, elapsed, concurrency)}


def _latency(samples: Sequence[float]) -> dict[str, float | int]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50_s": round(_percentile(ordered, 0.50), 3),
        "p95_s": round(_percentile(ordered, 0.95), 3),
        "mean_s": round(statistics.fmean(ordered), 3),
    }


def _throughput(captures: int, elapsed: float, concurrency: int) -> dict[str, float | int]:
    return {
        "n": captures,
        "concurrency": concurrency,
        "seconds": round(elapsed, 2),
        "captures_per_s": round(captures / elapsed, 2),
    }


def _percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest rank: the smallest sample with at least ``fraction`` of the samples at or below it."""
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(len(ordered), rank) - 1]


def _memory_mb(pids: Sequence[int], file: str, field: str) -> float:
    """Sum one kB field of /proc/<pid>/<file> over ``pids``, in MB."""
    total_kb = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}{file}").read_text().splitlines():
                if line.startswith(field):
                    total_kb += int(line.split()[1])
                    break
        except OSError:
            continue
    return total_kb / 1024


def _report(results: dict[str, Any], write: Callable[[str], object] = print) -> None:
    iso, naive, memory = results["isolated"], results["naive"], results["memory"]
    write(f"machine: {results['machine']['cores']} cores, load average {results['machine']['load_average']}")
    write("                      p50 s   p95 s   captures/s @c4")
    for name, numbers in (("isolated (pool)", iso), ("naive (session/capture)", naive)):
        latency, throughput = numbers["latency"], numbers["throughput"]
        write(f"{name:<22}{latency['p50_s']:>6.3f}  {latency['p95_s']:>6.3f}  {throughput['captures_per_s']:>8.2f}")
    write(f"throughput ratio: {results['throughput_ratio']:.2f}x")
    every = memory["captures"] // (len(memory["rss_mb"]) - 1)
    write(f"browser RSS MB every {every} captures: {memory['rss_mb']}")
    write(f"browser PSS MB every {every} captures: {memory['pss_mb']}")
    write(
        f"growth {memory['growth']:+.1%}; processes {memory['processes_start']} -> {memory['processes_end']}, "
        f"{memory['processes_after_shutdown']} after shutdown"
    )
    write(f"targets: {results['targets']}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few captures: a smoke test, not a measurement")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    sizes = (
        dict(latency_captures=10, throughput_captures=12, naive_captures=4, memory_captures=40, memory_every=10)
        if args.quick
        else {}
    )
    results = run_capture_bench(**sizes)
    _report(results)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
