"""Capture jobs: ``POST /_/api/v1/captures`` (scope write) queues a screenshot of a page, possibly behind a
login; ``GET …/captures/{id}`` polls it (a signed, expiring ``resultUrl`` once completed), ``GET …/captures``
lists the key's workspace's jobs, ``DELETE …/captures/{id}`` deletes the result now, ``GET …/captures/status``
says whether workers run and how long the queue is; ``POST …/captures/webhook-secret`` makes (or rotates) the
workspace's webhook signing secret and shows it once.

The paths carry no workspace: a job belongs to the key's. The models are here rather than in ``models.py``: no
other route shows a capture job. Field names are camelCase, as the screenshot APIs this one stands in for spell
them. Nothing in ``auth`` is ever answered, logged or audited (the audit row names the route template only).
"""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import Field

from gateway.admin.captures import (
    CaptureRequest,
    Cookie,
    capture_status,
    delete_capture_result,
    get_capture,
    list_captures,
    refused_headers_text,
    rotate_webhook_secret,
    submit_capture,
)
from gateway.errors import ValidationError
from gateway.jobs.documents import job_document
from gateway.jobs.links import ResultLinks
from gateway.jobs.workers import base_url
from gateway.routes.api.endpoint import PREFIX, ApiCall, Endpoint
from gateway.routes.api.models import QueryString, RequestBody, ResponseBody

CAPTURES = f"{PREFIX}/captures"
_TAG = "captures"
_SELECTOR = Field(min_length=1, max_length=200)


class ViewportIn(RequestBody):
    width: int | None = Field(default=None, ge=320, le=3840, description="CSS pixels (1280).")
    height: int | None = Field(default=None, ge=240, le=2160, description="CSS pixels (800).")
    deviceScaleFactor: float | None = Field(default=None, ge=1, le=3, description="1 to 3, two decimals at most.")


class OutputIn(RequestBody):
    format: Literal["png", "jpeg", "webp", "avif", "pdf"] = "png"
    fullPage: bool = False
    viewport: ViewportIn | None = None
    element: str | None = Field(default=None, min_length=1, max_length=200, description="Capture this element only.")
    darkMode: bool = False
    quality: int | None = Field(default=None, ge=1, le=100)
    transform: dict[str, str] = Field(
        default_factory=dict,
        max_length=40,
        description="URL API parameters (`w`, `h`, `fit`, `blur`, …) applied to the screenshot; not with pdf.",
    )


class CookieIn(RequestBody):
    name: str = Field(min_length=1, max_length=256)
    value: str = Field(max_length=4096)
    domain: str | None = Field(
        default=None, max_length=253, description="Leave out for a cookie of the page's host only."
    )
    path: str = Field(default="/", max_length=1024)
    secure: bool = True
    httpOnly: bool = True
    sameSite: Literal["Strict", "Lax", "None"] | None = None


class BasicIn(RequestBody):
    username: str = Field(min_length=1, max_length=256, description="No colon.")
    password: str = Field(max_length=256)


class AuthIn(RequestBody):
    cookies: list[CookieIn] = Field(default_factory=list, max_length=50)
    headers: dict[str, str] = Field(
        default_factory=dict,
        max_length=20,
        description="Extra request headers, sent only to hosts the workspace's capture domains allow (https "
        "unless the job's page is http), never to the page's third parties. Refused (names are not case-sensitive): "
        f"{refused_headers_text()}.",
    )
    localStorage: dict[str, str] = Field(default_factory=dict, description="Written into the page's origin only.")
    basic: BasicIn | None = Field(
        default=None,
        description="HTTP basic credentials, answered only to a challenge from a host the capture domains allow "
        "(https unless the job's page is http), once per request; never to a proxy.",
    )


class ActionIn(RequestBody):
    type: Literal["click", "type", "scroll", "wait"]
    selector: str = Field(min_length=1, max_length=200, description="The element; each step waits for it first.")
    text: str = Field(default="", max_length=2000, description="What `type` types (only with it).")


