"""The capture job store contract against Redis (a real ``redis-server`` on a free port)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from gateway.accounts.capture_jobs import CaptureJobStore
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.redis_capture_jobs import RedisCaptureJobStore
from gateway.accounts.store import AccountStore
from tests.gateway.accounts.capture_jobs_contract import CAPS, CaptureJobStoreContract, _job
from tests.gateway.usage.redis_process import redis_server


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def redis_jobs(redis_url: str) -> Iterator[RedisCaptureJobStore]:
    # A prefix of the test's own, so the module's one server starts every test empty.
    jobs = RedisCaptureJobStore(redis_url, prefix=f"test-{uuid.uuid4().hex}:")
    yield jobs
    jobs.close()


@pytest.fixture
def store(redis_jobs: RedisCaptureJobStore) -> Iterator[AccountStore]:
    accounts = MemoryAccountStore()
    accounts.capture_jobs = redis_jobs
    yield accounts
    accounts.close()


class TestRedisCaptureJobStore(CaptureJobStoreContract):
    def test_deleting_the_workspace_deletes_its_jobs(self, store: AccountStore, jobs: CaptureJobStore) -> None:
        # Redis knows no workspaces: whoever deletes one tells this store (``forget``).
        assert isinstance(jobs, RedisCaptureJobStore)
        forget_deletes_a_workspaces_jobs(jobs)


def forget_deletes_a_workspaces_jobs(redis_jobs: RedisCaptureJobStore) -> None:
    redis_jobs.add(_job(1), **CAPS)
    redis_jobs.add(_job(2, "other"), **CAPS)
    redis_jobs.set_webhook_secret("acme", "sealed", 1.0)
    redis_jobs.forget("acme")
    assert redis_jobs.get(_job(1).job_id) is None and redis_jobs.webhook_secret("acme") is None
    assert redis_jobs.get(_job(2).job_id) is not None
    assert redis_jobs.stats(now=1000, worker_window=10).queued == 1
