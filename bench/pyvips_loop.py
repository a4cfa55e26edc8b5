"""Bare pyvips, no HTTP: thumbnail_buffer + encode in a loop for a fixed time. The limit for misses.

Run by the harness with the project's python:
    python bench/pyvips_loop.py JOBS.json --threads N --duration S [--offset K]
JOBS.json is {"corpus": DIR, "jobs": [{"source": NAME, "width": W, "suffix": ".jpg[Q=80]"}, ...]}.
Prints one JSON line: {"images": n, "seconds": s, "latencies_ms": [...]}.
Each source file is read into memory once, before the clock starts.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyvips


def _worker(work: list[tuple[bytes, int, str]], start: int, deadline: float) -> list[float]:
    latencies: list[float] = []
    index = start
    while time.monotonic() < deadline:
        data, width, suffix = work[index % len(work)]
        index += 1
        began = time.perf_counter()
        image = pyvips.Image.thumbnail_buffer(data, width)
        image.write_to_buffer(suffix)
        latencies.append((time.perf_counter() - began) * 1000)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("jobs", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--offset", type=int, default=0, help="where in the job list to start")
    args = parser.parse_args()

    spec: dict[str, Any] = json.loads(args.jobs.read_text())
    corpus = Path(spec["corpus"])
    originals = {name: (corpus / name).read_bytes() for name in {job["source"] for job in spec["jobs"]}}
    work = [(originals[job["source"]], int(job["width"]), str(job["suffix"])) for job in spec["jobs"]]
    # The gateway runs with libvips' operation cache off (hostile input); a cache would also let this
    # loop answer repeated thumbnails of the same buffer from memory, which no real miss can do.
    pyvips.cache_set_max(0)

    began = time.monotonic()
    deadline = began + args.duration
    spread = max(1, len(work) // max(1, args.threads))
    with ThreadPoolExecutor(max_workers=args.threads, thread_name_prefix="vips") as pool:
        futures = [pool.submit(_worker, work, args.offset + n * spread, deadline) for n in range(args.threads)]
        latencies = [value for future in futures for value in future.result()]
    seconds = time.monotonic() - began
    print(json.dumps({"images": len(latencies), "seconds": seconds, "latencies_ms": latencies}))


if __name__ == "__main__":
    main()
