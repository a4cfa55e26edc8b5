"""``HttpSource``: originals under an HTTP(S) URL prefix, fetched through the SSRF guard.

``HttpSource("https://cdn.example.com/images", ...)`` serves key ``products/shoe.jpg`` from
``https://cdn.example.com/images/products/shoe.jpg``. The prefix is a folder: a missing trailing
slash is added. Each key segment is percent-encoded on its own, so ``?``, ``#``, ``%`` and ``\\`` in a
key stay part of the path, and ``.``/``..`` segments are refused: a key can never leave the prefix.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import aiohttp
from yarl import URL

from gateway.errors import NotFound
from gateway.netguard import NetGuard
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
    """``base_url`` in canonical encoded form, ending with ``/``.

    Refuses (``ValueError``) other schemes, a missing host, credentials (they would end up in cache
    identities and logs; private buckets belong to the S3 source) and a query or fragment (keys are
    appended to the path, so they would land in the query).
    """
    try:
        url = URL(base_url)
    except ValueError as exc:
        raise ValueError("the origin must be an http(s) URL") from exc
    if url.scheme not in ("http", "https") or not url.raw_host:
        raise ValueError("the origin must be an absolute http(s) URL")
    if url.raw_user is not None or url.raw_password is not None:
        raise ValueError("the origin URL must not hold credentials")
    if url.raw_query_string or url.raw_fragment or base_url.rstrip().endswith(("?", "#")):
        raise ValueError("the origin URL must not have a query or fragment")
    prefix = str(url)
    return prefix if prefix.endswith("/") else prefix + "/"


def _encode_key(key: str) -> str:
    segments = key.split("/")
    if not key or any(segment in (".", "..") for segment in segments):
        raise NotFound("no such source")
    return "/".join(quote(segment, safe="") for segment in segments)