class CaptureCreate(RequestBody):
    url: str = Field(min_length=1, max_length=2048, description="https:// only unless the gateway allows http.")
    output: OutputIn = Field(default_factory=OutputIn)
    wait: str = Field(
        default="load",
        min_length=1,
        max_length=200,
        description="`load`, `domcontentloaded`, `networkidle` (no request for 500 ms, within the capture's time "
        "cap) or a CSS selector to wait for.",
    )
    delay: int = Field(default=0, ge=0, le=60_000, description="Milliseconds after waiting, before the capture.")
    hide: list[str] = Field(default_factory=list, max_length=20)
    redact: list[str] = Field(default_factory=list, max_length=20)
    actions: list[ActionIn] = Field(
        default_factory=list,
        max_length=20,
        description="In order once the page loaded (10 s for all): click, type, scroll to or wait for a selector.",
    )
    auth: AuthIn | None = None
    webhookUrl: str | None = Field(default=None, max_length=2048)
    css: str = Field(default="", max_length=32 * 1024, description="A stylesheet added to the page before capture.")
    blockAds: bool = Field(default=False, description="Block the common ad networks and hide ad slots.")
    blockCookieBanners: bool = Field(default=False, description="Block consent platforms and hide their banners.")
    retention: int | None = Field(
        default=None, ge=0, le=2**31, description="Seconds the result is kept (0: until its first download)."
    )


class CaptureQueued(ResponseBody):
    id: str
    status: Literal["queued"]


class CaptureError(ResponseBody):
    code: str
    message: str


class CaptureOut(ResponseBody):
    id: str
    status: Literal["queued", "processing", "completed", "failed"]
    url: str
    format: str
    retention: int
    createdAt: float
    startedAt: float | None
    finishedAt: float | None
    attempts: int
    resultUrl: str | None = Field(default=None, description="Signed; valid until expiresAt.")
    expiresAt: int | None = None
    bytes: int | None = None
    width: int | None = None
    height: int | None = None
    resultDeletedAt: float | None = None
    error: CaptureError | None = None


class CaptureList(ResponseBody):
    captures: list[CaptureOut]
    next_cursor: str | None = Field(description="Pass it as `cursor` for the next (older) page; null on the last.")


class CaptureListQuery(QueryString):
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=80)


class CaptureStatusOut(ResponseBody):
    workers: int = Field(description="Job workers that reported in the last two leases, on every node.")
    running: bool
    queued: int
    processing: int
    oldestQueuedAge: float | None = Field(description="Seconds the oldest queued job has waited; null: none.")
    dedicatedBrowsers: int = Field(
        default=0, description="Browsers of this workspace's own capture pool (its plan's); 0: the shared pool."
    )
    dedicatedPoolRunning: bool = Field(
        default=False,
        description="The gateway process that answered runs this workspace's pool now (started on a capture, "
        "closed when idle).",
    )
    dedicatedPoolBusy: int = Field(
        default=0,
        description="This workspace's captures running or waiting in its pool in the gateway process that "
        "answered; more than dedicatedBrowsers: they queue.",
    )


class WebhookSecretOut(ResponseBody):
    secret: str = Field(description="Shown once: verify `Imgate-Signature` with it. Rotating replaces it at once.")


def _document(call: ApiCall, job: Any) -> CaptureOut:
    settings = call.ctx.settings
    document = job_document(
        job,
        ResultLinks(call.ctx.tokens),
        base_url=base_url(settings),
        now=time.time(),
        url_ttl=settings.capture_result_url_ttl,
    )
    return CaptureOut.model_validate(document)


def _request(body: CaptureCreate) -> CaptureRequest:
    output, auth = body.output, body.auth or AuthIn()
    viewport = output.viewport or ViewportIn()
    scale = None if viewport.deviceScaleFactor is None else format(viewport.deviceScaleFactor, "g")
    return CaptureRequest(
        url=body.url,
        format=output.format,
        full_page=output.fullPage,
        width=viewport.width,
        height=viewport.height,
        device_scale_factor=scale,
        element=output.element,
        dark_mode=output.darkMode,
        quality=output.quality,
        transform=output.transform,
        wait=body.wait,
        delay=body.delay,
        hide=tuple(body.hide),
        redact=tuple(body.redact),
        cookies=tuple(
            Cookie(c.name, c.value, c.domain, c.path, c.secure, c.httpOnly, c.sameSite) for c in auth.cookies
        ),
        local_storage=auth.localStorage,
        headers=auth.headers,
        basic=None if auth.basic is None else (auth.basic.username, auth.basic.password),
        webhook_url=body.webhookUrl,
        retention=body.retention,
        css=body.css,
        block_ads=body.blockAds,
        block_cookie_banners=body.blockCookieBanners,
        actions=tuple((a.type, a.selector, a.text) for a in body.actions),
    )


