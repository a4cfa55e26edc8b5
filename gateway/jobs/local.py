"""``StoreQueue``: the in-process backend. Jobs live in the account store; every gateway process's workers
claim from it under a lease (``gateway.accounts.capture_jobs``), so with SQLite the node's Granian workers
share one queue, and a job whose worker died is taken again once its lease expires."""

from __future__ import annotations

import time
from collections.abc import Callable

from gateway.accounts.capture_jobs import CaptureJob, CaptureJobStore, JobResult, QueueStats
from gateway.errors import Overloaded
from gateway.jobs.protocol import MAX_ATTEMPTS
from gateway.settings import Settings

# A worker that has not reported for this many leases is not counted as running.
_WORKER_WINDOW_LEASES = 2
# Seconds a webhook claim outlasts one attempt's timeout before another worker may claim it again.
_WEBHOOK_LEASE_MARGIN_S = 5.0


class StoreQueue:
    def __init__(self, jobs: CaptureJobStore, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self._jobs = jobs
        self._settings = settings
        self._clock = clock

    def submit(self, job: CaptureJob) -> None:
        added = self._jobs.add(
            job,
            max_queued_workspace=self._settings.capture_jobs_max_queued_per_workspace,
            max_queued_total=self._settings.capture_jobs_max_queued,
        )
        if not added:
            raise Overloaded("too many capture jobs are waiting; retry later", headers={"Retry-After": "30"})

    def claim(self, worker: str) -> CaptureJob | None:
        lease = self._settings.capture_job_lease
        return self._jobs.claim(worker, now=self._clock(), lease=lease, max_attempts=MAX_ATTEMPTS)

    def renew(self, job: CaptureJob, worker: str) -> bool:
        return self._jobs.renew(job.job_id, worker, self._clock() + self._settings.capture_job_lease)

    def complete(self, job: CaptureJob, worker: str, result: JobResult, *, webhook: bool = False) -> bool:
        now = self._clock()
        return self._jobs.complete(job.job_id, worker, result, now, webhook_due_at=now if webhook else None)

    def fail(self, job: CaptureJob, worker: str, code: str, message: str, *, webhook: bool = False) -> bool:
        now = self._clock()
        return self._jobs.fail(job.job_id, worker, code, message, now, webhook_due_at=now if webhook else None)

    def claim_webhook(self) -> CaptureJob | None:
        lease = self._settings.webhook_timeout + _WEBHOOK_LEASE_MARGIN_S
        return self._jobs.claim_webhook(now=self._clock(), lease=lease)

    def webhook_next(self, job: CaptureJob, due_at: float | None) -> bool:
        return self._jobs.webhook_next(job.job_id, job.webhook_attempts, due_at)

    def stats(self) -> QueueStats:
        window = self._settings.capture_job_lease * _WORKER_WINDOW_LEASES
        return self._jobs.stats(now=self._clock(), worker_window=window)

    def heartbeat(self, worker: str) -> None:
        self._jobs.heartbeat(worker, self._clock())

    def retire(self, worker: str) -> None:
        self._jobs.retire_worker(worker)
