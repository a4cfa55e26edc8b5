"""Capture jobs in this process's memory (``MemoryAccountStore.capture_jobs``): unit tests, demos."""

from __future__ import annotations

import dataclasses
import threading

from gateway.accounts.capture_jobs import INTERRUPTED, INTERRUPTED_MESSAGE, CaptureJob, JobResult, QueueStats

_UNFINISHED = ("queued", "processing")


class MemoryCaptureJobStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, CaptureJob] = {}
        self._workers: dict[str, float] = {}
        self._webhook_secrets: dict[str, str] = {}

    def add(self, job: CaptureJob, *, max_queued_workspace: int, max_queued_total: int) -> bool:
        with self._lock:
            if job.job_id in self._jobs:
                raise ValueError("a capture job with that id is stored already")
            unfinished = [j for j in self._jobs.values() if j.status in _UNFINISHED]
            if len(unfinished) >= max_queued_total:
                return False
            if sum(1 for j in unfinished if j.namespace == job.namespace) >= max_queued_workspace:
                return False
            self._jobs[job.job_id] = job
            return True

    def get(self, job_id: str) -> CaptureJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def list_jobs(self, namespace: str, *, limit: int, before: tuple[float, str] | None = None) -> list[CaptureJob]:
        with self._lock:
            jobs = [j for j in self._jobs.values() if j.namespace == namespace]
        jobs.sort(key=lambda j: (j.created_at, j.job_id), reverse=True)
        if before is not None:
            jobs = [j for j in jobs if (j.created_at, j.job_id) < before]
        return jobs[:limit]

    def claim(self, worker: str, *, now: float, lease: float, max_attempts: int) -> CaptureJob | None:
        with self._lock:
            for job in list(self._jobs.values()):
                if _expired(job, now) and job.attempts >= max_attempts:
                    self._jobs[job.job_id] = _ended(job, now, error=(INTERRUPTED, INTERRUPTED_MESSAGE))
            candidates = [
                j
                for j in self._jobs.values()
                if j.status == "queued" or (_expired(j, now) and j.attempts < max_attempts)
            ]
            if not candidates:
                return None
            job = min(candidates, key=lambda j: (j.created_at, j.job_id))
            claimed = dataclasses.replace(
                job,
                status="processing",
                worker=worker,
                lease_until=now + lease,
                attempts=job.attempts + 1,
                started_at=job.started_at if job.started_at is not None else now,
            )
            self._jobs[job.job_id] = claimed
            return claimed

    def renew(self, job_id: str, worker: str, until: float) -> bool:
        with self._lock:
            job = self._held(job_id, worker)
            if job is None:
                return False
            self._jobs[job_id] = dataclasses.replace(job, lease_until=until)
            return True

    def complete(
        self, job_id: str, worker: str, result: JobResult, at: float, *, webhook_due_at: float | None = None
    ) -> bool:
        with self._lock:
            job = self._held(job_id, worker)
            if job is None:
                return False
            ended = dataclasses.replace(_ended(job, at), status="completed", result=result)
            self._jobs[job_id] = dataclasses.replace(ended, webhook_due_at=webhook_due_at)
            return True

    def fail(
        self, job_id: str, worker: str, code: str, message: str, at: float, *, webhook_due_at: float | None = None
    ) -> bool:
        with self._lock:
            job = self._held(job_id, worker)
            if job is None:
                return False
            self._jobs[job_id] = dataclasses.replace(
                _ended(job, at, error=(code, message)), webhook_due_at=webhook_due_at
            )
            return True

    def claim_webhook(self, *, now: float, lease: float) -> CaptureJob | None:
        with self._lock:
            due = [j for j in self._jobs.values() if j.webhook_due_at is not None and j.webhook_due_at <= now]
            if not due:
                return None
            job = min(due, key=lambda j: (j.webhook_due_at or 0.0, j.job_id))
            claimed = dataclasses.replace(job, webhook_due_at=now + lease, webhook_attempts=job.webhook_attempts + 1)
            self._jobs[job.job_id] = claimed
            return claimed

    def webhook_next(self, job_id: str, attempts: int, due_at: float | None) -> bool:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.webhook_due_at is None or job.webhook_attempts != attempts:
                return False
            self._jobs[job_id] = dataclasses.replace(job, webhook_due_at=due_at)
            return True

    def mark_downloaded(self, job_id: str, at: float) -> bool:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.downloaded_at is not None:
                return False
            self._jobs[job_id] = dataclasses.replace(job, downloaded_at=at)
            return True

    def forget_result(self, job_id: str, at: float) -> JobResult | None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.result is None or job.result_deleted_at is not None:
                return None
            self._jobs[job_id] = dataclasses.replace(job, result_deleted_at=at)
            return job.result

    def expired_results(self, now: float, limit: int) -> list[CaptureJob]:
        with self._lock:
            due = [
                j
                for j in self._jobs.values()
                if j.result is not None and j.result_deleted_at is None and j.result.expires_at <= now
            ]
        return sorted(due, key=lambda j: j.result.expires_at if j.result else 0.0)[:limit]

    def stats(self, *, now: float, worker_window: float) -> QueueStats:
        with self._lock:
            queued = [j for j in self._jobs.values() if j.status == "queued"]
            processing = sum(1 for j in self._jobs.values() if j.status == "processing")
            workers = sum(1 for seen in self._workers.values() if seen >= now - worker_window)
        oldest = min((j.created_at for j in queued), default=None)
        return QueueStats(len(queued), processing, oldest, workers)

    def unfinished(self, namespace: str) -> int:
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.namespace == namespace and j.status in _UNFINISHED)

    def heartbeat(self, worker: str, at: float) -> None:
        with self._lock:
            self._workers[worker] = at

    def retire_worker(self, worker: str) -> None:
        with self._lock:
            self._workers.pop(worker, None)

    def set_webhook_secret(self, namespace: str, sealed: str, at: float) -> None:
        with self._lock:
            self._webhook_secrets[namespace] = sealed

    def webhook_secret(self, namespace: str) -> str | None:
        with self._lock:
            return self._webhook_secrets.get(namespace)

    def forget(self, namespace: str) -> None:
        """The workspace was deleted: its jobs go with it."""
        with self._lock:
            self._jobs = {k: j for k, j in self._jobs.items() if j.namespace != namespace}
            self._webhook_secrets.pop(namespace, None)

    def _held(self, job_id: str, worker: str) -> CaptureJob | None:
        job = self._jobs.get(job_id)
        if job is None or job.status != "processing" or job.worker != worker:
            return None
        return job


def _expired(job: CaptureJob, now: float) -> bool:
    return job.status == "processing" and job.lease_until is not None and job.lease_until < now


def _ended(job: CaptureJob, at: float, error: tuple[str, str] | None = None) -> CaptureJob:
    ended = dataclasses.replace(job, auth_sealed=None, lease_until=None, finished_at=at)
    if error is None:
        return ended
    return dataclasses.replace(ended, status="failed", error_code=error[0], error_message=error[1])
