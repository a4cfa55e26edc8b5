"""The request path, top to bottom: resolve -> gate -> plan -> hit or render -> respond -> record.

    1. resolve  namespace -> tenant (``gateway.tenancy``: checked against the namespace pattern first, one
                bounded cache), or on a custom domain host -> namespace -> tenant (the same caches); none: 404,
                readable by any page (``gateway.web.cors``)
    2. gate     CORS (``gateway.web.cors.decide``): a refused Origin is answered 403 before any work; a key
                holding a control character (a decoded CR, LF or NUL) is a 400; a preflight is answered here;
                a method other than GET and HEAD is a 405; a workspace that requires signed URLs checks ``s``
                (``gateway.policy.signing``: 403 BAD_SIGNATURE, SIGNATURE_EXPIRED). Then ``RequestHooks.admit``
                (rate limits plug in).
    3. plan     the URL's ``RequestPlan`` (``gateway.delivery.plans``): kept per URL, never changed
    4. hit      the memory tier, by the plan's cache key for the negotiated format
       render   or, on a miss, the render step (``gateway.delivery.render``): result store, original,
                transform, once per key at a time; when that fails for a reason of the source or the transform,
                the workspace's fallback image, if it has one (``gateway.delivery.fallback``)
    5. respond  every header in one place (``gateway.web.responses``): representation, cache-control, ETag
                and 304, Vary, CORS, the hooks' headers, X-Imgate-Cache; errors as JSON with the same CORS
    6. record   after the response was sent, the adapter calls ``finished``: ``RequestHooks.record`` (the
                usage counter and the audit line plug in there)

``serve`` is the full path. ``hit`` is the same steps for a request that is a hit from memory alone, without
awaiting anything: the hit fast path (``gateway.routes.fasthits``) calls it in front of the framework and hands
anything else to the full path (``gateway.routes.images``). Both write the response with the same functions,
so a hit is answered the same way, byte for byte, whichever front answers it.
"""

from __future__ import annotations

import logging
import re
import time

from gateway.delivery.fallback import Fallbacks
from gateway.delivery.hooks import Outcome, RequestHooks
from gateway.delivery.plans import Planner
from gateway.delivery.render import Renderer
from gateway.errors import (
    BadSignature,
    GatewayError,
    Internal,
    MethodNotAllowed,
    NotFound,
    OriginNotAllowed,
    ValidationError,
)
from gateway.policy.signing import SignatureGate
from gateway.tenancy import Tenancy, Tenant
from gateway.web import cors
from gateway.web.request import ImageRequest
from gateway.web.responses import Answer, error_answer, image_answer, preflight_answer

log = logging.getLogger("imgate")

# No storage key holds these, and a CR or LF must never reach an origin request line or a log line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_IN_PATH = "the path holds a control character"


# A customer domain's HSTS, when its workspace turned it on (``custom_domain_hsts``), over HTTPS only (RFC 6797:
# never on plain HTTP). Two years, like the gateway's own host; no preload: that list is the customer's to join.
_HSTS: cors.Headers = ((b"strict-transport-security", b"max-age=63072000"),)


def _domain_headers(tenant: Tenant, request: ImageRequest) -> cors.Headers:
    return _HSTS if request.https and tenant.workspace.custom_domain_hsts else ()


