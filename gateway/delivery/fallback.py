"""A workspace's fallback image: an image instead of a JSON error, for the errors an ``<img>`` would show broken.

Opt-in per workspace (``fallback_image``, a key on the workspace's own origin). When a render fails for a
reason of the source or of the transform (``FALLBACK_CODES``: the key is missing at the origin, the origin
failed or timed out, the source is too large, corrupt or not an image, the transform ran out of time), the
answer is that key rendered with the request's own parameters (so a ``w=400`` slot gets a 400 px
placeholder), or, if those cannot render it, with none. The answer keeps the error's status, carries
``X-Imgate-Error: CODE`` and ``Cache-Control: no-store``: a CDN or browser must never keep the placeholder as
the image, which would hide the original once it appears.

Refusals that are decisions keep the JSON error: a refused Origin, a bad signature, a blocked address, rate
limits and quotas, validation errors, an overloaded queue (a fallback render would queue behind the very
work that was refused). Nothing here is reached before planning succeeded, so the gate's refusals never get
here at all.

The placeholder is rendered, and cached, as the fallback key's own output under its own cache key (what
``/{namespace}/{fallback_image}?{parameters}`` answers): a burst of missing keys costs one transform per
parameter set, not one per request. The failed URL's key is never filled.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, quote, urlencode

from gateway.cache.keys import Kind
from gateway.cache.memory import MemoryEntry
from gateway.delivery.plans import Planner, RequestPlan
from gateway.delivery.render import Renderer
from gateway.errors import (
    GatewayError,
    Internal,
    NotFound,
    OriginError,
    RenderTimeout,
    SourceTooLarge,
    Timeout,
    UnsupportedMedia,
)
from gateway.web.cors import CORS, Headers
from gateway.web.request import ImageRequest
from gateway.web.responses import Answer

log = logging.getLogger("imgate.fallback")

# Errors of the source or of the transform; every other code keeps its JSON answer.
FALLBACK_CODES = frozenset(
    error.code for error in (NotFound, SourceTooLarge, UnsupportedMedia, OriginError, RenderTimeout, Timeout, Internal)
)
# A transform that ran out of time would most likely do so again with the same parameters: straight to none.
_NO_RETRY_WITH_PARAMETERS = frozenset({RenderTimeout.code})
# Sources a fallback stands in for: images from the origin or a ?src= URL (a capture is a page, not an image).
_IMAGE_KINDS = frozenset({Kind.ORIGIN, Kind.SRC})
ERROR_HEADER = b"x-imgate-error"
_NO_STORE = (b"cache-control", b"no-store")


class Fallbacks:
    def __init__(self, planner: Planner, renderer: Renderer) -> None:
        self._planner = planner
        self._renderer = renderer

    async def answer(
        self, plan: RequestPlan, request: ImageRequest, error: GatewayError, cors: CORS, extra: Headers
    ) -> Answer | None:
        """The fallback answer to ``error`` on ``plan``, or None: the JSON error stands (no fallback set, an error
        that is a decision, or the fallback image itself cannot be rendered)."""
        key = plan.tenant.workspace.fallback_image
        if not key or error.code not in FALLBACK_CODES or plan.kind not in _IMAGE_KINDS or plan.passthrough:
            return None
        if plan.kind is Kind.ORIGIN and plan.source_key == key:
            return None  # the fallback image is what failed
        entry = None
        if error.code not in _NO_RETRY_WITH_PARAMETERS:
            entry = await self._rendered(plan, key, _without_source(request.query), request.accept)
        if entry is None:
            entry = await self._rendered(plan, key, b"", request.accept)
        if entry is None:
            return None
        vary = ", ".join(part for part in (entry.vary, cors.vary) if part)
        headers = [
            (b"content-type", entry.content_type.encode("latin-1")),
            (b"content-length", str(len(entry.data)).encode()),
            _NO_STORE,
            (ERROR_HEADER, error.code.encode()),
            *((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in error.headers.items()),
            *(((b"vary", vary.encode("latin-1")),) if vary else ()),
            *cors.headers,
            *extra,
        ]
        return Answer(error.status, headers, entry.data, None, error.code)

    async def _rendered(self, failed: RequestPlan, key: str, query: bytes, accept: str | None) -> MemoryEntry | None:
        try:
            plan = await self._planner.plan(failed.tenant, key, query)
            chosen, cache_key = plan.choose(accept)
            entry = self._renderer.memory_hit(cache_key, plan.purged_after)
            if entry is None:
                entry = (await self._renderer.render(plan, chosen, cache_key)).entry
        except GatewayError as exc:
            # The operator's to fix (a missing or broken fallback image); the caller gets the original error.
            log.warning("fallback image of %s not rendered: %s", failed.namespace, exc.code)
            return None
        return entry


def _without_source(query: bytes) -> bytes:
    """The query minus ``src``: the fallback comes from the workspace's origin, with the same parameters."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    if not any(name == "src" for name, _ in pairs):
        return query
    kept = [(name, value) for name, value in pairs if name != "src"]
    return urlencode(kept, quote_via=quote, encoding="latin-1").encode("latin-1")
