"""Capture jobs through the API: jobs/s at concurrency 4 and p50/p95 from submit to completed, on a real gateway.

    .venv/bin/python bench/capture_jobs_bench.py [--jobs N] [--json FILE]

``run_capture_jobs_bench(...)`` starts ``imgate serve`` (Granian) on loopback with ``capture_job_workers`` per
process, a workspace allowed to capture a small local page over http, and a write key; then ``concurrency``
clients each submit a job, poll it every 50 ms until it ends, and take the next. The latency is submit to the
poll that saw ``completed`` (so it includes up to one poll interval and the workers' own poll of the queue).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from bench.capture_bench import _latency, _Page  # noqa: E402
from gateway.accounts.keys import issue_api_key  # noqa: E402
from gateway.accounts.models import Workspace  # noqa: E402
from gateway.accounts.sqlite import SqliteAccountStore  # noqa: E402
from loopback.gateway import GatewayProcess  # noqa: E402

_POLL_S = 0.05


def run_capture_jobs_bench(*, jobs: int = 24, concurrency: int = 4, workers_per_process: int = 2) -> dict[str, Any]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="bench-job-page", daemon=True).start()
    host = f"127.0.0.1:{server.server_address[1]}"
    try:
        with tempfile.TemporaryDirectory(prefix="imgate-bench-jobs-") as folder:
            return _measure(Path(folder), host, jobs, concurrency, workers_per_process)
    finally:
        server.shutdown()
        server.server_close()


def _measure(folder: Path, host: str, jobs: int, concurrency: int, workers: int) -> dict[str, Any]:
    gateway = GatewayProcess(
        folder,
        settings={
            "limiter": "off",
            "trusted_networks": "127.0.0.1/32",
            "capture_trusted_networks": "127.0.0.1/32",
            "capture_jobs_allow_http": "true",
            "capture_job_workers": str(workers),
            "capture_job_poll": "0.05",
            "capture_jobs_max_queued_per_workspace": str(max(20, jobs)),
        },
    )
    folder.mkdir(parents=True, exist_ok=True)
    store = SqliteAccountStore(folder / "imgate.sqlite3")
    try:
        store.create_workspace(
            Workspace(namespace="bench", allowed_capture_domains=(host,), capture_jobs_allow_http=True)
        )
        key, _ = issue_api_key(store, "bench", "Bench", "write")
    finally:
        store.close()
    with gateway, httpx.Client(base_url=f"{gateway.url}/_/api/v1", timeout=60) as client:
        headers = {"Authorization": f"Bearer {key}"}
        body = {"url": f"http://{host}/"}

        def one(_: int) -> tuple[float, str]:
            started = time.perf_counter()
            answer = client.post("/captures", json=body, headers=headers)
            if answer.status_code != 202:
                return time.perf_counter() - started, f"submit {answer.status_code}"
            job_id = answer.json()["id"]
            while True:
                document = client.get(f"/captures/{job_id}", headers=headers).json()
                if document["status"] in ("completed", "failed"):
                    status = document["status"] if document["status"] == "completed" else document["error"]["code"]
                    return time.perf_counter() - started, status
                time.sleep(_POLL_S)

        one(0)  # warm-up: the first browser start
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            outcomes = list(pool.map(one, range(jobs)))
        elapsed = time.perf_counter() - started
    completed = [seconds for seconds, status in outcomes if status == "completed"]
    failures = sorted({status for _, status in outcomes if status != "completed"})
    return {
        "machine": {"cores": os.cpu_count(), "load_average": os.getloadavg()},
        "jobs": jobs,
        "concurrency": concurrency,
        "workers_per_process": workers,
        "completed": len(completed),
        "failures": failures,
        "seconds": round(elapsed, 2),
        "jobs_per_s": round(len(completed) / elapsed, 2),
        "submit_to_completed": _latency(completed) if completed else None,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--jobs", type=int, default=24)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    results = run_capture_jobs_bench(jobs=args.jobs)
    print(json.dumps(results, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
