"""Per-workspace CORS: the gate step's decisions, as pre-encoded headers the response writer adds.

Starlette's ``CORSMiddleware`` fixes one policy at construction. Here the request path asks, per request,
with the workspace's compiled ``WorkspacePolicy`` (held by the tenancy cache, so a settings change shows within
its TTL, without a restart). The namespace is parsed and the tenant resolved once, by the request path; this
module only decides. ``gateway.web.responses`` writes what it decides into every response, errors included.

What a workspace response carries, and why:

- The list allows every origin (``*``): ``Access-Control-Allow-Origin: *`` on every response, with or
  without an ``Origin`` header, and no ``Vary: Origin``. The answer is then the same for every caller, so a
  CDN keeps a single copy for ``<img>``, ``fetch()`` and every site instead of one per origin.
  Credentials are never allowed (image URLs carry none), which is what makes ``*`` valid.
- Any other list: ``Vary: Origin`` on every response, requests without ``Origin`` included. The headers
  now depend on the caller, and without ``Vary`` a CDN could cache a no-``Origin`` answer (no
  ``Access-Control-Allow-Origin``) and replay it to a browser, or one site's answer to another. An
  allowed origin is echoed exactly as sent. The bytes are the same for every origin; only headers differ.
- A request with no ``Origin`` (a server, a plain ``<img>`` without ``crossorigin``) always passes.
- A disallowed ``Origin`` is refused before any other work: 403 ``ORIGIN_NOT_ALLOWED``,
  ``Cache-Control: no-store``, ``Vary: Origin``, and no ``Access-Control-Allow-Origin``: reflecting an origin
  the owner refused would only look like a hole to every scanner, and the status is visible in DevTools.
  Two ``Origin`` headers are joined into one value that is no origin, so they are refused, never guessed at.
- Every response of the workspace, errors included, gets the same headers, so a page can read an error.
  ``Timing-Allow-Origin`` is written with ``Access-Control-Allow-Origin``, with the same value, and never
  without it.
- Preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``): 204 with
  ``Access-Control-Allow-Methods: GET, HEAD``, the requested headers echoed when each is a plain token
  (at most 20, 64 characters each), ``Access-Control-Max-Age: 86400``, and ``Vary`` on the request headers
  the answer reads. Any other method, or unreasonable headers, is 400 ``VALIDATION_ERROR``: the request is
  malformed for this API rather than unauthorised.
- No workspace at all (an unknown or inactive namespace, or one that is not a namespace): the 404 carries
  ``Access-Control-Allow-Origin: *``. There is no policy to protect, the answer is the same for every caller
  (so no ``Vary``), and without it a page's ``fetch()`` could not read why its URL failed. It reveals
  nothing: the same 404 is readable by ``curl`` anyway. A preflight for such a path is answered 404 alike.
- The gateway's own paths (``/_/…``) are not workspace paths and carry no CORS headers.
"""

from __future__ import annotations

import re

from gateway.policy import WorkspacePolicy

ALLOWED_METHODS = ("GET", "HEAD")
# Safelisted response headers (Content-Type, Cache-Control, ...) need no listing; these are the others a
# page's script may want: validators for its own caching, when to retry, and the workspace's rate limits.
EXPOSED_HEADERS = "Content-Length, ETag, Retry-After, RateLimit, RateLimit-Policy, X-Imgate-Ignored, X-Imgate-Error"
PREFLIGHT_MAX_AGE = "86400"
MAX_REQUESTED_HEADERS = 20
_HEADER_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")
_PREFLIGHT_VARY = "Access-Control-Request-Method, Access-Control-Request-Headers"
METHOD_REFUSED = "CORS preflight: only GET and HEAD are allowed"
HEADERS_REFUSED = f"CORS preflight: at most {MAX_REQUESTED_HEADERS} request headers, each a plain name"

Headers = tuple[tuple[bytes, bytes], ...]


class CORS:
    """The CORS part of one response: headers to add, and the request headers the answer varies on.

    Built once per policy decision and shared (the common cases are module constants), so a hit allocates
    nothing here.
    """

    __slots__ = ("allowed", "headers", "vary", "vary_headers")

    def __init__(self, headers: Headers, vary: str = "", allowed: bool = True) -> None:
        self.allowed = allowed  # False: the request's Origin is refused
        self.headers = headers
        self.vary = vary
        self.vary_headers: Headers = ((b"vary", vary.encode("latin-1")),) if vary else ()


def _allow(origin: str) -> Headers:
    # Timing-Allow-Origin follows the same decision: a page allowed to read the image may also see its
    # Resource Timing sizes (transferSize, decodedBodySize), which browsers zero for cross-origin entries.
    return (
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"access-control-expose-headers", EXPOSED_HEADERS.encode()),
        (b"timing-allow-origin", origin.encode("latin-1")),
    )


ANY_ORIGIN = CORS(_allow("*"))
NO_WORKSPACE = ANY_ORIGIN  # see the module docstring
NO_ORIGIN_SENT = CORS((), "Origin")
REFUSED = CORS((), "Origin", allowed=False)
NO_CORS = CORS(())  # the gateway's own paths


def decide(policy: WorkspacePolicy, origin: str | None) -> CORS:
    """The headers for a simple (non-preflight) request; ``REFUSED`` when its Origin is not allowed."""
    if policy.any_origin:
        return ANY_ORIGIN
    if origin is None:
        return NO_ORIGIN_SENT
    if not policy.origin_allowed(origin):
        return REFUSED
    return CORS(_allow(origin), "Origin")


def for_preflight(policy: WorkspacePolicy, origin: str) -> CORS:
    """The CORS part of a preflight's answer (the caller has checked that ``origin`` is allowed)."""
    if policy.any_origin:
        return CORS(((b"access-control-allow-origin", b"*"),), _PREFLIGHT_VARY)
    return CORS(((b"access-control-allow-origin", origin.encode("latin-1")),), f"Origin, {_PREFLIGHT_VARY}")


def requested_headers(value: str | None) -> list[str] | None:
    """The header names a preflight asks for, lower-cased; None when the request is unreasonable."""
    if value is None:
        return []
    names = list(dict.fromkeys(name.strip().lower() for name in value.split(",") if name.strip()))
    if len(names) > MAX_REQUESTED_HEADERS or not all(_HEADER_TOKEN.fullmatch(name) for name in names):
        return None
    return names
