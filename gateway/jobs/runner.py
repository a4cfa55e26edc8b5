"""One capture job, run: the page in a fresh browser context with the job's cookies and localStorage, then
the URL API's transform pipeline for image formats, then the result kept in the result store under the
workspace (``{namespace}/job/{id}/result``) until its retention ends."""

from __future__ import annotations

import time

from gateway.accounts.capture_jobs import CaptureJob, JobResult
from gateway.cache.results import CachedResult, ResultStore
from gateway.delivery.pool import TransformPool
from gateway.errors import from_transform_error
from gateway.jobs.spec import CONTENT_TYPES, JobAuth, JobSpec
from gateway.sources.capture import CaptureSource
from transforms.errors import TransformError
from transforms.params import parse
from transforms.pipeline import PixelBudget, run


def result_key(job: CaptureJob) -> str:
    return f"{job.namespace}/job/{job.job_id}/result"


class JobRunner:
    def __init__(
        self,
        capture: CaptureSource,
        pool: TransformPool,
        budget: PixelBudget,
        results: ResultStore,
        *,
        url_ttl: int,
    ) -> None:
        self._capture = capture
        self._pool = pool
        self._budget = budget
        self._results = results
        self._url_ttl = url_ttl

    async def run(self, job: CaptureJob, auth: JobAuth, *, dedicated_browsers: int = 0) -> JobResult:
        """The job's result, kept; raises ``GatewayError``s only (the job then fails with their code).
        ``dedicated_browsers``: the workspace's plan's, so that the job captures in the pool its URLs use."""
        spec = JobSpec.from_json(job.spec)
        setup = auth.page_setup(job.url, spec)
        original = await self._capture.fetch(
            job.url,
            spec.options(self._capture.settings),
            spec.pdf,
            setup=setup,
            namespace=job.namespace,
            dedicated_browsers=dedicated_browsers,
            # A job may wait for its dedicated pool where a ``?capture=`` URL is answered 503 at once.
            pool_wait=self._capture.settings.dedicated_job_wait,
        )
        if spec.pdf:
            data, width, height = original.data, 0, 0
        else:
            try:
                options = parse(spec.transform)
            except TransformError as exc:
                raise from_transform_error(exc) from None
            budget = self._budget

            def transform(deadline: float | None) -> tuple[bytes, int, int]:
                try:
                    output = run(original.data, options, None, budget, deadline=deadline)
                except TransformError as exc:
                    raise from_transform_error(exc) from None
                return output.data, output.width, output.height

            data, width, height = await self._pool.run(transform)
        now = time.time()
        # Retention 0 keeps the result until its first download, at most as long as one result URL lives.
        keep = spec.retention if spec.retention > 0 else self._url_ttl
        result = JobResult(
            key=result_key(job),
            format=spec.format,
            content_type=CONTENT_TYPES[spec.format],
            bytes=len(data),
            width=width,
            height=height,
            expires_at=now + keep,
        )
        stored = CachedResult(data=data, content_type=result.content_type, created_at=now, expires_at=now + keep)
        await self._results.put(result.key, stored)
        return result
