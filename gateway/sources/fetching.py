"""Fetch one URL through the SSRF guard: redirects by hand, byte cap, time limits, safe errors.

Shared by ``HttpSource`` (a workspace's HTTP origin) and the ``?src=`` external fetches. Every error
is a ``GatewayError`` whose message names no address: aiohttp's own messages do, so they are only
ever chained as ``__cause__`` (for the log), never shown.
"""

from __future__ import annotations

import asyncio

import aiohttp
from yarl import URL

from gateway.errors import (
    BlockedAddress,
    GatewayError,
    NotFound,
    OriginError,
    SourceTooLarge,
    Timeout,
    ValidationError,
)
from gateway.netguard import NO_PUBLIC_ADDRESS, NetGuard, guarded_connector
from gateway.sources.base import FetchLimits, Original

MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_GONE_STATUSES = frozenset({404, 410})
_ALLOWED_SCHEMES = frozenset({"http", "https"})
_CHUNK_BYTES = 64 * 1024
_USER_AGENT = "imgate"


def new_session(guard: NetGuard) -> aiohttp.ClientSession:
    """A session whose every connection passes ``guard``. Must be called inside a running loop.

    No cookie jar (an origin must not be able to plant state that later requests, or other
    workspaces, would send back) and no proxy settings from the environment (a proxy would
    connect on our behalf to addresses the guard never saw).
    """
    return aiohttp.ClientSession(
        connector=guarded_connector(guard),
        cookie_jar=aiohttp.DummyCookieJar(),
        trust_env=False,
        headers={"User-Agent": _USER_AGENT},
    )


async def fetch_url(
    session: aiohttp.ClientSession,
    url: str,
    limits: FetchLimits,
    guard: NetGuard,
) -> Original:
    """GET ``url`` (absolute http/https, no credentials) and return its body.

    Raises ``ValidationError`` for an unusable ``url``, ``BlockedAddress`` when ``url`` or any redirect
    hop reaches a non-public address or a name that does not resolve (one answer for both, so that no
    caller can map internal DNS names), ``NotFound`` for 404/410, ``SourceTooLarge`` over
    ``limits.max_bytes``, ``Timeout`` past ``limits.total_timeout`` (whole redirect chain and body
    included) or ``limits.connect_timeout`` (per connection), ``OriginError`` for anything else.
    """
    target = _parse(url)
    if target is None:
        raise ValidationError("the source URL must be an absolute http(s) URL without credentials")
    try:
        async with asyncio.timeout(limits.total_timeout):
            return await _follow(session, target, limits, guard)
    except TimeoutError as exc:  # asyncio's deadline and aiohttp's connect timeouts alike
        raise Timeout("the origin did not answer in time") from exc


async def _follow(session: aiohttp.ClientSession, url: URL, limits: FetchLimits, guard: NetGuard) -> Original:
    for hop in range(MAX_REDIRECTS + 1):
        # Checked before connecting for a clear error; the connector checks the socket address again.
        guard.check_host(url.raw_host or "")
        next_url = await _get(session, url, limits)
        if isinstance(next_url, Original):
            return next_url
        if hop == MAX_REDIRECTS:
            break
        url = next_url
    raise OriginError("the origin redirected too many times")


async def _get(session: aiohttp.ClientSession, url: URL, limits: FetchLimits) -> Original | URL:
    """One request: the body, or where the origin redirects to."""
    connect = limits.connect_timeout
    timeout = aiohttp.ClientTimeout(total=None, connect=connect, sock_connect=connect)
    try:
        async with session.get(url, allow_redirects=False, timeout=timeout) as response:
            if response.status in _REDIRECT_STATUSES:
                return _redirect_target(url, response)
            if response.status in _GONE_STATUSES:
                raise NotFound("the origin has no such source")
            if not 200 <= response.status < 300:
                raise OriginError(f"the origin answered with status {response.status}")
            return await _read_body(response, limits.max_bytes)
    except (GatewayError, TimeoutError):
        raise
    except aiohttp.ClientConnectorDNSError as exc:
        # The guard's resolver already answers this way; kept for a failure aiohttp reports by itself.
        raise BlockedAddress(NO_PUBLIC_ADDRESS) from exc
    except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError) as exc:
        raise OriginError("the TLS handshake with the origin failed") from exc
    except aiohttp.ClientConnectorError as exc:
        raise OriginError("could not connect to the origin") from exc
    except aiohttp.InvalidURL as exc:
        raise OriginError("the origin URL is not valid") from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise OriginError("the origin failed to deliver the source") from exc


def _redirect_target(current: URL, response: aiohttp.ClientResponse) -> URL:
    location = response.headers.get("Location", "")
    target = _parse(location, base=current) if location else None
    if target is None:
        raise OriginError("the origin redirected to an unusable URL")
    return target


async def _read_body(response: aiohttp.ClientResponse, max_bytes: int) -> Original:
    # Content-Length lets us refuse before reading; the count while streaming covers chunked bodies,
    # lying headers and decompressed sizes (aiohttp inflates gzip transparently).
    if response.content_length is not None and response.content_length > max_bytes:
        raise SourceTooLarge()
    body = bytearray()
    async for chunk in response.content.iter_chunked(_CHUNK_BYTES):
        body += chunk
        if len(body) > max_bytes:
            raise SourceTooLarge()
    return Original(bytes(body), _media_type(response.headers.get("Content-Type")))


def _media_type(header: str | None) -> str | None:
    if not header:
        return None
    media_type = header.split(";", 1)[0].strip().lower()
    return media_type or None


def _parse(text: str, base: URL | None = None) -> URL | None:
    """An absolute http(s) URL with a host and no userinfo, or None."""
    try:
        url = URL(text)
        if base is not None:
            url = base.join(url)
    except ValueError:
        return None
    if url.scheme not in _ALLOWED_SCHEMES or not url.raw_host:
        return None
    if url.raw_user is not None or url.raw_password is not None:
        return None
    return url.with_fragment(None)
