"""The Redis queue backend with two gateway processes and a real ``redis-server``: a job submitted to a node
that runs no job worker is taken by the other node's worker, and either node answers for it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from gateway.accounts.keys import issue_api_key
from gateway.accounts.models import Workspace
from gateway.accounts.sqlite import SqliteAccountStore
from tests.gateway.capture.conftest import require_browser
from tests.gateway.jobs.site import JobSite
from tests.gateway.usage.redis_process import redis_server
from tests.integration.servers import GatewayProcess

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture(scope="module")
def site() -> Iterator[JobSite]:
    server = JobSite()
    yield server
    server.close()


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory, site: JobSite) -> Iterator[tuple[GatewayProcess, GatewayProcess]]:
    require_browser()
    root = tmp_path_factory.mktemp("redis-jobs")
    with redis_server(root) as url:
        shared = {
            "capture_jobs_store": "redis",
            "redis_url": url,
            "secret_key": Fernet.generate_key().decode(),
            "result_store_dir": str(root / "results"),  # one result store for both nodes, as a bucket would be
            "trusted_networks": "127.0.0.1/32",
            "capture_trusted_networks": "127.0.0.1/32",
            "capture_jobs_allow_http": "true",
            "capture_job_poll": "0.2",
        }
        front = GatewayProcess(root / "front", settings={**shared, "capture_job_workers": "0"})
        worker = GatewayProcess(root / "worker", settings={**shared, "capture_job_workers": "1"})
        for node in (front, worker):
            node.add_workspace(
                Workspace(namespace="shots", allowed_capture_domains=(site.host,), capture_jobs_allow_http=True)
            )
        with front, worker:
            yield front, worker


def _key(data_dir: Path) -> str:
    store = SqliteAccountStore(data_dir / "imgate.sqlite3")
    try:
        return issue_api_key(store, "shots", "Jobs", "write")[0]
    finally:
        store.close()


def test_a_job_submitted_to_one_node_is_run_by_another(
    nodes: tuple[GatewayProcess, GatewayProcess], site: JobSite
) -> None:
    front, worker = nodes
    headers = {"Authorization": f"Bearer {_key(front.data_dir)}"}
    submitted = httpx.post(
        f"{front.url}/_/api/v1/captures", json={"url": site.url("/login")}, headers=headers, timeout=30
    )
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["id"]
    end = time.monotonic() + 90
    while (document := httpx.get(f"{front.url}/_/api/v1/captures/{job_id}", headers=headers, timeout=30).json())[
        "status"
    ] not in ("completed", "failed") and time.monotonic() < end:
        time.sleep(0.2)
    assert document["status"] == "completed", document
    result = httpx.get(document["resultUrl"], timeout=30)
    assert document["resultUrl"].startswith(front.url) and result.status_code == 200
    assert result.content.startswith(b"\x89PNG")
    status = httpx.get(f"{front.url}/_/api/v1/captures/status", headers=headers, timeout=30).json()
    assert status["workers"] == 1 and status["running"]  # the other node's worker, seen through Redis
    # The front node never started a browser: the capture was the worker node's.
    registry = front.data_dir / "run" / "capture-ports"
    assert not registry.exists() or not list(registry.glob("*.json"))
    assert list((worker.data_dir / "run" / "capture-ports").glob("*.json"))
