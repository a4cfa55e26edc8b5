"""Bucket origins: AWS S3, Cloudflare R2 and any S3-compatible store (MinIO, Ceph, Garage).

The gateway only reads from a customer's bucket (``GetObject``), with the customer's credentials,
and forgets the bytes once transformed. One aioboto3 client per workspace origin is opened on first
use and shared by every request; ``aclose()`` closes it at shutdown.

Where the bucket lives::

    AWS S3   S3OriginSettings(bucket="photos", region="eu-west-1")
    R2       S3OriginSettings.r2(account_id="<32 hex>", bucket="photos")
             -> endpoint https://<account>.r2.cloudflarestorage.com, region "auto"
    MinIO    S3OriginSettings(bucket="photos", endpoint_url="https://minio.example.com",
                              addressing_style="path")

Leaving both credentials empty uses the default credential chain (environment, config files,
instance role): that is the *node's* identity, so the caller must only allow it for origins the
operator configured, never for a customer-set bucket.

A customer-set ``endpoint_url`` is an outbound address chosen by a tenant: pass the gateway's
``NetGuard`` so that every connection is checked on the resolved IP at connect time, exactly as
for HTTP origins (``BlockedAddress`` reaches the caller unchanged).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import aioboto3  # type: ignore[import-untyped]
from aiobotocore.config import AioConfig  # type: ignore[import-untyped]
from aiohttp.abc import AbstractResolver
from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    NoCredentialsError,
    ReadTimeoutError,
)

from gateway.errors import GatewayError, NotFound, OriginError, SourceTooLarge, Timeout
from gateway.netguard import GuardedResolver, NetGuard
from gateway.sources.base import FetchLimits, Original

AddressingStyle = Literal["auto", "path", "virtual"]
_STYLES: dict[str, AddressingStyle] = {"auto": "auto", "path": "path", "virtual": "virtual"}

_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,254}")
_R2_ACCOUNT = re.compile(r"[0-9a-f]{32}")
# S3 limits keys to 1024 bytes of UTF-8; the prefix shares that budget.
_MAX_KEY_BYTES = 1024
_READ_CHUNK = 64 * 1024

# Error codes as S3, R2 and MinIO spell them; grouped by what the caller can do about them.
MISSING_KEY_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
MISSING_BUCKET_CODES = frozenset({"NoSuchBucket"})
DENIED_CODES = frozenset({"AccessDenied", "403", "AllAccessDisabled", "AccountProblem"})
BAD_CREDENTIAL_CODES = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired"}
)
CLOCK_SKEW_CODES = frozenset({"RequestTimeTooSkewed", "RequestExpired"})
WRONG_REGION_CODES = frozenset(
    {"PermanentRedirect", "AuthorizationHeaderMalformed", "301", "IllegalLocationConstraintException"}
)


@dataclass(frozen=True, slots=True)
class S3OriginSettings:
    """Where a bucket lives and how to sign for it. The secret is plain text in memory only."""

    bucket: str
    prefix: str = ""
    region: str = "us-east-1"
    endpoint_url: str | None = None
    addressing_style: AddressingStyle = "auto"
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not _BUCKET.fullmatch(self.bucket):
            raise ValueError("bucket: not a valid bucket name")
        if self.addressing_style not in _STYLES:
            raise ValueError("addressing_style: expected auto, path or virtual")
        if self.endpoint_url is not None:
            _check_endpoint(self.endpoint_url)
        # "" from a form or a settings file means "not set", as None does.
        object.__setattr__(self, "access_key_id", self.access_key_id or None)
        object.__setattr__(self, "secret_access_key", self.secret_access_key or None)
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("access_key_id and secret_access_key must be given together")
        if "\\" in self.prefix or "\x00" in self.prefix or _has_dot_segment(self.prefix):
            raise ValueError("prefix: must be a plain folder path")
        # The prefix is a folder: "originals" and "/originals/" both mean "originals/", so that
        # key "x" can never become "originalsx" and reach a sibling folder.
        folder = self.prefix.strip("/")
        object.__setattr__(self, "prefix", f"{folder}/" if folder else "")

    @classmethod
    def from_origin(cls, origin: Mapping[str, str], secret_access_key: str | None) -> S3OriginSettings:
        """From a workspace's stored origin fields (``Workspace.origin``) and its unsealed secret.

        Raises ``ValueError`` naming the field when one is missing or invalid.
        """
        if not origin.get("bucket"):
            raise ValueError("bucket: required for an s3 origin")
        style = _STYLES.get(origin.get("addressing_style") or "auto")
        if style is None:
            raise ValueError("addressing_style: expected auto, path or virtual")
        return cls(
            bucket=origin["bucket"],
            prefix=origin.get("prefix", ""),
            region=origin.get("region") or "us-east-1",
            endpoint_url=origin.get("endpoint_url") or None,
            addressing_style=style,
            access_key_id=origin.get("access_key_id") or None,
            secret_access_key=secret_access_key or None,
        )

    @classmethod
    def r2(
        cls,
        account_id: str,
        bucket: str,
        *,
        prefix: str = "",
        jurisdiction: Literal["default", "eu", "fedramp"] = "default",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> S3OriginSettings:
        """A Cloudflare R2 bucket: R2 speaks the S3 API at a per-account host and signs with region "auto"."""
        if not _R2_ACCOUNT.fullmatch(account_id):
            raise ValueError("account_id: expected the 32 hex digits of a Cloudflare account id")
        zone = "" if jurisdiction == "default" else f".{jurisdiction}"
        return cls(
            bucket=bucket,
            prefix=prefix,
            region="auto",
            endpoint_url=f"https://{account_id}{zone}.r2.cloudflarestorage.com",
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
        )

    @property
    def endpoint_host(self) -> str:
        """The endpoint's host[:port], or the regional AWS host when no endpoint is set."""
        if self.endpoint_url is None:
            return f"s3.{self.region}.amazonaws.com"
        return urlsplit(self.endpoint_url).netloc.lower()

    def where(self) -> str:
        """Bucket and prefix in words, for messages: never the endpoint (maybe internal) nor a secret."""
        return f"bucket '{self.bucket}'" + (f" (prefix '{self.prefix}')" if self.prefix else "")


