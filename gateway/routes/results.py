"""``GET /_/results/{id}?exp=&sig=``: a capture job's result, behind a signed, expiring URL (no API key: the
URL is the credential, short-lived, and made for one job only; see ``gateway.jobs.links``).

A bad signature is ``403 BAD_SIGNATURE``, an expired URL or a result no longer kept ``410 GONE``; retention 0
hands a result out once, to the first GET (a HEAD answers the same headers and leaves it;
``gateway.admin.captures.download_result`` decides all of it). Answers are ``Cache-Control: private,
no-store``: a result may show a page behind a login, and no shared cache may keep it.

A download is counted like a request of the image path (usage ``bytes_out``, metrics, the access log) through
the request hooks (``gateway.jobs.accounting``); a refused one names no workspace (the URL did not prove one),
so it is logged by nothing but the answer.
"""

from __future__ import annotations

import logging
import time

from starlette.requests import Request
from starlette.responses import Response

from gateway.admin.captures import download_result
from gateway.cache.keys import Kind
from gateway.delivery.hooks import Outcome
from gateway.errors import GatewayError, Internal, MethodNotAllowed
from gateway.jobs.links import RESULTS_PATH
from gateway.routes.api.endpoint import EveryMethod
from gateway.routes.api.runtime import ApiRuntime
from gateway.services import Services
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
    started = time.monotonic()
    ctx = ApiRuntime.of(request.app).ctx
    query = request.query_params
    job_id, exp, sig = str(request.path_params["job_id"]), query.get("exp"), query.get("sig")
    # A HEAD asks about the result without using up a retention-0 result's one download.
    download = await download_result(ctx, job_id, exp, sig, consume=request.method != "HEAD")
    stored = download.stored
    headers = [
        (b"content-type", stored.content_type.encode()),
        (b"content-length", str(len(stored.data)).encode()),
        (b"cache-control", b"private, no-store"),
        (b"x-content-type-options", b"nosniff"),
    ]
    services: Services = request.app.state.services
    if services.accounting is not None:
        sent = 0 if request.method == "HEAD" else len(stored.data)
        seconds = time.monotonic() - started
        outcome = Outcome(download.job.namespace, 200, None, None, Kind.CAPTURE, sent, seconds, stored.content_type)
        await services.accounting.record(outcome)
    return RawResponse(Answer(200, headers, stored.data, None, None))


# A plain ASGI app, so every method reaches it and one it does not take is answered 405 in the JSON shape.
result = EveryMethod(_serve)
