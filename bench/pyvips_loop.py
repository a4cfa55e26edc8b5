"""Bare pyvips, no HTTP: resize + encode in a loop for a fixed time. The limit for misses.

Two drivings of libvips (``--driving``):
- ``thumbnail``: ``thumbnail_buffer``, which keeps at least a factor of two for its own reduce when it picks
  the JPEG shrink-on-load factor;
- ``scaled``: imgproxy's way, the JPEG shrink-on-load factor 8, 4 or 2 the reduction reaches (WebP: its
  scaled decode to twice the result), then ``resize`` with lanczos3: what imgate's load step does.

Run by the harness with the project's python:
    python bench/pyvips_loop.py JOBS.json --threads N --duration S [--offset K] [--driving thumbnail|scaled]
JOBS.json is {"corpus": DIR, "jobs": [{"source": NAME, "width": W, "suffix": ".jpg[Q=80]"}, ...]}.
Prints one JSON line: {"images": n, "seconds": s, "latencies_ms": [...]}.
Each source file is read into memory once, before the clock starts.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyvips

Driving = Callable[[bytes, int], Any]


def thumbnail(data: bytes, width: int) -> Any:
    return pyvips.Image.thumbnail_buffer(data, width)


def scaled(data: bytes, width: int) -> Any:
    header = pyvips.Image.new_from_buffer(data, "")
    factor = header.width / width
    height = max(1, int(header.height * width / header.width + 0.5))
    loader = header.get("vips-loader") if header.get_typeof("vips-loader") else ""
    options: dict[str, Any] = {}
    if loader.startswith("jpegload"):
        shrink = next((s for s in (8, 4, 2) if factor >= s), 1)
        options = {"shrink": shrink} if shrink > 1 else {}
    elif loader.startswith("webpload") and factor >= 2:
        options = {"scale": 2 / factor}
    image = pyvips.Image.new_from_buffer(data, "", access="sequential", **options)
    return image.resize(width / image.width, vscale=height / image.height, kernel="lanczos3")


DRIVINGS: dict[str, Driving] = {"thumbnail": thumbnail, "scaled": scaled}


def _worker(work: list[tuple[bytes, int, str]], start: int, deadline: float, driving: Driving) -> list[float]:
    latencies: list[float] = []
    index = start
    while time.monotonic() < deadline:
        data, width, suffix = work[index % len(work)]
        index += 1
        began = time.perf_counter()
        driving(data, width).write_to_buffer(suffix)
        latencies.append((time.perf_counter() - began) * 1000)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("jobs", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--offset", type=int, default=0, help="where in the job list to start")
    parser.add_argument("--driving", choices=sorted(DRIVINGS), default="thumbnail")
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
        futures = [
            pool.submit(_worker, work, args.offset + n * spread, deadline, DRIVINGS[args.driving])
            for n in range(args.threads)
        ]
        latencies = [value for future in futures for value in future.result()]
    seconds = time.monotonic() - began
    print(json.dumps({"images": len(latencies), "seconds": seconds, "latencies_ms": latencies}))


if __name__ == "__main__":
    main()
