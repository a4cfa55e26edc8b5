"""The plan step: what a URL means for a workspace, as one frozen ``RequestPlan``, worked out once per URL.

``Planner.plan`` splits the query (each parameter at most once), picks the source (the workspace's origin,
an allowed ``?src=`` URL, or an allowed ``?capture=`` page), parses the transform options, resolves the mark,
decides how long the output may be kept, and computes the cache key of every format the request may be
answered in. Parsing, resolving and hashing cost more than serving the bytes of a hit, so plans are kept,
keyed by the raw URL, while the workspace's tenant record is the same object (any change to its settings,
marks, rules or purges makes a new one) and for at most ``PLAN_TTL`` seconds (a mark image kept in the
origin is re-read by then). A plan is never changed once made. Only successful plans are kept: a URL that
is an error is worked out again every time.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl

from gateway.cache import freshness
from gateway.cache.keys import Kind, cache_key
from gateway.capture import CAPTURE_PARAMETERS, parse_capture_options, validate_target
from gateway.errors import (
    CaptureDomainDisabled,
    DomainNotAllowed,
    GatewayError,
    NotFound,
    SourceNotAllowed,
    ValidationError,
)
from gateway.marks.resolve import MarkResolver, ResolvedMark
from gateway.policy import InvalidSourceURL, capture_enabled, parse_source_url, presets
from gateway.policy.signing import SIGNING_PARAMETERS
from gateway.sources.base import Original
from gateway.sources.capture import CaptureSource
from gateway.sources.external import ExternalFetcher
from gateway.tenancy import Tenant
from gateway.web.cors import Headers
from gateway.web.responses import ignored_headers
from transforms.errors import InvalidParameter
from transforms.imgix import canonical_name
from transforms.marks import MARK_PARAMETERS
from transforms.negotiate import choose_format
from transforms.options import Auto, Format, TransformOptions
from transforms.params import parse

PLAN_TTL = 10.0
PLAN_CACHE_SIZE = 8192
# Parameters the gateway reads itself; the transform parser must not call them unknown.
GATEWAY_PARAMETERS: frozenset[str] = frozenset({"src", "capture"}) | MARK_PARAMETERS | CAPTURE_PARAMETERS
# Signed URLs (checked in the gate step, before planning) and presets (expanded here): no transform options.
GATEWAY_PARAMETERS |= SIGNING_PARAMETERS | {presets.PRESET}

FetchOriginal = Callable[[], Awaitable[Original]]


@dataclass(frozen=True, slots=True)
class RequestPlan:
    tenant: Tenant
    kind: Kind
    source_key: str  # what purges match on: the origin key, or the normalised URL
    identity: str  # names the original for caches (see ``Source.identity``)
    fetch: FetchOriginal
    options: TransformOptions
    mark: ResolvedMark | None
    max_age: int  # 0 = deliver and keep nothing (captures with retention 0)
    passthrough: bool  # serve the original's bytes as they are (a capture's PDF)
    purged_after: float  # outputs rendered before this (wall clock) are stale
    vary: str  # "Accept" when the format is negotiated, else ""
    # The cache key of every format the request can be answered in (None: the source's own family).
    keys: Mapping[Format | None, str]
    expires: float  # monotonic
    # Raised by the render step instead of producing a new output (a capture domain switched off): what is
    # already rendered is still served, by the hit and from the result store.
    refuse_render: type[GatewayError] | None = None
    # imgix parameters left out in the workspace's lenient mode, as written (the X-Imgate-Ignored header).
    ignored: tuple[str, ...] = ()

    @property
    def namespace(self) -> str:
        return self.tenant.workspace.namespace

    def with_ignored(self, extra: Headers) -> Headers:
        """``extra`` plus ``X-Imgate-Ignored`` when lenient mode left parameters out of this URL."""
        return (*extra, *ignored_headers(self.ignored)) if self.ignored else extra

    @property
    def keep(self) -> bool:
        return self.max_age > 0

    def choose(self, accept: str | None) -> tuple[Format | None, str]:
        """The output format for this ``Accept`` header, and its cache key."""
        if not self.vary:
            chosen = self.options.fm
        else:
            # Negotiated: the answer depends on Accept alone, and browsers send a handful of distinct ones.
            try:
                chosen = _NEGOTIATED[accept]
            except KeyError:
                chosen = choose_format(self.options, accept)[0]
                if len(_NEGOTIATED) >= _NEGOTIATED_KEPT:
                    _NEGOTIATED.clear()
                _NEGOTIATED[accept] = chosen
        return chosen, self.keys[chosen]


# Accept header -> negotiated format (for plans with auto=format and no fm); bounded, cleared when full.
_NEGOTIATED: dict[str | None, Format | None] = {}
_NEGOTIATED_KEPT = 512


def split_query(raw: bytes) -> dict[str, str]:
    """The query's parameters, in order. A name given twice is refused, whoever reads it: two spellings of
    one URL must not mean different things to different readers, nor share a cache entry. imgix's aliases
    (``width``, ``f``, ``m``...) arrive under their published names, so every reader sees one spelling."""
    params: dict[str, str] = {}
    for written, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        name = canonical_name(written)
        if name in params:
            raise ValidationError(f"{_shown(name)}: given more than once")
        params[name] = value
    return params


def _shown(name: str) -> str:
    """A parameter name as it may appear in a message: short, printable."""
    return re.sub(r"[^ -~]", "?", name[:40]) or "(empty name)"


@dataclass(frozen=True, slots=True)
class _Source:
    kind: Kind
    source_key: str
    identity: str
    fetch: FetchOriginal
    host: str | None  # an external host, for auto-apply rules
    capture: bool = False
    passthrough: bool = False
    refuse_render: type[GatewayError] | None = None


class Planner:
    def __init__(self, marks: MarkResolver, external: ExternalFetcher, capture: CaptureSource) -> None:
        self._marks = marks
        self._external = external
        self._capture = capture
        self._plans: OrderedDict[tuple[str, str, bytes], RequestPlan] = OrderedDict()

    def cached(self, tenant: Tenant, key: str, query: bytes) -> RequestPlan | None:
        """The kept plan of this URL while it is valid, else None (for the hit fast path: never awaits)."""
        url = (tenant.workspace.namespace, key, query)
        plan = self._plans.get(url)
        if plan is None or plan.tenant is not tenant or plan.expires <= time.monotonic():
            return None
        self._plans.move_to_end(url)
        return plan

    async def plan(self, tenant: Tenant, key: str, query: bytes) -> RequestPlan:
        plan = self.cached(tenant, key, query)
        if plan is None:
            plan = await self._make(tenant, key, query)
            url = (tenant.workspace.namespace, key, query)
            self._plans[url] = plan
            self._plans.move_to_end(url)  # a stale plan replaced in place keeps its old position otherwise
            if len(self._plans) > PLAN_CACHE_SIZE:
                self._plans.popitem(last=False)
        return plan

    async def _make(self, tenant: Tenant, key: str, query: bytes) -> RequestPlan:
        params = split_query(query)
        src, capture = params.get("src"), params.get("capture")
        if src is not None and capture is not None:
            raise ValidationError("capture: cannot be combined with src")
        pdf = capture is not None and params.get("fm") == "pdf"
        # The workspace's default parameters and the named preset, merged in before anything reads them.
        params = presets.expand(tenant.workspace, params, defaults=not pdf)
        if capture is None:
            stray = next((name for name in params if name in CAPTURE_PARAMETERS), None)
            if stray is not None:
                raise ValidationError(f"{stray}: only with capture=")
        # Lenient imgix mode: what imgate does not implement is left out (and out of the key), and named.
        ignored: list[str] | None = [] if tenant.workspace.imgix_compat == "lenient" else None
        try:
            options = parse(
                ((n, v) for n, v in params.items() if not (pdf and n == "fm")),
                extra=GATEWAY_PARAMETERS,
                ignored=ignored,
            )
        except InvalidParameter as exc:
            raise ValidationError(exc.message) from None
        if pdf and options != TransformOptions():
            raise ValidationError("fm: a PDF capture takes no image parameters")
        options = presets.fit_width(tenant.workspace, options)
        if tenant.workspace.keep_copyright and not pdf:
            # A workspace setting, not a URL parameter: in the options, hence in the cache key of every output.
            options = replace(options, keep_copyright=True)
        if capture is not None:
            source = self._capture_source(tenant, capture, key, params, pdf)
        elif src is not None:
            source = self._external_source(tenant, src, key)
        else:
            source = _origin_source(tenant, key)
        info = options.fm is Format.JSON
        mark = None
        if not info:
            origin_key = source.source_key if source.kind is Kind.ORIGIN else None
            mark = await self._marks.resolve(tenant, params, origin_key, source.host)
            if mark is not None and pdf:
                raise ValidationError("fm: a PDF capture cannot carry a mark")
        # Capped by the plan as it is now: a retention chosen before a downgrade never outlives the new plan's.
        retention = tenant.retention_in_force
        negotiated = options.fm is None and Auto.FORMAT in options.auto
        return RequestPlan(
            tenant=tenant,
            kind=source.kind,
            source_key=source.source_key,
            identity=source.identity,
            fetch=source.fetch,
            options=options,
            mark=mark,
            max_age=freshness.max_age(info=info, capture=source.capture, retention=retention),
            passthrough=source.passthrough,
            purged_after=tenant.workspace.purged_after(source.source_key),
            vary="Accept" if negotiated else "",
            keys=_keys(tenant.workspace.namespace, source, options, mark, negotiated),
            expires=time.monotonic() + PLAN_TTL,
            refuse_render=source.refuse_render,
            ignored=tuple(ignored or ()),
        )

    def _external_source(self, tenant: Tenant, raw: str, key: str) -> _Source:
        if key:
            raise ValidationError("src: external sources are requested as /{namespace}/?src=URL")
        try:
            url = parse_source_url(raw)
        except InvalidSourceURL as exc:
            raise ValidationError(f"src: {exc}") from None
        if not tenant.policy.source_allowed(url):
            raise SourceNotAllowed()
        external, normalised = self._external, url.url
        return _Source(Kind.SRC, normalised, "src:" + normalised, lambda: external.fetch(normalised), url.host)

    def _capture_source(self, tenant: Tenant, raw: str, key: str, params: Mapping[str, str], pdf: bool) -> _Source:
        if key:
            raise ValidationError("capture: captures are requested as /{namespace}/?capture=URL")
        url = validate_target(raw)
        try:
            # The allowlist is about the host: the fragment (a single-page app's route) is the page's business.
            checked = parse_source_url(url.split("#", 1)[0])
        except InvalidSourceURL as exc:
            raise ValidationError(f"capture: {exc}") from None
        if not tenant.policy.capture_allowed(checked):
            raise DomainNotAllowed()
        capture = self._capture
        options = parse_capture_options(params.items(), capture.settings)
        workspace = tenant.workspace
        enabled = capture_enabled(workspace.allowed_capture_domains, workspace.disabled_capture_domains, checked)
        # The retention in force names the output too: one rendered under a longer retention (before a plan
        # downgrade) carries that longer max-age, and is never served as the output of the shorter one.
        identity = f"cap:{url}|{options.canonical()}|pdf={int(pdf)}|keep={tenant.retention_in_force}"
        # The plan decides the pool: a workspace with dedicated browsers never captures in the shared one.
        namespace, dedicated = workspace.namespace, tenant.limits.dedicated_browsers
        fetch = lambda: capture.fetch(url, options, pdf, namespace=namespace, dedicated_browsers=dedicated)  # noqa: E731
        refuse = None if enabled else CaptureDomainDisabled
        return _Source(
            Kind.CAPTURE, url, identity, fetch, checked.host, capture=True, passthrough=pdf, refuse_render=refuse
        )


def _origin_source(tenant: Tenant, key: str) -> _Source:
    source = tenant.source
    if source is None:
        raise NotFound("this workspace has no origin configured")
    if not key:
        raise NotFound("no image key in the path")
    return _Source(Kind.ORIGIN, key, source.identity(key), lambda: source.fetch(key), None)


def _keys(
    namespace: str, source: _Source, options: TransformOptions, mark: ResolvedMark | None, negotiated: bool
) -> dict[Format | None, str]:
    """The cache key of each format ``RequestPlan.choose`` can pick: several only when negotiated."""
    formats: tuple[Format | None, ...] = (Format.AVIF, Format.WEBP, None) if negotiated else (options.fm,)
    canonical, version = options.canonical(), mark.version if mark else ""
    return {
        chosen: cache_key(
            namespace,
            source.kind.value,
            source.source_key,
            source.identity,
            f"{canonical}|fm={chosen or 'source'}|mark={version}",
        )
        for chosen in formats
    }