def _check_endpoint(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("endpoint_url: expected an http(s) URL")
    if parts.username or parts.password or parts.query or parts.fragment or parts.path not in ("", "/"):
        raise ValueError("endpoint_url: expected scheme://host[:port] only, without credentials or path")


def _has_dot_segment(path: str) -> bool:
    return any(segment in (".", "..") for segment in path.split("/"))


def object_key(settings: S3OriginSettings, key: str) -> str:
    """The object key for ``key`` inside the origin's prefix; ``NotFound`` for any key that could leave it.

    Refused: an empty key, a leading "/", "." or ".." segments (S3 keys are literal, but MinIO,
    proxies and path-style URL handling may normalise them), backslashes, control characters.
    """
    if not key or key.startswith("/") or "\\" in key or _has_dot_segment(key):
        raise NotFound()
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in key):
        raise NotFound()
    full = settings.prefix + key
    if len(full.encode("utf-8", "surrogatepass")) > _MAX_KEY_BYTES:
        raise NotFound()
    return full


def error_code(exc: ClientError) -> str:
    error: Mapping[str, Any] = exc.response.get("Error", {})
    code = error.get("Code")
    if code:
        return str(code)
    return str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it wraps: botocore keeps the HTTP layer's error as ``kwargs["error"]``."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        kwargs = getattr(current, "kwargs", None)
        inner = kwargs.get("error") if isinstance(kwargs, dict) else None
        for linked in (inner, current.__cause__, current.__context__):
            if isinstance(linked, BaseException):
                pending.append(linked)


def find_gateway_error(exc: BaseException) -> GatewayError | None:
    """A ``GatewayError`` raised inside botocore's transport (the guard's ``BlockedAddress``), if any."""
    return next((inner for inner in causes(exc) if isinstance(inner, GatewayError)), None)


_session: Any = None


def _shared_session() -> Any:
    """One aioboto3 session for every client in the process.

    A session loads the service models and endpoint rules (~0.5 s and megabytes) and caches them:
    shared, a new workspace's first client takes milliseconds. Credentials are given per client, so
    sharing the session shares no identity (except the default chain, which is the node's anyway).
    """
    global _session
    if _session is None:
        _session = aioboto3.Session()
    return _session


