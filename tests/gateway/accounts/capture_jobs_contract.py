"""The capture job store contract, run against every account store's ``capture_jobs``."""

from __future__ import annotations

import threading

import pytest

from gateway.accounts.capture_jobs import INTERRUPTED, CaptureJob, CaptureJobStore, JobResult
from gateway.accounts.models import Workspace
from gateway.accounts.store import AccountStore

CAPS = {"max_queued_workspace": 10, "max_queued_total": 100}


def _job(n: int, namespace: str = "acme", at: float = 1000.0, sealed: str | None = "sealed-token") -> CaptureJob:
    return CaptureJob(f"cap_{n:024x}", namespace, "https://example.com/", "{}", at, auth_sealed=sealed)


def _result(n: int, expires_at: float = 5000.0) -> JobResult:
    return JobResult(f"acme/jobs/cap_{n:024x}", "png", "image/png", 123, 640, 480, expires_at)


class CaptureJobStoreContract:
    @pytest.fixture
    def jobs(self, store: AccountStore) -> CaptureJobStore:
        for namespace in ("acme", "other"):
            store.create_workspace(Workspace(namespace=namespace))
        return store.capture_jobs

    def test_added_job_reads_back_queued(self, jobs: CaptureJobStore) -> None:
        assert jobs.add(_job(1), **CAPS)
        assert jobs.get(_job(1).job_id) == _job(1)
        assert jobs.get(_job(2).job_id) is None
        with pytest.raises(ValueError):
            jobs.add(_job(1), **CAPS)

    def test_depth_caps_per_workspace_and_in_all(self, jobs: CaptureJobStore) -> None:
        assert jobs.add(_job(1), max_queued_workspace=2, max_queued_total=3)
        assert jobs.add(_job(2), max_queued_workspace=2, max_queued_total=3)
        assert not jobs.add(_job(3), max_queued_workspace=2, max_queued_total=3)
        assert jobs.add(_job(4, "other"), max_queued_workspace=2, max_queued_total=3)
        assert not jobs.add(_job(5, "other"), max_queued_workspace=2, max_queued_total=3)
        assert jobs.get(_job(3).job_id) is None
        # A finished job no longer counts.
        claimed = jobs.claim("w1", now=1001, lease=30, max_attempts=2)
        assert claimed is not None
        assert jobs.fail(claimed.job_id, "w1", "TIMEOUT", "too slow", 1002)
        assert jobs.add(_job(6, "other"), max_queued_workspace=2, max_queued_total=3)

    def test_claim_takes_the_oldest_once(self, jobs: CaptureJobStore) -> None:
        jobs.add(_job(2, at=1001), **CAPS)
        jobs.add(_job(1, at=1000), **CAPS)
        first = jobs.claim("w1", now=1002, lease=30, max_attempts=2)
        second = jobs.claim("w2", now=1002, lease=30, max_attempts=2)
        assert first is not None and second is not None
        assert (first.job_id, first.status, first.worker, first.attempts) == (_job(1).job_id, "processing", "w1", 1)
        assert first.lease_until == 1032 and first.started_at == 1002
        assert second.job_id == _job(2).job_id
        assert jobs.claim("w3", now=1003, lease=30, max_attempts=2) is None

    def test_concurrent_claims_never_share_a_job(self, jobs: CaptureJobStore) -> None:
        for n in range(20):
            assert jobs.add(_job(n, at=1000 + n), max_queued_workspace=20, max_queued_total=20)
        taken: list[str] = []
        lock = threading.Lock()

        def take(worker: str) -> None:
            while (job := jobs.claim(worker, now=2000, lease=30, max_attempts=2)) is not None:
                with lock:
                    taken.append(job.job_id)

        threads = [threading.Thread(target=take, args=(f"w{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(taken) == sorted(_job(n).job_id for n in range(20))

    def test_expired_lease_is_retried_once_then_failed(self, jobs: CaptureJobStore) -> None:
        jobs.add(_job(1), **CAPS)
        first = jobs.claim("dead", now=1000, lease=10, max_attempts=2)
        assert first is not None
        assert jobs.claim("w2", now=1005, lease=10, max_attempts=2) is None  # lease still running
        retry = jobs.claim("w2", now=1011, lease=10, max_attempts=2)
        assert retry is not None and (retry.job_id, retry.worker, retry.attempts) == (first.job_id, "w2", 2)
        # The first worker lost it: it can neither renew nor end it.
        assert not jobs.renew(first.job_id, "dead", 2000)
        assert not jobs.complete(first.job_id, "dead", _result(1), 1012)
        # The second worker dies too: the next claim fails the job, with the stable code, and clears its secrets.
        assert jobs.claim("w3", now=1022, lease=10, max_attempts=2) is None
        failed = jobs.get(first.job_id)
        assert failed is not None
        assert (failed.status, failed.error_code, failed.auth_sealed) == ("failed", INTERRUPTED, None)
        assert failed.lease_until is None and failed.finished_at == 1022

    def test_renew_keeps_the_lease(self, jobs: CaptureJobStore) -> None:
        jobs.add(_job(1), **CAPS)
        job = jobs.claim("w1", now=1000, lease=10, max_attempts=2)
        assert job is not None
        assert jobs.renew(job.job_id, "w1", 1030)
        assert jobs.claim("w2", now=1020, lease=10, max_attempts=2) is None

    def test_complete_stores_the_result_and_deletes_secrets(self, jobs: CaptureJobStore) -> None:
        jobs.add(_job(1), **CAPS)
        job = jobs.claim("w1", now=1000, lease=10, max_attempts=2)
        assert job is not None and job.auth_sealed == "sealed-token"
        assert jobs.complete(job.job_id, "w1", _result(1), 1003)
        done = jobs.get(job.job_id)
        assert done is not None
        assert (done.status, done.result, done.auth_sealed, done.finished_at) == ("completed", _result(1), None, 1003)
        assert not jobs.fail(job.job_id, "w1", "X", "y", 1004)  # ended once

    def test_fail_deletes_secrets(self, jobs: CaptureJobStore) -> None:
        jobs.add(_job(1), **CAPS)
        job = jobs.claim("w1", now=1000, lease=10, max_attempts=2)
        assert job is not None
        assert jobs.fail(job.job_id, "w1", "ORIGIN_ERROR", "the page could not be loaded", 1002)
        failed = jobs.get(job.job_id)
        assert failed is not None
        assert (failed.status, failed.error_code, failed.error_message, failed.auth_sealed) == (
            "failed",
            "ORIGIN_ERROR",
            "the page could not be loaded",
            None,
        )

    def test_results_downloads_and_sweeping(self, jobs: CaptureJobStore) -> None:
        for n, expires in ((1, 2000.0), (2, 9000.0)):
            jobs.add(_job(n, at=1000 + n), **CAPS)
            job = jobs.claim("w1", now=1010, lease=10, max_attempts=2)
            assert job is not None
            jobs.complete(job.job_id, "w1", _result(n, expires), 1011)
        assert [j.job_id for j in jobs.expired_results(2500, 10)] == [_job(1).job_id]
        assert jobs.mark_downloaded(_job(2).job_id, 1500)
        assert not jobs.mark_downloaded(_job(2).job_id, 1501)
        assert jobs.forget_result(_job(1).job_id, 2500) == _result(1, 2000.0)
        assert jobs.forget_result(_job(1).job_id, 2501) is None
        assert jobs.expired_results(2500, 10) == []
        gone = jobs.get(_job(1).job_id)
        assert gone is not None and gone.result_deleted_at == 2500

    def test_list_is_newest_first_and_paged(self, jobs: CaptureJobStore) -> None:
        for n in range(5):
            jobs.add(_job(n, at=1000 + n), **CAPS)
        jobs.add(_job(9, "other", at=2000), **CAPS)
        page = jobs.list_jobs("acme", limit=3)
        assert [j.job_id for j in page] == [_job(n).job_id for n in (4, 3, 2)]
        rest = jobs.list_jobs("acme", limit=3, before=(page[-1].created_at, page[-1].job_id))
        assert [j.job_id for j in rest] == [_job(n).job_id for n in (1, 0)]

    def test_stats_and_workers(self, jobs: CaptureJobStore) -> None:
        assert jobs.stats(now=1000, worker_window=10).queued == 0
        jobs.add(_job(1, at=900), **CAPS)
        jobs.add(_job(2, at=950), **CAPS)
        jobs.claim("w1", now=1000, lease=10, max_attempts=2)
        jobs.heartbeat("w1", 995)
        jobs.heartbeat("w2", 980)
        stats = jobs.stats(now=1000, worker_window=10)
        assert (stats.queued, stats.processing, stats.oldest_queued_at, stats.workers) == (1, 1, 950, 1)
        jobs.heartbeat("w2", 999)
        assert jobs.stats(now=1000, worker_window=10).workers == 2
        jobs.retire_worker("w2")
        assert jobs.stats(now=1000, worker_window=10).workers == 1

    def test_webhook_secret_is_replaced_on_rotation(self, jobs: CaptureJobStore) -> None:
        assert jobs.webhook_secret("acme") is None
        jobs.set_webhook_secret("acme", "sealed-1", 1000)
        jobs.set_webhook_secret("acme", "sealed-2", 1001)
        assert jobs.webhook_secret("acme") == "sealed-2"
        assert jobs.webhook_secret("other") is None

    def test_deleting_the_workspace_deletes_its_jobs(self, store: AccountStore, jobs: CaptureJobStore) -> None:
        jobs.add(_job(1), **CAPS)
        store.delete_workspace("acme")
        assert jobs.get(_job(1).job_id) is None

    def test_unfinished_counts_queued_and_processing_of_the_workspace(self, jobs: CaptureJobStore) -> None:
        for n in range(3):
            jobs.add(_job(n, at=1000 + n), **CAPS)
        jobs.add(_job(9, "other"), **CAPS)
        assert (jobs.unfinished("acme"), jobs.unfinished("other"), jobs.unfinished("nobody")) == (3, 1, 0)
        first = jobs.claim("w1", now=1010, lease=30, max_attempts=2)
        assert first is not None and first.namespace == "acme"
        assert jobs.unfinished("acme") == 3  # processing still counts
        assert jobs.complete(first.job_id, "w1", _result(0), 1011)
        assert jobs.unfinished("acme") == 2

    def test_forget_deletes_only_that_workspaces_jobs_and_secret(self, jobs: CaptureJobStore) -> None:
        jobs.add(_job(1), **CAPS)
        jobs.add(_job(2, "other"), **CAPS)
        jobs.set_webhook_secret("acme", "sealed", 1.0)
        jobs.set_webhook_secret("other", "sealed-other", 1.0)
        jobs.forget("acme")
        assert jobs.get(_job(1).job_id) is None and jobs.webhook_secret("acme") is None
        assert jobs.unfinished("acme") == 0 and jobs.stats(now=1000, worker_window=10).queued == 1
        assert jobs.get(_job(2).job_id) is not None and jobs.webhook_secret("other") == "sealed-other"

    def test_an_ended_job_keeps_its_webhook_due(self, jobs: CaptureJobStore) -> None:
        for n in (1, 2, 3):
            jobs.add(_job(n, at=1000 + n), **CAPS)
        first, second, third = (jobs.claim(f"w{n}", now=1010, lease=30, max_attempts=2) for n in (1, 2, 3))
        assert first is not None and second is not None and third is not None
        assert jobs.complete(first.job_id, "w1", _result(1), 1020, webhook_due_at=1020)
        assert jobs.fail(second.job_id, "w2", "TIMEOUT", "too slow", 1015, webhook_due_at=1015)
        assert jobs.complete(third.job_id, "w3", _result(3), 1020)  # no webhook
        assert not jobs.complete(first.job_id, "w1", _result(1), 1021, webhook_due_at=1021)  # ended already
        ended = jobs.get(first.job_id)
        assert ended is not None and (ended.webhook_due_at, ended.webhook_attempts) == (1020, 0)
        none = jobs.get(third.job_id)
        assert none is not None and none.webhook_due_at is None
        assert jobs.claim_webhook(now=1014, lease=10) is None  # none due yet

    def test_a_due_webhook_goes_to_one_claim_until_its_lease_ends(self, jobs: CaptureJobStore) -> None:
        for n in (1, 2):
            jobs.add(_job(n, at=1000 + n), **CAPS)
            claimed = jobs.claim("w", now=1010, lease=30, max_attempts=2)
            assert claimed is not None
            assert jobs.complete(claimed.job_id, "w", _result(n), 1020, webhook_due_at=1030 - n)
        # The earliest due first; each once while its claim's lease lasts.
        one = jobs.claim_webhook(now=1040, lease=10)
        two = jobs.claim_webhook(now=1045, lease=10)
        assert one is not None and two is not None
        assert (one.job_id, one.webhook_attempts, one.webhook_due_at) == (_job(2).job_id, 1, 1050)
        assert (two.job_id, two.webhook_due_at) == (_job(1).job_id, 1055)
        assert jobs.claim_webhook(now=1049, lease=10) is None
        # A claimer that never reports (it stopped): the webhook is claimed again once the lease ended.
        again = jobs.claim_webhook(now=1050, lease=10)
        assert again is not None and (again.job_id, again.webhook_attempts) == (_job(2).job_id, 2)
        # The stale claim changes nothing; the latest one schedules the next attempt, then ends it.
        assert not jobs.webhook_next(one.job_id, 1, None)
        assert jobs.webhook_next(again.job_id, 2, 1070)
        assert jobs.claim_webhook(now=1069, lease=10) is not None  # the other one, its lease ended at 1055
        assert jobs.claim_webhook(now=1069, lease=10) is None
        later = jobs.claim_webhook(now=1070, lease=10)
        assert later is not None and (later.job_id, later.webhook_attempts) == (_job(2).job_id, 3)
        assert jobs.webhook_next(later.job_id, 3, None)
        done = jobs.get(later.job_id)
        assert done is not None and done.webhook_due_at is None and done.webhook_attempts == 3
        assert not jobs.webhook_next(later.job_id, 3, 2000)  # delivered: nothing to schedule
        assert jobs.claim_webhook(now=10**6, lease=10) is not None  # only _job(1)'s is left
        assert jobs.claim_webhook(now=10**6, lease=10) is None

    def test_concurrent_webhook_claims_never_share_one(self, jobs: CaptureJobStore) -> None:
        for n in range(12):
            jobs.add(_job(n, at=1000 + n), max_queued_workspace=20, max_queued_total=20)
            claimed = jobs.claim("w", now=1100, lease=30, max_attempts=2)
            assert claimed is not None
            assert jobs.fail(claimed.job_id, "w", "TIMEOUT", "too slow", 1100, webhook_due_at=1100 + n)
        taken: list[str] = []
        lock = threading.Lock()

        def take() -> None:
            while (job := jobs.claim_webhook(now=2000, lease=60)) is not None:
                with lock:
                    taken.append(job.job_id)

        threads = [threading.Thread(target=take) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(taken) == sorted(_job(n).job_id for n in range(12))

    def test_forget_drops_the_workspaces_pending_webhooks(self, jobs: CaptureJobStore) -> None:
        jobs.add(_job(1), **CAPS)
        claimed = jobs.claim("w", now=1010, lease=30, max_attempts=2)
        assert claimed is not None
        assert jobs.complete(claimed.job_id, "w", _result(1), 1020, webhook_due_at=1020)
        jobs.forget("acme")
        assert jobs.claim_webhook(now=2000, lease=10) is None
