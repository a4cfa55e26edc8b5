"""Capture jobs: the asynchronous screenshots the management API takes, as records in the account store.

A job is ``queued`` until a worker claims it, ``processing`` while a worker holds its lease, and then
``completed`` or ``failed``; it never goes back. A worker's claim is a lease with an expiry that the worker
renews while it captures: a worker that dies stops renewing, and the next claim after the expiry takes the job
again (its second attempt) or, when its attempts are spent, fails it with ``CAPTURE_INTERRUPTED``. So a job
is never stuck in ``processing`` and never lost.

What a job may hold: its request without secrets (``spec``, JSON), and the secrets of its ``auth`` sealed with
the gateway key (``auth_sealed``, a Fernet token). The sealed secrets are deleted in the same write that ends
the job (completed or failed), and they are never part of the job's document (``gateway.jobs.documents``).

Semantics every implementation keeps (``tests/gateway/accounts/capture_jobs_contract.py`` checks them): times
are the caller's; ``add`` refuses over either depth cap atomically; ``claim`` hands a job to one worker only;
``complete``/``fail``/``renew`` act only for the worker holding the lease; ``claim_webhook`` hands a due webhook
to one caller until its lease ends, and ``webhook_next`` acts only for the latest claim.

A job's webhook is kept in the job until it is delivered or given up (``webhook_due_at``, set by the write that
ends the job), so a worker that stops, or a restart, loses none: any worker claims it again once it is due.
Delivery is at least once: a worker that sent it and stopped before saying so is followed by another's send.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

JOB_STATES = ("queued", "processing", "completed", "failed")
JOB_ID = re.compile(r"cap_[0-9a-f]{24}")
# The code of a job whose worker disappeared (killed, crashed, lost its lease) once per attempt allowed.
INTERRUPTED = "CAPTURE_INTERRUPTED"
INTERRUPTED_MESSAGE = "the capture was interrupted twice (its worker stopped); submit it again"


@dataclass(frozen=True, slots=True)
class JobResult:
    """Where a completed job's output is kept (a result store key under its workspace) and what it is."""

    key: str
    format: str
    content_type: str
    bytes: int
    width: int
    height: int
    # Retention end, when the sweeper deletes it (wall clock seconds).
    expires_at: float


@dataclass(frozen=True, slots=True)
class CaptureJob:
    job_id: str
    namespace: str
    url: str
    # The request as JSON, without any secret (``gateway.jobs.spec.JobSpec``).
    spec: str
    created_at: float
    status: str = "queued"
    # The ``auth`` secrets sealed with the gateway key; None once the job ended (or when it had none).
    auth_sealed: str | None = None
    attempts: int = 0
    worker: str | None = None
    lease_until: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    error_code: str | None = None
    error_message: str | None = None
    result: JobResult | None = None
    downloaded_at: float | None = None
    # When the result was deleted (retention end, first download with retention 0, DELETE).
    result_deleted_at: float | None = None
    # The webhook's next attempt (None: no webhook pending, or it was delivered or given up), and how many
    # attempts were claimed so far (``claim_webhook``).
    webhook_due_at: float | None = None
    webhook_attempts: int = 0

    def __post_init__(self) -> None:
        if not JOB_ID.fullmatch(self.job_id):
            raise ValueError("a capture job id looks like cap_ and 24 hex digits")
        if self.status not in JOB_STATES:
            raise ValueError(f"a capture job's status is one of {', '.join(JOB_STATES)}")


@dataclass(frozen=True, slots=True)
class QueueStats:
    queued: int
    processing: int
    # created_at of the oldest queued job, None when none is queued.
    oldest_queued_at: float | None
    # Workers that reported within the liveness window asked for.
    workers: int


class CaptureJobStore(Protocol):
    def add(self, job: CaptureJob, *, max_queued_workspace: int, max_queued_total: int) -> bool:
        """Store a new queued job; ``False`` (nothing stored) when its workspace already has
        ``max_queued_workspace`` unfinished jobs or the gateway ``max_queued_total``. ``ValueError`` for a taken id."""
        ...

    def get(self, job_id: str) -> CaptureJob | None: ...

    def list_jobs(self, namespace: str, *, limit: int, before: tuple[float, str] | None = None) -> list[CaptureJob]:
        """The workspace's jobs, newest first; ``before`` is the (created_at, job_id) of the last one seen."""
        ...

    def claim(self, worker: str, *, now: float, lease: float, max_attempts: int) -> CaptureJob | None:
        """Give ``worker`` the oldest job that is queued, or processing with an expired lease and attempts left;
        first fail (``INTERRUPTED``) the expired ones whose attempts are spent. ``None``: nothing to do."""
        ...

    def renew(self, job_id: str, worker: str, until: float) -> bool:
        """Extend the lease; ``False`` when ``worker`` no longer holds it (the job went to another or ended)."""
        ...

    def complete(
        self, job_id: str, worker: str, result: JobResult, at: float, *, webhook_due_at: float | None = None
    ) -> bool:
        """End the job with its result and delete its sealed secrets, in the same write keeping its webhook due
        at ``webhook_due_at`` (None: it has none); ``False`` when ``worker`` lost the lease."""
        ...

    def fail(
        self, job_id: str, worker: str, code: str, message: str, at: float, *, webhook_due_at: float | None = None
    ) -> bool:
        """End the job failed and delete its sealed secrets, keeping its webhook as ``complete`` does; ``False``
        when ``worker`` lost the lease."""
        ...

    def claim_webhook(self, *, now: float, lease: float) -> CaptureJob | None:
        """The job whose webhook was due first (``webhook_due_at <= now``), for one caller: its due time moves to
        ``now + lease`` (claimed again then, if this caller never reports) and ``webhook_attempts`` grows by one;
        the job as it is after that. ``None``: no webhook is due."""
        ...

    def webhook_next(self, job_id: str, attempts: int, due_at: float | None) -> bool:
        """After an attempt: when the next is due, or None when the webhook was delivered or given up. Only while
        ``attempts`` is still the job's (a caller whose claim was taken over changes nothing): whether it did."""
        ...

    def mark_downloaded(self, job_id: str, at: float) -> bool:
        """Record the first download; ``True`` only the first time."""
        ...

    def forget_result(self, job_id: str, at: float) -> JobResult | None:
        """Record that the result is deleted; the result it had (to delete from the result store), or None."""
        ...

    def expired_results(self, now: float, limit: int) -> list[CaptureJob]:
        """Completed jobs whose result is kept past its retention end."""
        ...

    def stats(self, *, now: float, worker_window: float) -> QueueStats: ...

    def unfinished(self, namespace: str) -> int:
        """How many of the workspace's jobs are queued or processing (the captures quota counts them)."""
        ...

    def heartbeat(self, worker: str, at: float) -> None:
        """A worker says it is running (``stats`` counts those seen within its window)."""
        ...

    def retire_worker(self, worker: str) -> None:
        """A worker stopped cleanly."""
        ...

    # The workspace's webhook signing secret, sealed with the gateway key (one at a time: rotating replaces it).
    def set_webhook_secret(self, namespace: str, sealed: str, at: float) -> None: ...

    def webhook_secret(self, namespace: str) -> str | None: ...

    def forget(self, namespace: str) -> None:
        """The workspace is being deleted: its jobs and webhook secret go (in the account store's own tables
        its rows go with the workspace's anyway; a store beside it, Redis, needs this)."""
        ...