class LazyS3Client:
    """One aioboto3 S3 client, opened on first use, shared, closed by ``aclose()``.

    Opening a client builds a credential resolver, an endpoint resolver and a connection pool:
    far too slow per request, so it happens once, under a lock so concurrent first requests share it.
    With a ``guard``, every connection goes through ``GuardedResolver`` and an IP-literal endpoint
    (which aiohttp connects to without resolving) is checked before every request.
    """

    def __init__(
        self,
        settings: S3OriginSettings,
        *,
        connect_timeout: float,
        read_timeout: float,
        attempts: int = 2,
        max_connections: int = 16,
        guard: NetGuard | None = None,
        resolver: AbstractResolver | None = None,
    ) -> None:
        self._settings = settings
        self._options: dict[str, Any] = {
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
            "retries": {"total_max_attempts": attempts, "mode": "standard"},
            "max_pool_connections": max_connections,
            "s3": {"addressing_style": settings.addressing_style},
            # Checksums on every request are an AWS novelty that older S3-compatible stores reject.
            "request_checksum_calculation": "when_required",
            "response_checksum_validation": "when_required",
        }
        self._guard = guard
        self._resolver = resolver
        self._lock = asyncio.Lock()
        self._stack: AsyncExitStack | None = None
        self._client: Any = None

    async def get(self) -> Any:
        # On every request, not only when the client opens: botocore connects to an IP-literal endpoint
        # without asking the resolver, and the deny lists may have changed since.
        self._check_endpoint()
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                self._client = await self._open()
        return self._client

    def _check_endpoint(self) -> None:
        if self._guard is not None and self._settings.endpoint_url is not None:
            self._guard.check_host(urlsplit(self._settings.endpoint_url).hostname or "")

    async def _open(self) -> Any:
        resolver = self._resolver
        if self._guard is not None:
            # Built here, inside the running loop, because aiohttp's resolvers bind to it.
            resolver = GuardedResolver(self._guard, resolver)
        config = AioConfig(connector_args={"resolver": resolver} if resolver else None, **self._options)
        stack = AsyncExitStack()
        client = await stack.enter_async_context(
            _shared_session().client(
                "s3",
                endpoint_url=self._settings.endpoint_url,
                region_name=self._settings.region,
                aws_access_key_id=self._settings.access_key_id,
                aws_secret_access_key=self._settings.secret_access_key,
                config=config,
            )
        )
        self._stack = stack
        return client

    async def aclose(self) -> None:
        async with self._lock:
            stack, self._stack, self._client = self._stack, None, None
            if stack is not None:
                await stack.aclose()


class S3Source:
    """A workspace's bucket origin (S3, R2, MinIO…), read-only.

    ``guard`` is the gateway's ``NetGuard``: pass it whenever a workspace owner chose the endpoint.
    ``resolver`` replaces the OS resolver underneath the guard (tests resolve ``*.localhost`` with it).
    """

    def __init__(
        self,
        settings: S3OriginSettings,
        limits: FetchLimits,
        guard: NetGuard | None = None,
        *,
        resolver: AbstractResolver | None = None,
    ) -> None:
        self._settings = settings
        self._limits = limits
        self._client = LazyS3Client(
            settings,
            connect_timeout=limits.connect_timeout,
            read_timeout=limits.total_timeout,
            guard=guard,
            resolver=resolver,
        )

    def identity(self, key: str) -> str:
        # No credentials in it, so it may be hashed and logged. It names the object, not who may read it: the
        # render step keys cached originals by workspace too, so two workspaces never share one.
        return f"s3:{self._settings.endpoint_host}/{self._settings.bucket}/{object_key(self._settings, key)}"

    async def fetch(self, key: str) -> Original:
        full_key = object_key(self._settings, key)
        try:
            async with asyncio.timeout(self._limits.total_timeout):
                return await self._get(full_key)
        except TimeoutError:
            raise Timeout(f"the {self._settings.where()} did not answer in time") from None
        except ClientError as exc:
            raise self._client_error(exc) from None
        except NoCredentialsError:
            raise OriginError(f"no credentials are configured for the {self._settings.where()}") from None
        except (ConnectTimeoutError, ReadTimeoutError):
            raise Timeout(f"the {self._settings.where()} did not answer in time") from None
        except BotoCoreError as exc:
            blocked = find_gateway_error(exc)
            if blocked is not None:
                raise blocked from None
            where = self._settings.where()
            raise OriginError(f"the storage endpoint of the {where} could not be reached") from None

    async def _get(self, full_key: str) -> Original:
        client = await self._client.get()
        response = await client.get_object(Bucket=self._settings.bucket, Key=full_key)
        body = response["Body"]
        async with body:
            length = response.get("ContentLength")
            # Refuse before reading a byte when the store says how big it is; count anyway, in case it lied.
            if isinstance(length, int) and length > self._limits.max_bytes:
                body.close()
                raise SourceTooLarge()
            chunks: list[bytes] = []
            received = 0
            while chunk := await body.read(_READ_CHUNK):
                received += len(chunk)
                if received > self._limits.max_bytes:
                    body.close()
                    raise SourceTooLarge()
                chunks.append(chunk)
        content_type = response.get("ContentType")
        return Original(b"".join(chunks), content_type if isinstance(content_type, str) else None)

    def _client_error(self, exc: ClientError) -> GatewayError:
        code = error_code(exc)
        where = self._settings.where()
        if code in MISSING_KEY_CODES:
            return NotFound()
        if code in MISSING_BUCKET_CODES:
            return OriginError(f"the {where} does not exist")
        if code in BAD_CREDENTIAL_CODES:
            return OriginError(f"the credentials for the {where} were rejected")
        if code in DENIED_CODES:
            return OriginError(f"access to the {where} was denied")
        if code in CLOCK_SKEW_CODES:
            return OriginError(f"the {where} refused the request: the clocks differ too much")
        if code in WRONG_REGION_CODES:
            return OriginError(f"the {where} is in another region than configured")
        return OriginError(f"the {where} failed to deliver the object")

    async def aclose(self) -> None:
        await self._client.aclose()
