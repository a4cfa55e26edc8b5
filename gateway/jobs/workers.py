"""``CaptureWorkers``: the job workers of one gateway process, as asyncio tasks beside the request path.

Each worker loops: claim a job (a lease), run it while a companion task renews the lease every third of its
length, then complete or fail it, in the same write keeping its webhook due. A worker that dies (its process
killed) stops renewing; once the lease expires another worker's claim takes the job again, or fails it with
``CAPTURE_INTERRUPTED`` when that was its second attempt (``gateway.accounts.capture_jobs``). A worker that loses
its lease while still running (a stall longer than the lease) cannot end the job: the store refuses its
``complete``.

The job's ``auth`` is opened from its sealed form only here, kept in memory for the capture, and never logged;
the store deletes the sealed form in the write that ends the job. Error messages on a failed job are the
``GatewayError``'s own (safe by contract); anything else is ``INTERNAL``, logged without the job's URL.

Webhooks are sent by one more task: it claims the due ones (``claim_webhook``, any process's: a restarted one's
or a stopped worker's too), makes one attempt each, and keeps the next attempt's due time in the job
(``gateway.jobs.webhooks``), until delivered or ``webhook_retry_for`` seconds after the job ended. At least once:
a process that stops between a send and saying so leaves it to be sent again once its claim's lease ends. Each
attempt reads the workspace again first: one gone or inactive, or an http:// URL its http allowance no longer
covers (``http_allowed``, as at submit), ends the delivery unsent instead of retrying it.

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
from gateway.accounts.models import Workspace
from gateway.accounts.secrets import SecretBox
from gateway.accounts.store import AccountStore
from gateway.accounts.tokens import TokenSigner
from gateway.cache.keys import Kind
from gateway.cache.results import ResultStore
from gateway.delivery.hooks import Outcome
from gateway.errors import DomainNotAllowed, GatewayError, HttpNotAllowed, Internal
from gateway.jobs.accounting import JobAccounting
from gateway.jobs.documents import job_document
from gateway.jobs.links import ResultLinks
from gateway.jobs.protocol import JobQueue
from gateway.jobs.runner import JobRunner
from gateway.jobs.scope import http_allowed, needs_http_allowance
from gateway.jobs.spec import JobAuth, JobSpec
from gateway.jobs.webhooks import WebhookSender
from gateway.policy import capture_enabled, parse_source_url
from gateway.policy.workspace import WorkspacePolicy
from gateway.settings import Settings

log = logging.getLogger("imgate.jobs")

_SWEEP_EVERY_S = 5.0
_SWEEP_BATCH = 100
# Webhook attempts in flight at once in one process; the others wait in the store, due.
_MAX_SENDING = 16


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
        tokens: TokenSigner | None = None,
    ) -> None:
        self._settings = settings
        self._queue = queue
        self._store = store
        self._runner = runner
        self._results = results
        self._secrets = secrets_box
        # The process's signer (build_services passes it), else one of the workers' own.
        self._links = ResultLinks(tokens if tokens is not None else TokenSigner(secrets_box))
        self._webhooks = webhooks
        self._accounting = accounting
        self._clock = clock
        prefix = f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(3)}"
        self._ids = [f"{prefix}-{n}" for n in range(settings.capture_job_workers)]
        self._tasks: set[asyncio.Task[None]] = set()
        self._sending = 0
        self._webhook_due = asyncio.Event()
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
        self._spawn(self._send_webhooks())

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
        webhook = JobSpec.from_json(job.spec).webhook_url is not None
        try:
            workspace = await asyncio.to_thread(self._check_still_allowed, job)
            auth = JobAuth.open(self._secrets, job.auth_sealed) if job.auth_sealed else JobAuth()
            # Headers and credentials go only where the capture domains allow them now as well as at submit. Plain
            # http needs no narrowing here: a job whose http allowance was withdrawn was refused just above.
            auth = auth.as_of(workspace.allowed_capture_domains, workspace.disabled_capture_domains)
            # The plan as it is now, not when the job was queued: the pool follows an upgrade or a downgrade.
            dedicated = workspace.limits().dedicated_browsers
            result = await self._runner.run(job, auth, dedicated_browsers=dedicated)
        except GatewayError as exc:
            ended = await asyncio.to_thread(self._queue.fail, job, worker, exc.code, exc.message, webhook=webhook)
            self.failed += ended
            outcome = _outcome(job, exc.status, None, exc.code, None, started)
        except Exception:
            log.exception("a capture job failed unexpectedly")
            error = Internal()
            ended = await asyncio.to_thread(self._queue.fail, job, worker, error.code, error.message, webhook=webhook)
            self.failed += ended
            outcome = _outcome(job, error.status, None, error.code, None, started)
        else:
            ended = await asyncio.to_thread(self._queue.complete, job, worker, result, webhook=webhook)
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
            if webhook:
                self._webhook_due.set()  # no need to wait for the next poll

    def _check_still_allowed(self, job: CaptureJob) -> Workspace:
        """The workspace may have gone, switched the domain off or withdrawn its http allowance since the job was
        queued: no new capture then."""
        workspace = self._active_workspace(job.namespace)
        if workspace is None:
            raise DomainNotAllowed("the job's workspace is gone or inactive")
        page = parse_source_url(job.url.split("#", 1)[0])
        allowed = WorkspacePolicy.compile((), (), workspace.allowed_capture_domains).capture_allowed(page)
        if not allowed or not capture_enabled(
            workspace.allowed_capture_domains, workspace.disabled_capture_domains, page
        ):
            raise DomainNotAllowed("this capture domain was disabled after the job was queued")
        if needs_http_allowance(job.url) and not http_allowed(self._settings.capture_jobs_allow_http, workspace):
            raise HttpNotAllowed("http:// pages were switched off for capture jobs after the job was queued")
        return workspace

    def _active_workspace(self, namespace: str) -> Workspace | None:
        """The job's workspace as it is now; None once it was deleted or made inactive."""
        workspace = self._store.get_workspace(namespace)
        return workspace if workspace is not None and workspace.active else None

    async def _renew(self, worker: str, job: CaptureJob) -> None:
        while True:
            await asyncio.sleep(self._settings.capture_job_lease / 3)
            if not await asyncio.to_thread(self._queue.renew, job, worker):
                return

    async def _send_webhooks(self) -> None:
        """Claim the due webhooks, as many as may be in flight, and attempt each; then wait for the next poll or
        for a job of this process to end."""
        while True:
            try:
                while self._sending < _MAX_SENDING:
                    job = await asyncio.to_thread(self._queue.claim_webhook)
                    if job is None:
                        break
                    self._sending += 1
                    self._spawn(self._send_webhook(job))
            except Exception:
                log.exception("claiming a due webhook failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._webhook_due.wait(), self._settings.capture_job_poll)
            self._webhook_due.clear()

    async def _send_webhook(self, job: CaptureJob) -> None:
        """One attempt of ``job``'s webhook (as claimed), then its next due time, or none once delivered or given up."""
        try:
            try:
                delivered = await self._attempt_webhook(job)
            except Exception:
                log.exception("a webhook attempt failed unexpectedly")
                delivered = False
            ended_at = job.finished_at if job.finished_at is not None else self._clock()
            due = None if delivered else self._webhooks.next_attempt_at(job.webhook_attempts, ended_at, self._clock())
            if not delivered and due is None:
                log.warning("a webhook was not delivered after %d attempts; giving up", job.webhook_attempts)
            await asyncio.to_thread(self._queue.webhook_next, job, due)
        except Exception:
            # Left claimed: another claim takes it once the lease ends.
            log.exception("recording a webhook attempt failed")
        finally:
            self._sending -= 1
            self._webhook_due.set()

    async def _attempt_webhook(self, job: CaptureJob) -> bool:
        """Whether the webhook is done with: delivered, or one that may not or cannot be sent (no URL, a
        workspace gone, inactive or no longer allowing its http:// URL, no secret)."""
        spec = JobSpec.from_json(job.spec)
        if spec.webhook_url is None:
            return True
        refusal = await asyncio.to_thread(self._webhook_refusal, job.namespace, spec.webhook_url)
        if refusal is not None:
            log.warning("a capture job's webhook was not sent: %s", refusal)
            return True
        sealed = await asyncio.to_thread(self._store.capture_jobs.webhook_secret, job.namespace)
        if sealed is None:
            log.warning("a capture job's webhook was not sent: its workspace has no webhook secret")
            return True
        document = job_document(
            job,
            self._links,
            base_url=base_url(self._settings),
            now=self._clock(),
            url_ttl=self._settings.capture_result_url_ttl,
        )
        body = json.dumps(document, separators=(",", ":")).encode()
        return await self._webhooks.attempt(spec.webhook_url, body, self._secrets.open(sealed))

    def _webhook_refusal(self, namespace: str, url: str) -> str | None:
        """Why the webhook may not be sent now, when it may not: the workspace as it is now, not as at submit.
        The body carries signed result links, so plain http needs the allowance still in force."""
        workspace = self._active_workspace(namespace)
        if workspace is None:
            return "its workspace is gone or inactive"
        if needs_http_allowance(url) and not http_allowed(self._settings.capture_jobs_allow_http, workspace):
            return "http:// webhooks were switched off for capture jobs after the job was queued"
        return None

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
