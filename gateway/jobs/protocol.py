"""``JobQueue``: what the API and the workers need from a queue of capture jobs, whatever holds it.

Calls block (a database, a network store): callers in an event loop run them in a thread. The job record
itself always lives in the account store (``store.capture_jobs``), so any node answers ``GET`` for any job; a
backend decides how the work is handed out.
"""

from __future__ import annotations

from typing import Protocol

from gateway.accounts.capture_jobs import CaptureJob, JobResult, QueueStats

# A job is tried at most this often: once, and once more after a worker died holding it.
MAX_ATTEMPTS = 2


class JobQueue(Protocol):
    def submit(self, job: CaptureJob) -> None:
        """Queue ``job``; ``Overloaded`` (503) when its workspace's or the gateway's depth cap is reached."""
        ...

    def claim(self, worker: str) -> CaptureJob | None:
        """The next job for ``worker``, under a lease that ``renew`` extends; None when there is none."""
        ...

    def renew(self, job: CaptureJob, worker: str) -> bool:
        """Extend ``worker``'s lease; ``False``: it lost the job (the lease expired and another took it)."""
        ...

    def complete(self, job: CaptureJob, worker: str, result: JobResult, *, webhook: bool = False) -> bool:
        """End the job with its result; ``webhook``: its webhook is due from now on (``claim_webhook``)."""
        ...

    def fail(self, job: CaptureJob, worker: str, code: str, message: str, *, webhook: bool = False) -> bool: ...

    def claim_webhook(self) -> CaptureJob | None:
        """A job whose webhook is due, for this caller only while one attempt may last; None when none is."""
        ...

    def webhook_next(self, job: CaptureJob, due_at: float | None) -> bool:
        """After the attempt of ``job`` as claimed: the next one's due time, or None (delivered or given up)."""
        ...

    def stats(self) -> QueueStats: ...

    def heartbeat(self, worker: str) -> None: ...

    def retire(self, worker: str) -> None: ...
