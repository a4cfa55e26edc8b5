"""The S3 result store: rendered outputs in a bucket of the operator's, shared by every node.

Works with AWS S3, Cloudflare R2 and S3-compatible stores, configured like a bucket origin
(``S3OriginSettings``). An entry is the object ``<prefix><key>``: the bytes as the body, the
content type as ``Content-Type``, render time, expiry and ``Vary`` in user metadata. Keys start with the
namespace, so ``purge("acme/")`` is one prefix listing.

The store is an optimisation, never a dependency: ``get`` gives up after ``read_timeout`` and
answers a miss, ``put`` never raises. After a failure the store is skipped for ``retry_after``
seconds (no request pays a timeout against a store known to be down), then tried again, so it
recovers by itself. ``healthy()`` is a ``HeadBucket`` cached for ``health_ttl`` seconds.

Expired objects read as misses; give the bucket a lifecycle rule on the prefix (e.g. expire after
the longest retention) so that the bucket does not grow for ever.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiohttp.abc import AbstractResolver
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from gateway.cache.results import CachedResult, check_key, check_prefix
from gateway.errors import Internal
from gateway.settings import Settings
from gateway.sources.s3 import MISSING_KEY_CODES, LazyS3Client, S3OriginSettings, error_code

log = logging.getLogger(__name__)

_MAX_DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys


class S3ResultStore:
    kind = "s3"

    def __init__(
        self,
        settings: S3OriginSettings,
        *,
        read_timeout: float = 0.4,
        write_timeout: float = 10.0,
        health_ttl: float = 2.0,
        retry_after: float = 2.0,
        purge_page_size: int = _MAX_DELETE_BATCH,
        resolver: AbstractResolver | None = None,
    ) -> None:
        if not 1 <= purge_page_size <= _MAX_DELETE_BATCH:
            raise ValueError(f"purge_page_size must be between 1 and {_MAX_DELETE_BATCH}")
        self._settings = settings
        self._purge_page_size = purge_page_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._health_ttl = health_ttl
        self._retry_after = retry_after
        # One attempt: a retry would only stretch the time a request waits before transforming itself.
        # Reads are cut at read_timeout by asyncio.timeout; the client's own limits are the writes'.
        self._client = LazyS3Client(
            settings,
            connect_timeout=write_timeout,
            read_timeout=write_timeout,
            attempts=1,
            max_connections=32,
            resolver=resolver,
        )
        self._failed_at: float | None = None
        self._health: tuple[float, bool] | None = None

    @property
    def location(self) -> S3OriginSettings:
        return self._settings

    @classmethod
    def from_settings(cls, settings: Settings) -> S3ResultStore:
        """The operator's ``result_s3_*`` settings; no SSRF guard, the operator chose this endpoint."""
        location = S3OriginSettings(
            bucket=settings.result_s3_bucket,
            prefix=settings.result_s3_prefix,
            region=settings.result_s3_region,
            endpoint_url=settings.result_s3_endpoint or None,
            access_key_id=settings.result_s3_access_key_id or None,
            secret_access_key=settings.result_s3_secret_access_key or None,
        )
        return cls(location, read_timeout=settings.result_s3_timeout)

    async def get(self, key: str) -> CachedResult | None:
        object_key = self._settings.prefix + check_key(key)
        if not self._available():
            return None
        try:
            # Opening the client does no network IO; left outside the timeout so it is never cut halfway.
            client = await self._client.get()
            async with asyncio.timeout(self._read_timeout):
                response = await client.get_object(Bucket=self._settings.bucket, Key=object_key)
                async with response["Body"]:
                    data = await response["Body"].read()
        except ClientError as exc:
            if error_code(exc) in MISSING_KEY_CODES:
                self._succeeded()
                return None
            self._failed("read", exc)
            return None
        except Exception as exc:  # whatever breaks, a miss is the answer
            self._failed("read", exc)
            return None
        self._succeeded()
        return _decode(response, data)

    async def put(self, key: str, result: CachedResult) -> None:
        object_key = self._settings.prefix + check_key(key)
        if result.expires_at <= time.time() or not self._available():
            return
        try:
            client = await self._client.get()
            async with asyncio.timeout(self._write_timeout):
                await client.put_object(
                    Bucket=self._settings.bucket,
                    Key=object_key,
                    Body=result.data,
                    ContentType=result.content_type,
                    Metadata={
                        "created-at": repr(result.created_at),
                        "expires-at": repr(result.expires_at),
                        "vary": result.vary,
                    },
                )
        except Exception as exc:  # a failed write costs a future transform, nothing more
            self._failed("write", exc)
            return
        self._succeeded()

    async def purge(self, prefix: str) -> int:
        """Delete every object under ``prefix``; raises ``Internal`` if the store cannot be purged."""
        listing_prefix = self._settings.prefix + check_prefix(prefix)
        removed = 0
        try:
            client = await self._client.get()
            pages = client.get_paginator("list_objects_v2").paginate(
                Bucket=self._settings.bucket,
                Prefix=listing_prefix,
                PaginationConfig={"PageSize": self._purge_page_size},
            )
            # One DeleteObjects per listed page: a page is never longer than DeleteObjects accepts.
            async for page in pages:
                keys = [item["Key"] for item in page.get("Contents", [])]
                if not keys:
                    continue
                answer = await client.delete_objects(
                    Bucket=self._settings.bucket,
                    Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
                )
                removed += len(keys) - len(answer.get("Errors", []))
        except (BotoCoreError, ClientError, OSError) as exc:
            self._failed("purge", exc)
            raise Internal(f"the result store {self._settings.where()} could not be purged") from None
        return removed

    async def healthy(self) -> bool:
        now = time.monotonic()
        if self._health is not None and now - self._health[0] < self._health_ttl:
            return self._health[1]
        try:
            client = await self._client.get()
            async with asyncio.timeout(max(self._read_timeout, 1.0)):
                await client.head_bucket(Bucket=self._settings.bucket)
        except (TimeoutError, BotoCoreError, ClientError, OSError) as exc:
            self._failed("health check", exc)
            ok = False
        else:
            self._succeeded()
            ok = True
        self._health = (time.monotonic(), ok)
        return ok

    async def aclose(self) -> None:
        await self._client.aclose()

    def _available(self) -> bool:
        return self._failed_at is None or time.monotonic() - self._failed_at >= self._retry_after

    def _succeeded(self) -> None:
        if self._failed_at is not None:
            log.info("S3 result store on %s is back", self._settings.where())
        self._failed_at = None

    def _failed(self, action: str, exc: BaseException) -> None:
        if self._failed_at is None:
            # The exception's text may hold the endpoint; its type and the bucket say enough.
            log.warning(
                "S3 result store %s failed on %s (%s); serving without it",
                action,
                self._settings.where(),
                _describe(exc),
            )
        self._failed_at = time.monotonic()
        self._health = None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return f"{type(exc).__name__} {error_code(exc)}"
    return type(exc).__name__


def _decode(response: dict[str, Any], data: bytes) -> CachedResult | None:
    metadata = response.get("Metadata") or {}
    try:
        # Without a render time (written by another program, or before render times were kept) nothing proves
        # the object newer than a purge marker: a miss, like any object this store did not write.
        created_at = float(metadata["created-at"])
        expires_at = float(metadata["expires-at"])
    except (KeyError, ValueError):
        return None
    if expires_at <= time.time():
        return None
    content_type = response.get("ContentType") or "application/octet-stream"
    vary = metadata.get("vary", "")
    return CachedResult(data=data, content_type=content_type, created_at=created_at, expires_at=expires_at, vary=vary)