class RequestPath:
    def __init__(
        self,
        tenancy: Tenancy,
        planner: Planner,
        renderer: Renderer,
        hooks: RequestHooks,
        signatures: SignatureGate | None = None,
    ) -> None:
        self._tenancy = tenancy
        self._planner = planner
        self._renderer = renderer
        self._hooks = hooks
        self._signatures = signatures
        self._fallbacks = Fallbacks(planner, renderer)

    async def serve(self, request: ImageRequest) -> Answer:
        """Any request to a workspace path, answered (errors included: this never raises a GatewayError)."""
        answered_with = cors.NO_WORKSPACE
        extra: cors.Headers = ()
        kind = None
        try:
            # 1. resolve
            if request.domain is None:
                tenant = await self._tenancy.get(request.namespace)
            else:
                tenant = await self._tenancy.for_host(request.domain)
                if tenant is not None:
                    request.namespace = tenant.workspace.namespace
            if tenant is None:
                raise NotFound("unknown workspace")
            # 2. gate
            answered_with = cors.decide(tenant.policy, request.origin)
            if not answered_with.allowed:
                raise OriginNotAllowed()
            if request.key is not None and _CONTROL.search(request.key):
                raise ValidationError(CONTROL_IN_PATH)
            if request.preflight:
                return self._preflight(tenant, request)
            if request.method not in cors.ALLOWED_METHODS:
                raise MethodNotAllowed(headers={"Allow": ", ".join((*cors.ALLOWED_METHODS, "OPTIONS"))})
            self._check_signature(tenant, request)
            extra = self._hooks.admit(tenant)
            if request.domain is not None:
                extra = (*extra, *_domain_headers(tenant, request))
            if request.key is None:
                raise NotFound("no image key in the path")
            # 3. plan
            plan = await self._planner.plan(tenant, request.key, request.query)
            kind = plan.kind
            # 4. hit or render
            chosen, key = plan.choose(request.accept)
            entry, tier = self._renderer.memory_hit(key, plan.purged_after), "memory"
            if entry is None:
                try:
                    rendered = await self._renderer.render(plan, chosen, key)
                except GatewayError as exc:
                    # The workspace's fallback image instead of the JSON error, for the source's and transform's
                    # errors only (``gateway.delivery.fallback``); None: the error stands.
                    fallback = await self._fallbacks.answer(plan, request, exc, answered_with, extra)
                    if fallback is None:
                        raise
                    fallback.kind = kind
                    return fallback
                entry, tier = rendered.entry, rendered.tier
            # 5. respond
            answer = image_answer(entry, tier, answered_with, plan.with_ignored(extra), request.if_none_match)
        except GatewayError as exc:
            answer = error_answer(exc, answered_with, extra)
        except Exception:
            log.exception("unhandled error on the request path")
            answer = error_answer(Internal(), answered_with, extra)
        answer.kind = kind
        return answer

    def hit(self, request: ImageRequest) -> Answer | None:
        """Steps 1-5 for a hit found in memory without awaiting anything; None: anything else (not yet
        resolved or planned, a miss, a refusal, a preflight), which the full path answers."""
        try:
            return self._hit(request)
        except Exception:
            # The full path answers it, with the JSON error shape if it fails there too.
            log.exception("unhandled error on the hit fast path")
            return None

    def _hit(self, request: ImageRequest) -> Answer | None:
        if request.key is None:
            return None
        if request.domain is None:
            tenant = self._tenancy.peek(request.namespace)
        else:
            tenant = self._tenancy.peek_host(request.domain)
            if tenant is not None:
                request.namespace = tenant.workspace.namespace
        if tenant is None:
            return None
        answered_with = cors.decide(tenant.policy, request.origin)
        if not answered_with.allowed:
            return None
        if tenant.workspace.signing == "required":
            # The same check as the full path's gate: a hit is never served to a URL that is not signed.
            try:
                self._check_signature(tenant, request)
            except GatewayError:
                return None
        plan = self._planner.cached(tenant, request.key, request.query)
        if plan is None:
            return None
        _, key = plan.choose(request.accept)
        entry = self._renderer.memory_hit(key, plan.purged_after)
        if entry is None:
            return None
        try:
            extra = self._hooks.admit(tenant)
        except GatewayError as exc:
            answer = error_answer(exc, answered_with)
        else:
            if request.domain is not None:
                extra = (*extra, *_domain_headers(tenant, request))
            answer = image_answer(entry, "memory", answered_with, plan.with_ignored(extra), request.if_none_match)
        answer.kind = plan.kind
        return answer

    def _check_signature(self, tenant: Tenant, request: ImageRequest) -> None:
        if tenant.workspace.signing != "required":
            return
        if self._signatures is None:
            raise BadSignature()  # fail closed: without the gate nothing can be verified
        self._signatures.check(tenant.workspace, request.raw_path, request.query)

    def finished(self, request: ImageRequest, answer: Answer) -> None:
        """6. record: called by the adapter once the answer was sent."""
        bytes_out = 0 if request.head else len(answer.body)
        seconds = time.perf_counter() - request.started
        outcome = Outcome(
            request.namespace,
            answer.status,
            answer.tier,
            answer.code,
            answer.kind,
            bytes_out,
            seconds,
            answer.content_type,
        )
        try:
            self._hooks.record(outcome)
        except Exception:
            log.exception("the record hook failed")

    def _preflight(self, tenant: Tenant, request: ImageRequest) -> Answer:
        answered_with = cors.for_preflight(tenant.policy, request.origin or "")
        requested = cors.requested_headers(request.requested_headers)
        if request.requested_method not in cors.ALLOWED_METHODS:
            return error_answer(ValidationError(cors.METHOD_REFUSED), answered_with)
        if requested is None:
            return error_answer(ValidationError(cors.HEADERS_REFUSED), answered_with)
        return preflight_answer(answered_with, requested)
