"""``HttpSource``: originals under an HTTP(S) URL prefix, fetched through the SSRF guard.

``HttpSource("https://cdn.example.com/images", ...)`` serves key ``products/shoe.jpg`` from
``https://cdn.example.com/images/products/shoe.jpg``. The prefix is a folder: a missing trailing
slash is added. Each key segment is percent-encoded on its own, so ``?``, ``#`` and ``%`` in a key stay
part of the path. A key that could leave the prefix on some server is refused as ``NotFound`` before any
request, as the local folder does: ``.``/``..`` segments, also with a ``;`` parameter (``..;``), a
backslash (``..\\``), an encoded separator or dot that a server decoding twice would act on (``%2e%2e``,
``%2f``), NUL, and percent-escapes that are not UTF-8 (``%c0%ae``); see ``gateway.policy.urls``.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import aiohttp

from gateway.errors import NotFound
from gateway.netguard import NetGuard
from gateway.policy.urls import InvalidSourceURL, is_unsafe_segment, parse_source_url
from gateway.sources.base import FetchLimits, Original
from gateway.sources.fetching import fetch_url, new_session

SessionFactory = Callable[[NetGuard], aiohttp.ClientSession]


class HttpSource:
    def __init__(
        self,
        base_url: str,
        limits: FetchLimits,
        guard: NetGuard,
        *,
        session_factory: SessionFactory = new_session,
    ) -> None:
        """Raises ``ValueError`` when ``base_url`` is not an http(s) URL prefix (see ``normalise_prefix``)."""
        self._prefix = normalise_prefix(base_url)
        self._limits = limits
        self._guard = guard
        self._session_factory = session_factory
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    @property
    def prefix(self) -> str:
        return self._prefix

    def url_for(self, key: str) -> str:
        """The origin URL of ``key``; ``NotFound`` for a key that could leave the prefix."""
        return self._prefix + _encode_key(key)

    def identity(self, key: str) -> str:
        # The prefix holds no credentials (refused at construction), so the URL is safe to hash and log.
        return "http:" + self.url_for(key)

    async def fetch(self, key: str) -> Original:
        return await fetch_url(self._client(), self.url_for(key), self._limits, self._guard)

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        # Created on first use because a session binds to the running loop, which does not exist
        # yet when sources are built from settings.
        if self._closed:
            raise RuntimeError("this HttpSource is closed")
        if self._session is None:
            self._session = self._session_factory(self._guard)
        return self._session


def normalise_prefix(base_url: str) -> str:
    """``base_url`` in the one normal form of ``gateway.policy.urls``, ending with ``/``.

    Refuses (``ValueError``) whatever that parser refuses (other schemes, credentials, which would end up in
    cache identities and logs, fragments, odd hosts, dot segments) and a query: keys are appended to the
    path, so they would land in the query.
    """
    try:
        url = parse_source_url(base_url)
    except InvalidSourceURL as exc:
        raise ValueError(f"the origin URL is not usable: {exc}") from None
    if url.query or "?" in base_url:
        raise ValueError("the origin URL must not have a query (keys are appended to its path)")
    prefix = url.url
    return prefix if prefix.endswith("/") else prefix + "/"


def _encode_key(key: str) -> str:
    segments = key.split("/")
    if not key or any(is_unsafe_segment(segment) for segment in segments):
        raise NotFound("no such source")
    return "/".join(quote(segment, safe="") for segment in segments)
