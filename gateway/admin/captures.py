"""Capture jobs of a workspace: submit, show, list, delete the result, the queue's status, the webhook secret.

What a submission is checked for before it is queued, each refusal naming its field:

- ``url``: the capture URL parser (``gateway.capture.validate_target``); HTTPS only unless both the gateway
  (``capture_jobs_allow_http``, the operator's ceiling) and the workspace (its own setting) allow http; its
  host among the workspace's capture domains and not switched off (403 DOMAIN_NOT_ALLOWED either way); a
  host with no public address is 403 BLOCKED_ADDRESS now, not later;
- the plan's monthly captures quota (429 RATE_LIMITED): a queued or processing job counts as a capture;
- ``output``, ``wait``, ``delay``, ``hide``, ``redact``: the ``?capture=`` options' own checks; the URL API's
  transform parameters through its own parser (``fm`` and ``q`` come from ``format`` and ``quality``);
- ``retention``: at most the plan's longest (the workspace's own when left out);
- ``webhookUrl``: the external URL parser, a public address (403 BLOCKED_ADDRESS), and a webhook secret made
  for the workspace first (so every delivery can be verified);
- ``auth``: cookies only for the page's host or an allowed capture domain whose every subdomain is allowed too
  (a domain cookie travels to all of them); localStorage entries, bounded; extra request headers (names a
  browser or a proxy owns refused) and HTTP basic credentials, which the capture gives per request only to
  hosts the workspace's capture domains allow (as at submit and as at the run), over https unless the job's
  own page is http (gateway/jobs/scope.py, gateway/capture/interception.py). An http job whose allowance (the
  gateway's or the workspace's) was withdrawn while it waited ends failed with HTTP_NOT_ALLOWED instead of running.

The auth secrets are sealed with the gateway key before they are stored, and appear nowhere else.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.accounts.capture_jobs import JOB_ID, CaptureJob, QueueStats
from gateway.accounts.models import Workspace
from gateway.admin.context import AdminContext
from gateway.admin.errors import Invalid, NotFound
from gateway.admin.workspaces import load
from gateway.cache.results import CachedResult
from gateway.capture import parse_capture_options, validate_target
from gateway.capture.inject import ACTION_KINDS, ACTIONS_SELECTOR, MAX_ACTIONS, NETWORK_IDLE_SELECTOR
from gateway.capture.interception import NetworkAuth
from gateway.capture.selectors import InvalidSelector, check_selector
from gateway.errors import BadSignature, DomainNotAllowed, Gone, RateLimited, ValidationError
from gateway.jobs.links import ResultLinks
from gateway.jobs.local import StoreQueue
from gateway.jobs.protocol import JobQueue
from gateway.jobs.scope import CaptureScope, http_allowed, needs_http_allowance
from gateway.jobs.spec import FM, FORMATS, JobAuth, JobSpec
from gateway.jobs.webhooks import new_secret
from gateway.limits.clock import iso_utc, month_of, month_start, next_month
from gateway.limits.headers import retry_after
from gateway.netguard import resolve_public
from gateway.policy import InvalidSourceURL, capture_enabled, parse_source_url
from gateway.policy.workspace import WorkspacePolicy
from gateway.usage.stores import usage_store
from transforms.errors import TransformError
from transforms.params import parse

MAX_COOKIES = 50
MAX_HEADERS = 20
MAX_LOCAL_STORAGE = 50
MAX_AUTH_BYTES = 64 * 1024
MAX_CSS_BYTES = 32 * 1024
# RFC 9110's token: what a header name, and a cookie name, may be made of.
_HTTP_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}")
_COOKIE_VALUE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f;]")
_SAME_SITE = {"strict": "Strict", "lax": "Lax", "none": "None"}
# Set by ``format`` and ``quality``, never twice.
_OWN_TRANSFORM = frozenset({"fm", "q"})
_HEADER_VALUE_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_BASIC_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f]")
# Header names the browser or a proxy owns (hop-by-hop, framing, cookies, CORS, fetch metadata), refused.
HEADERS_REFUSED = frozenset(
    {
        "host",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "cookie",
        "cookie2",
        "set-cookie",
        "expect",
        "accept-encoding",
        "accept-charset",
        "access-control-request-headers",
        "access-control-request-method",
        "origin",
        "referer",
        "date",
        "dnt",
        "via",
    }
)
HEADER_PREFIXES_REFUSED = ("proxy-", "sec-")


def refused_headers_text() -> str:
    """The refused header names as the API reference lists them (from the refusal's own constants)."""
    names = ", ".join(f"`{name}`" for name in sorted(HEADERS_REFUSED))
    prefixes = " or ".join(f"`{prefix}`" for prefix in HEADER_PREFIXES_REFUSED)
    return f"{names}, and any name starting with {prefixes}"


# A name that no pattern names on purpose: a domain cookie is allowed only if it would be for any subdomain.
_PROBE_LABEL = "imgate-subdomain-probe"


@dataclass(frozen=True, slots=True)
class Cookie:
    name: str
    value: str = field(repr=False)
    domain: str | None = None
    path: str = "/"
    secure: bool = True
    http_only: bool = True
    same_site: str | None = None


@dataclass(frozen=True, slots=True)
class CaptureRequest:
    url: str
    format: str = "png"
    full_page: bool = False
    width: int | None = None
    height: int | None = None
    device_scale_factor: str | None = None
    element: str | None = None
    dark_mode: bool = False
    quality: int | None = None
    transform: Mapping[str, str] = field(default_factory=dict)
    wait: str = "load"
    delay: int = 0
    hide: Sequence[str] = ()
    redact: Sequence[str] = ()
    cookies: Sequence[Cookie] = field(default=(), repr=False)
    local_storage: Mapping[str, str] = field(default_factory=dict, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    # (username, password)
    basic: tuple[str, str] | None = field(default=None, repr=False)
    webhook_url: str | None = None
    retention: int | None = None
    css: str = ""
    block_ads: bool = False
    block_cookie_banners: bool = False
    # (kind, selector, text): click, type (text), scroll or wait, in order, before the capture.
    actions: Sequence[tuple[str, str, str]] = ()


def job_queue(ctx: AdminContext) -> JobQueue:
    """The queue over the context's capture job store (the account store's, or Redis: ``build_account_store``)."""
    return StoreQueue(ctx.store.capture_jobs, ctx.settings)


async def submit_capture(ctx: AdminContext, namespace: str, request: CaptureRequest) -> CaptureJob:
    workspace = await load(ctx, namespace)
    allow_http = http_allowed(ctx.settings.capture_jobs_allow_http, workspace)
    url = _checked_url(request.url, allow_http)
    policy = WorkspacePolicy.compile(
        workspace.allowed_origins, workspace.allowed_sources, workspace.allowed_capture_domains
    )
    page = parse_source_url(url.split("#", 1)[0])
    if not policy.capture_allowed(page):
        raise DomainNotAllowed()
    if not capture_enabled(workspace.allowed_capture_domains, workspace.disabled_capture_domains, page):
        raise DomainNotAllowed("this capture domain is disabled; no new captures are taken")
    retention = workspace.retention_in_force(), max(workspace.limits().capture_retention_options)
    spec = _spec(ctx, request, url, *retention, allow_http)
    auth = _auth(request, page.scheme, page.port, page.host, policy, workspace, allow_http)
    capture_guard = ctx.guard.trusting(ctx.settings.capture.trusted_networks)
    await resolve_public(page.host, page.port, capture_guard)
    if spec.webhook_url is not None:
        hook = parse_source_url(spec.webhook_url)
        await resolve_public(hook.host, hook.port, ctx.guard)
        if await ctx.call(ctx.store.capture_jobs.webhook_secret, namespace) is None:
            raise Invalid("webhookUrl: create the workspace's webhook secret first (POST …/captures/webhook-secret)")
    job = CaptureJob(
        job_id="cap_" + secrets.token_hex(12),
        namespace=namespace,
        url=url,
        spec=spec.to_json(),
        created_at=time.time(),
        auth_sealed=auth.seal(ctx.secrets) if auth else None,
    )
    await ctx.call(_check_capture_quota, ctx, workspace)
    await ctx.call(job_queue(ctx).submit, job)
    return job


def _check_capture_quota(ctx: AdminContext, workspace: Workspace) -> None:
    """The plan's monthly captures quota: a submitted job counts as a capture from its submission on.

    Used = the month's captures in the usage counters (``?capture=`` misses and completed jobs, as flushed) plus
    the workspace's jobs still queued or processing. Like the request path's quota it may trail the truth by
    what was counted and not flushed yet (a few seconds); ``limiter = "off"`` turns it off as it turns off all
    limits."""
    if ctx.settings.limiter == "off":
        return
    quota = workspace.limits().captures_per_month
    now = time.time()
    year, month = month_of(now)
    used = usage_store(ctx.settings, ctx.store).month_totals(workspace.namespace, year, month).captures
    used += ctx.store.capture_jobs.unfinished(workspace.namespace)
    if used >= quota:
        resets_at = month_start(*next_month(year, month))
        raise RateLimited(
            f"the monthly captures quota of {quota} is used up; it resets at {iso_utc(resets_at)}",
            headers={"Retry-After": retry_after(resets_at - now)},
        )


async def get_capture(ctx: AdminContext, namespace: str, job_id: str) -> CaptureJob:
    job = await ctx.call(ctx.store.capture_jobs.get, job_id) if JOB_ID.fullmatch(job_id) else None
    # Another workspace's job is as unknown as one that does not exist.
    if job is None or job.namespace != namespace:
        raise NotFound(f"no capture job {job_id[:40]}")
    return job


async def list_captures(
    ctx: AdminContext, namespace: str, limit: int, before: tuple[float, str] | None
) -> list[CaptureJob]:
    await load(ctx, namespace)
    return await ctx.call(ctx.store.capture_jobs.list_jobs, namespace, limit=limit, before=before)


async def delete_capture_result(ctx: AdminContext, namespace: str, job_id: str) -> CaptureJob:
    """Delete the job's result now (its record stays, saying when); a job without one is answered as it is."""
    job = await get_capture(ctx, namespace, job_id)
    forgotten = await ctx.call(ctx.store.capture_jobs.forget_result, job.job_id, time.time())
    if forgotten is not None:
        await ctx.results.purge(forgotten.key)
    return await get_capture(ctx, namespace, job_id)


@dataclass(frozen=True, slots=True)
class CaptureStatus:
    """The job queue every node shares, and the workspace's own capture pool in the process that answers."""

    queue: QueueStats
    # Seconds the oldest queued job has waited; None: none is queued.
    oldest_queued_age: float | None
    # The plan's browsers of a pool of its own (0: the shared pool), whether this process runs it now, and how
    # many of the workspace's captures run or wait in it here (more than its browsers: captures queue).
    dedicated_browsers: int
    dedicated_pool_running: bool
    dedicated_pool_busy: int


async def capture_status(ctx: AdminContext, namespace: str) -> CaptureStatus:
    workspace = await load(ctx, namespace)
    stats = await ctx.call(job_queue(ctx).stats)
    age = None if stats.oldest_queued_at is None else max(0.0, time.time() - stats.oldest_queued_at)
    # Asked of the running service, which holds the pools: no second record of them to drift.
    service = ctx.capture.service if ctx.capture is not None else None
    running = service is not None and service.dedicated_size(namespace) > 0
    busy = service.dedicated_busy(namespace) if service is not None else 0
    return CaptureStatus(stats, age, workspace.limits().dedicated_browsers, running, busy)


@dataclass(frozen=True, slots=True)
class Download:
    job: CaptureJob
    stored: CachedResult


async def download_result(
    ctx: AdminContext, job_id: str, exp: str | None, sig: str | None, *, consume: bool = True
) -> Download:
    """A job's result behind its signed URL: ``BadSignature`` (403) for a bad signature, ``Gone`` (410) past
    ``exp`` or once the result is no longer kept. Retention 0 hands it out once: the first download marks it
    (atomically, so two racing downloads cannot both get it) and deletes it. ``consume=False`` (a HEAD) answers
    the same without using up that one download."""
    if not JOB_ID.fullmatch(job_id):
        raise BadSignature("this result URL is not signed")
    now = time.time()
    ResultLinks(ctx.tokens).verify(job_id, exp, sig, now)
    jobs = ctx.store.capture_jobs
    job = await ctx.call(jobs.get, job_id)
    kept = job.result if job is not None and job.result_deleted_at is None else None
    if job is None or kept is None or kept.expires_at <= now:
        raise Gone("this result has expired or was deleted")
    zero = JobSpec.from_json(job.spec).retention == 0
    once = zero and consume
    if once and not await ctx.call(jobs.mark_downloaded, job_id, now):
        raise Gone("this result was downloaded already (retention 0)")
    if zero and not consume and job.downloaded_at is not None:
        raise Gone("this result was downloaded already (retention 0)")
    stored = await ctx.results.get(kept.key)
    if stored is None:
        raise Gone("this result has expired or was deleted")
    if once:
        await ctx.call(jobs.forget_result, job_id, now)
        await ctx.results.purge(kept.key)
    return Download(job, stored)


async def rotate_webhook_secret(ctx: AdminContext, namespace: str) -> str:
    """A new webhook signing secret for the workspace, replacing the old one at once; shown only here."""
    await load(ctx, namespace)
    secret = new_secret()
    await ctx.call(ctx.store.capture_jobs.set_webhook_secret, namespace, ctx.secrets.seal(secret), time.time())
    return secret


def _checked_url(raw: str, allow_http: bool) -> str:
    try:
        url = validate_target(raw)
    except ValidationError as exc:
        raise Invalid(exc.message.replace("capture:", "url:", 1), "url") from None
    if needs_http_allowance(url) and not allow_http:
        raise Invalid("url: only https:// pages are captured", "url")
    return url


def _spec(
    ctx: AdminContext,
    request: CaptureRequest,
    url: str,
    default_retention: int,
    max_retention: int,
    allow_http: bool,
) -> JobSpec:
    if request.format not in FORMATS:
        raise Invalid(f"output.format: one of {', '.join(FORMATS)}", "output.format")
    pairs: list[tuple[str, str]] = [
        ("full", "1" if request.full_page else "0"),
        ("dark", "1" if request.dark_mode else "0"),
    ]
    for name, value in (("vw", request.width), ("vh", request.height), ("cdpr", request.device_scale_factor)):
        if value is not None:
            pairs.append((name, str(value)))
    if request.element is not None:
        _selector("output.element", request.element)
        pairs.append(("el", request.element))
    network_idle = request.wait == "networkidle"
    actions = _actions(request.actions)
    if actions and request.wait != "load":
        # One wait per capture: the actions' own mark. A last "wait" action waits for a selector after them.
        raise Invalid("wait: with actions, leave wait out and end the actions with a wait action", "wait")
    if actions:
        pairs.append(("wait", ACTIONS_SELECTOR))
    elif network_idle:
        # The capture's own selector wait, for the mark the page's network-idle script adds: the job's time cap.
        pairs.append(("wait", NETWORK_IDLE_SELECTOR))
    elif request.wait not in ("load", "domcontentloaded"):
        _selector("wait", request.wait)
        pairs.append(("wait", request.wait))
    pairs.append(("delay", str(request.delay)))
    for name, selectors in (("hide", request.hide), ("redact", request.redact)):
        for n, selector in enumerate(selectors):
            _selector(f"{name}[{n}]", selector, pseudo_elements=name == "hide")
        if selectors:
            pairs.append((name, ",".join(selectors)))
    try:
        options = parse_capture_options(pairs, ctx.settings.capture)
    except ValidationError as exc:
        raise Invalid(exc.message) from None
    pdf = request.format == "pdf"
    if pdf:
        for name, given in (
            ("output.element", options.el is not None),
            ("redact", bool(options.redact)),
            ("output.fullPage", options.full),
            ("output.viewport.deviceScaleFactor", options.cdpr != 1),
            ("output.quality", request.quality is not None),
            ("output.transform", bool(request.transform)),
        ):
            if given:
                raise Invalid(f"{name}: not available with format pdf", name)
    transform: list[tuple[str, str]] = []
    if not pdf:
        for name in request.transform:
            if name in _OWN_TRANSFORM:
                raise Invalid(
                    f"output.transform: {name} is set by output.format and output.quality", "output.transform"
                )
        transform = [("fm", FM[request.format]), *request.transform.items()]
        if request.quality is not None:
            transform.append(("q", str(request.quality)))
        try:
            parse(transform)
        except TransformError as exc:
            raise Invalid.from_transform(exc) from None
    retention = default_retention if request.retention is None else request.retention
    if not 0 <= retention <= max_retention:
        raise Invalid(f"retention: from 0 to {max_retention} seconds on this workspace's plan", "retention")
    webhook = None
    if request.webhook_url is not None:
        try:
            webhook = parse_source_url(request.webhook_url).url
        except InvalidSourceURL as exc:
            raise Invalid(f"webhookUrl: {exc}", "webhookUrl") from None
        if needs_http_allowance(webhook) and not allow_http:
            raise Invalid("webhookUrl: only https:// webhooks are sent", "webhookUrl")
    if len(request.css.encode()) > MAX_CSS_BYTES:
        raise Invalid(f"css: at most {MAX_CSS_BYTES} bytes", "css")
    return JobSpec(
        url,
        request.format,
        tuple(options.pairs()),
        tuple(transform),
        retention,
        webhook,
        request.css,
        request.block_ads,
        request.block_cookie_banners,
        network_idle,
        actions,
    )


_SELECTOR_FORBIDDEN = re.compile(r"[{}\x00-\x1f\x7f]")


def _actions(given: Sequence[tuple[str, str, str]]) -> tuple[tuple[str, str, str], ...]:
    if len(given) > MAX_ACTIONS:
        raise Invalid(f"actions: at most {MAX_ACTIONS}", "actions")
    checked = []
    for n, (kind, selector, text) in enumerate(given):
        where = f"actions[{n}]"
        if kind not in ACTION_KINDS:
            raise Invalid(f"{where}.type: one of {', '.join(ACTION_KINDS)}", f"{where}.type")
        if not selector.strip() or len(selector) > 200 or _SELECTOR_FORBIDDEN.search(selector):
            raise Invalid(f"{where}.selector: a CSS selector, at most 200 characters, no braces", f"{where}.selector")
        _selector(f"{where}.selector", selector.strip())
        if (kind == "type") != bool(text):
            raise Invalid(f"{where}.text: given for type actions only (and then not empty)", f"{where}.text")
        checked.append((kind, selector.strip(), text))
    return tuple(checked)


def _selector(where: str, text: str, *, pseudo_elements: bool = False) -> None:
    """Refuse at submit what the browser's CSS parser would refuse (a job would wait out its time cap)."""
    if _SELECTOR_FORBIDDEN.search(text):
        raise Invalid(f"{where}: a selector contains a brace or a control character", where)
    try:
        check_selector(text.strip(), pseudo_elements=pseudo_elements)
    except InvalidSelector as exc:
        raise Invalid(f"{where}: {exc}", where) from None


def _auth(
    request: CaptureRequest,
    scheme: str,
    port: int,
    host: str,
    policy: WorkspacePolicy,
    workspace: Workspace,
    allow_http: bool,
) -> JobAuth:
    if len(request.cookies) > MAX_COOKIES:
        raise Invalid(f"auth.cookies: at most {MAX_COOKIES}", "auth.cookies")
    if len(request.local_storage) > MAX_LOCAL_STORAGE:
        raise Invalid(f"auth.localStorage: at most {MAX_LOCAL_STORAGE} entries", "auth.localStorage")
    cookies = tuple(_cookie(n, c, scheme, port, host, policy) for n, c in enumerate(request.cookies))
    headers = _headers(request.headers, request.basic is not None)
    basic = _basic(request.basic)
    size = sum(len(c.name) + len(c.value) for c in request.cookies)
    size += sum(len(k) + len(v) for k, v in request.local_storage.items())
    size += sum(len(k) + len(v) for k, v in headers)
    if size > MAX_AUTH_BYTES:
        raise Invalid(f"auth: at most {MAX_AUTH_BYTES} bytes of cookies, localStorage and headers", "auth")
    if not headers and basic is None:
        return JobAuth(cookies, dict(request.local_storage))
    # Plain http only for an http job's page: an https job's headers never travel unencrypted, whatever the
    # workspace allows.
    plain_http = allow_http and scheme == "http"
    scope = CaptureScope(workspace.allowed_capture_domains, workspace.disabled_capture_domains, plain_http)
    return JobAuth(cookies, dict(request.local_storage), NetworkAuth(headers, basic, scope))


def _headers(given: Mapping[str, str], with_basic: bool) -> tuple[tuple[str, str], ...]:
    if len(given) > MAX_HEADERS:
        raise Invalid(f"auth.headers: at most {MAX_HEADERS}", "auth.headers")
    seen: set[str] = set()
    checked = []
    for name, value in given.items():
        if not _HTTP_TOKEN.fullmatch(name):
            raise Invalid("auth.headers: a header name is letters, digits and !#$%&'*+-.^_`|~ only", "auth.headers")
        where = f"auth.headers.{name}"
        lowered = name.lower()
        if lowered in HEADERS_REFUSED or lowered.startswith(HEADER_PREFIXES_REFUSED):
            raise Invalid(f"{where}: the browser sets this header itself; it cannot be given", where)
        if lowered == "authorization" and with_basic:
            raise Invalid(f"{where}: give either auth.basic or an Authorization header", where)
        if lowered in seen:
            raise Invalid(f"{where}: given twice (header names are not case-sensitive)", where)
        if _HEADER_VALUE_FORBIDDEN.search(value) or len(value) > 4096:
            raise Invalid(f"{where}: no control characters, at most 4096 characters", where)
        seen.add(lowered)
        checked.append((name, value.strip(" \t")))
    return tuple(checked)


def _basic(given: tuple[str, str] | None) -> tuple[str, str] | None:
    if given is None:
        return None
    username, password = given
    # RFC 7617: the user-id cannot hold a colon, which separates it from the password.
    if not username or ":" in username or _BASIC_FORBIDDEN.search(username):
        raise Invalid("auth.basic.username: not empty, no colon or control characters", "auth.basic.username")
    if _BASIC_FORBIDDEN.search(password):
        raise Invalid("auth.basic.password: no control characters", "auth.basic.password")
    return username, password


def _cookie(n: int, cookie: Cookie, scheme: str, port: int, host: str, policy: WorkspacePolicy) -> dict[str, Any]:
    where = f"auth.cookies[{n}]"
    if not _HTTP_TOKEN.fullmatch(cookie.name):
        raise Invalid(f"{where}.name: letters, digits and !#$%&'*+-.^_`|~ only", f"{where}.name")
    if _COOKIE_VALUE_FORBIDDEN.search(cookie.value) or len(cookie.value) > 4096:
        raise Invalid(f"{where}.value: no control characters or ';', at most 4096 characters", f"{where}.value")
    if not cookie.path.startswith("/") or _COOKIE_VALUE_FORBIDDEN.search(cookie.path):
        raise Invalid(f"{where}.path: a path starting with /", f"{where}.path")
    param: dict[str, Any] = {
        "name": cookie.name,
        "value": cookie.value,
        "path": cookie.path,
        "secure": cookie.secure,
        "httpOnly": cookie.http_only,
    }
    if cookie.same_site is not None:
        if cookie.same_site.lower() not in _SAME_SITE:
            raise Invalid(f"{where}.sameSite: Strict, Lax or None", f"{where}.sameSite")
        param["sameSite"] = _SAME_SITE[cookie.same_site.lower()]
    suffix = "" if port == (443 if scheme == "https" else 80) else f":{port}"
    if cookie.domain is None:
        # A host-only cookie of the page's own host, which the url check allowed.
        param["url"] = f"{scheme}://{host}{suffix}/"
        return param
    domain = cookie.domain.lstrip(".").lower()
    # Cookies ignore ports: the host must be allowed as such (on the scheme's default port).
    for probe in (domain, f"{_PROBE_LABEL}.{domain}"):
        try:
            allowed = policy.capture_allowed(parse_source_url(f"{scheme}://{probe}/"))
        except InvalidSourceURL:
            raise Invalid(f"{where}.domain: not a host name", f"{where}.domain") from None
        if not allowed:
            raise Invalid(
                f"{where}.domain: the cookie would be sent to hosts that are not allowed capture domains "
                "(a domain cookie reaches every subdomain); leave domain out for the page's host only",
                f"{where}.domain",
            )
    param["domain"] = domain
    return param
