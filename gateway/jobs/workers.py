"""``CaptureWorkers``: the job workers of one gateway process, as asyncio tasks beside the request path.

Each worker loops: claim a job (a lease), run it while a companion task renews the lease every third of its
length, then complete or fail it, then send its webhook. A worker that dies (its process killed) stops renewing;
once the lease expires another worker's claim takes the job again, or fails it with ``CAPTURE_INTERRUPTED``
when that was its second attempt (``gateway.accounts.capture_jobs``). A worker that loses its lease while still
running (a stall longer than the lease) cannot end the job: the store refuses its ``complete``.

The job's ``auth`` is opened from its sealed form only here, kept in memory for the capture, and never logged;
the store deletes the sealed form in the write that ends the job. Error messages on a failed job are the
``GatewayError``'s own (safe by contract); anything else is ``INTERNAL``, logged without the job's URL.

Also here: a heartbeat (``GET …/captures/status`` counts live workers from it) and the sweeper that deletes
results at their retention end.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Coroutine
from typing import Any

from gateway.accounts.capture_jobs import CaptureJob
from gateway.accounts.secrets import SecretBox
from gateway.accounts.store import AccountStore
from gateway.cache.keys import Kind
from gateway.cache.results import ResultStore
from gateway.delivery.hooks import Outcome
from gateway.errors import DomainNotAllowed, GatewayError, Internal
from gateway.jobs.accounting import JobAccounting
from gateway.jobs.documents import job_document
from gateway.jobs.links import ResultLinks
from gateway.jobs.protocol import JobQueue
from gateway.jobs.runner import JobRunner
from gateway.jobs.spec import JobAuth, JobSpec
from gateway.jobs.webhooks import WebhookSender
from gateway.policy import capture_enabled, parse_source_url
from gateway.policy.workspace import WorkspacePolicy
from gateway.settings import Settings

log = logging.getLogger("imgate.jobs")

_SWEEP_EVERY_S = 5.0
_SWEEP_BATCH = 100


def base_url(settings: Settings) -> str:
    """Where result URLs point: ``public_url``, else the address the gateway listens on."""
    return settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.port}"


class CaptureWorkers:
    def __init__(
        self,
        settings: Settings,
        queue: JobQueue,
        store: AccountStore,
        runner: JobRunner,
        results: ResultStore,
        secrets_box: SecretBox,
        webhooks: WebhookSender,
        accounting: JobAccounting | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._queue = queue
        self._store = store
        self._runner = runner
        self._results = results
        self._secrets = secrets_box
        self._links = ResultLinks(secrets_box)
        self._webhooks = webhooks
        self._accounting = accounting
        self._clock = clock
        prefix = f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(3)}"
        self._ids = [f"{prefix}-{n}" for n in range(settings.capture_job_workers)]
        self._tasks: set[asyncio.Task[None]] = set()
        self.completed = 0
        self.failed = 0

    @property
    def running(self) -> int:
        return sum(1 for task in self._tasks if not task.done())

    def start(self) -> None:
        """Start the workers in the running loop (none when ``capture_job_workers`` is 0 or captures are off)."""
        if self._tasks or not self._ids or not self._settings.capture.enabled:
            return
        for worker in self._ids:
            self._spawn(self._work(worker))
        self._spawn(self._keep_up())

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for worker in self._ids:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._queue.retire, worker)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _work(self, worker: str) -> None:
        while True:
            try:
                job = await asyncio.to_thread(self._queue.claim, worker)
            except Exception:
                log.exception("claiming a capture job failed")
                job = None
            if job is None:
                await asyncio.sleep(self._settings.capture_job_poll)
                continue
            await self._run(worker, job)

    async def _run(self, worker: str, job: CaptureJob) -> None:
        renewer = asyncio.ensure_future(self._renew(worker, job))
        started = time.monotonic()
        outcome: Outcome | None = None
        try:
            await asyncio.to_thread(self._check_still_allowed, job)
            auth = JobAuth.open(self._secrets, job.auth_sealed) if job.auth_sealed else JobAuth()
            result = await self._runner.run(job, auth)
        except GatewayError as exc:
            ended = await asyncio.to_thread(self._queue.fail, job, worker, exc.code, exc.message)
            self.failed += ended
            outcome = _outcome(job, exc.status, None, exc.code, None, started)
        except Exception:
            log.exception("a capture job failed unexpectedly")
            error = Internal()
            ended = await asyncio.to_thread(self._queue.fail, job, worker, error.code, error.message)
            self.failed += ended
            outcome = _outcome(job, error.status, None, error.code, None, started)
        else:
            ended = await asyncio.to_thread(self._queue.complete, job, worker, result)
            self.completed += ended
            outcome = _outcome(job, 200, "miss", None, result.content_type, started)
            if not ended:
                # Another worker holds the job now: this output is nobody's.
                await self._results.purge(result.key)
        finally:
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)
        if ended:
            if self._accounting is not None and outcome is not None:
                await self._accounting.record(outcome)
            self._spawn(self._notify(job.job_id))

    def _check_still_allowed(self, job: CaptureJob) -> None:
        """The workspace may have switched the domain off (or gone) since the job was queued: no new capture then."""
        workspace = self._store.get_workspace(job.namespace)
        if workspace is None or not workspace.active:
            raise DomainNotAllowed("the job's workspace is gone or inactive")
        page = parse_source_url(job.url.split("#", 1)[0])
        allowed = WorkspacePolicy.compile((), (), workspace.allowed_capture_domains).capture_allowed(page)
        if not allowed or not capture_enabled(
            workspace.allowed_capture_domains, workspace.disabled_capture_domains, page
        ):
            raise DomainNotAllowed("this capture domain was disabled after the job was queued")

    async def _renew(self, worker: str, job: CaptureJob) -> None:
        while True:
            await asyncio.sleep(self._settings.capture_job_lease / 3)
            if not await asyncio.to_thread(self._queue.renew, job, worker):
                return

    async def _notify(self, job_id: str) -> None:
        job = await asyncio.to_thread(self._store.capture_jobs.get, job_id)
        if job is None:
            return
        spec = JobSpec.from_json(job.spec)
        if spec.webhook_url is None:
            return
        sealed = await asyncio.to_thread(self._store.capture_jobs.webhook_secret, job.namespace)
        if sealed is None:
            log.warning("a capture job's webhook was not sent: its workspace has no webhook secret")
            return
        document = job_document(
            job,
            self._links,
            base_url=base_url(self._settings),
            now=self._clock(),
            url_ttl=self._settings.capture_result_url_ttl,
        )
        body = json.dumps(document, separators=(",", ":")).encode()
        await self._webhooks.deliver(spec.webhook_url, body, self._secrets.open(sealed))

    async def _keep_up(self) -> None:
        """The heartbeat of this process's workers, and the result sweeper."""
        while True:
            try:
                for worker in self._ids:
                    await asyncio.to_thread(self._queue.heartbeat, worker)
                await self.sweep()
            except Exception:
                log.exception("the capture job heartbeat or sweep failed")
            await asyncio.sleep(min(_SWEEP_EVERY_S, self._settings.capture_job_lease / 3))

    async def sweep(self) -> int:
        """Delete results past their retention end; how many."""
        jobs = self._store.capture_jobs
        due = await asyncio.to_thread(jobs.expired_results, self._clock(), _SWEEP_BATCH)
        for job in due:
            forgotten = await asyncio.to_thread(jobs.forget_result, job.job_id, self._clock())
            if forgotten is not None:
                await self._results.purge(forgotten.key)
        return len(due)


def _outcome(
    job: CaptureJob, status: int, tier: str | None, code: str | None, content_type: str | None, started: float
) -> Outcome:
    """An ended job as the request hooks count it (``gateway.jobs.accounting``): a capture, or an error."""
    seconds = time.monotonic() - started
    return Outcome(job.namespace, status, tier, code, Kind.CAPTURE, 0, seconds, content_type)