async def create_capture(call: ApiCall) -> CaptureQueued:
    job = await submit_capture(call.ctx, call.namespace, _request(call.body(CaptureCreate)))
    return CaptureQueued(id=job.job_id, status="queued")


async def show_capture(call: ApiCall) -> CaptureOut:
    return _document(call, await get_capture(call.ctx, call.namespace, call.params["job_id"]))


async def list_capture_jobs(call: ApiCall) -> CaptureList:
    query = call.query(CaptureListQuery)
    before = _cursor(query.cursor)
    jobs = await list_captures(call.ctx, call.namespace, query.limit + 1, before)
    more = len(jobs) > query.limit
    jobs = jobs[: query.limit]
    cursor = f"{jobs[-1].created_at!r}_{jobs[-1].job_id}" if more and jobs else None
    return CaptureList(captures=[_document(call, job) for job in jobs], next_cursor=cursor)


async def delete_capture(call: ApiCall) -> CaptureOut:
    return _document(call, await delete_capture_result(call.ctx, call.namespace, call.params["job_id"]))


async def show_capture_status(call: ApiCall) -> CaptureStatusOut:
    status = await capture_status(call.ctx, call.namespace)
    stats = status.queue
    return CaptureStatusOut(
        workers=stats.workers,
        running=stats.workers > 0,
        queued=stats.queued,
        processing=stats.processing,
        oldestQueuedAge=status.oldest_queued_age,
        dedicatedBrowsers=status.dedicated_browsers,
        dedicatedPoolRunning=status.dedicated_pool_running,
        dedicatedPoolBusy=status.dedicated_pool_busy,
    )


async def create_webhook_secret(call: ApiCall) -> WebhookSecretOut:
    return WebhookSecretOut(secret=await rotate_webhook_secret(call.ctx, call.namespace))


def _cursor(text: str | None) -> tuple[float, str] | None:
    if text is None:
        return None
    at, _, job_id = text.partition("_")
    try:
        return float(at), job_id
    except ValueError:
        raise ValidationError("cursor: not a cursor this API gave") from None


_ONE = f"{CAPTURES}/{{job_id}}"
_NO_SUCH = {404: "The key's workspace has no such capture job."}

ENDPOINTS = (
    Endpoint(
        "GET",
        f"{CAPTURES}/status",
        "Whether capture job workers are running, and the queue",
        show_capture_status,
        _TAG,
        response=CaptureStatusOut,
    ),
    Endpoint(
        "POST",
        f"{CAPTURES}/webhook-secret",
        "Create or rotate the workspace's webhook signing secret (shown once)",
        create_webhook_secret,
        _TAG,
        scope="write",
        response=WebhookSecretOut,
        status=201,
    ),
    Endpoint(
        "POST",
        CAPTURES,
        "Queue a capture job",
        create_capture,
        _TAG,
        scope="write",
        body=CaptureCreate,
        response=CaptureQueued,
        status=202,
        location=lambda body: f"{CAPTURES}/{getattr(body, 'id', '')}",
        description="Poll GET …/captures/{id}, or give webhookUrl. Auth secrets are sealed at rest, deleted when "
        "the job ends, and never shown.",
        errors={
            403: "DOMAIN_NOT_ALLOWED: the page's host is not an enabled capture domain; BLOCKED_ADDRESS: the page "
            "or the webhook has no public address.",
            429: "RATE_LIMITED: the plan's monthly captures quota is used up (a queued job counts as a capture).",
            503: "OVERLOADED: too many jobs wait, in the workspace or on the gateway.",
        },
    ),
    Endpoint(
        "GET",
        CAPTURES,
        "The workspace's capture jobs, newest first",
        list_capture_jobs,
        _TAG,
        query=CaptureListQuery,
        response=CaptureList,
    ),
    Endpoint("GET", _ONE, "One capture job", show_capture, _TAG, response=CaptureOut, errors=_NO_SUCH),
    Endpoint(
        "DELETE",
        _ONE,
        "Delete a capture job's result now",
        delete_capture,
        _TAG,
        scope="write",
        response=CaptureOut,
        errors=_NO_SUCH,
    ),
)
