"""``GET /_/results/{id}?exp=&sig=``: a capture job's result, behind a signed, expiring URL (no API key: the
URL is the credential, short-lived, and made for one job only; see ``gateway.jobs.links``).

A bad signature is ``403 BAD_SIGNATURE``, an expired URL or a result no longer kept ``410 GONE``. A result kept
with retention 0 is handed out once: the first download marks it (atomically, so two racing downloads cannot
both get it) and deletes it. Answers are ``Cache-Control: private, no-store``: a result may show a page behind a
login, and no shared cache may keep it.
"""

from __future__ import annotations

import logging
import time

from starlette.requests import Request
from starlette.responses import Response

from gateway.accounts.capture_jobs import JOB_ID
from gateway.errors import BadSignature, GatewayError, Gone, Internal, MethodNotAllowed
from gateway.jobs.links import RESULTS_PATH, ResultLinks
from gateway.jobs.spec import JobSpec
from gateway.routes.api.endpoint import EveryMethod
from gateway.routes.api.runtime import ApiRuntime
from gateway.web.responses import Answer, RawResponse, error_response

RESULTS = f"{RESULTS_PATH}/{{job_id}}"

log = logging.getLogger("imgate.results")


async def _serve(request: Request) -> Response:
    if request.method not in ("GET", "HEAD"):
        return error_response(MethodNotAllowed("this path takes GET, HEAD", headers={"Allow": "GET, HEAD"}))
    try:
        return await _result(request)
    except GatewayError as exc:
        return error_response(exc)
    except Exception:
        log.exception("unhandled error serving a capture result")
        return error_response(Internal())


async def _result(request: Request) -> Response:
    ctx = ApiRuntime.of(request.app).ctx
    job_id = str(request.path_params["job_id"])
    if not JOB_ID.fullmatch(job_id):
        raise BadSignature("this result URL is not signed")
    now = time.time()
    ResultLinks(ctx.secrets).verify(job_id, request.query_params.get("exp"), request.query_params.get("sig"), now)
    jobs = ctx.store.capture_jobs
    job = await ctx.call(jobs.get, job_id)
    kept = job.result if job is not None and job.result_deleted_at is None else None
    if job is None or kept is None or kept.expires_at <= now:
        raise Gone("this result has expired or was deleted")
    once = JobSpec.from_json(job.spec).retention == 0
    if once and not await ctx.call(jobs.mark_downloaded, job_id, now):
        raise Gone("this result was downloaded already (retention 0)")
    stored = await ctx.results.get(kept.key)
    if stored is None:
        raise Gone("this result has expired or was deleted")
    if once:
        await ctx.call(jobs.forget_result, job_id, now)
        await ctx.results.purge(kept.key)
    headers = [
        (b"content-type", stored.content_type.encode()),
        (b"content-length", str(len(stored.data)).encode()),
        (b"cache-control", b"private, no-store"),
        (b"x-content-type-options", b"nosniff"),
    ]
    return RawResponse(Answer(200, headers, stored.data, None, None))


# A plain ASGI app, so every method reaches it and one it does not take is answered 405 in the JSON shape.
result = EveryMethod(_serve)
