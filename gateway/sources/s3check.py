"""``imgate workspace check``: read one object from a bucket origin and say in plain words what is wrong.

The gateway itself answers a broken bucket origin with one terse ``ORIGIN_ERROR``; the owner needs
to know *which* of the usual suspects it is: a missing bucket or key, credentials that are wrong or
not allowed to read, an endpoint that does not answer, or a clock that is off (S3 refuses requests
signed more than 15 minutes away from its own time). ``diagnose`` makes the same calls a fetch makes
and maps each failure to one ``Problem`` and a sentence that says what to do.

The sentences name the bucket, prefix, key and endpoint (the owner typed them), never a secret.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

from aiohttp.abc import AbstractResolver
from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import (
    SSLError as BotoSSLError,
)

from gateway.errors import BlockedAddress, GatewayError
from gateway.netguard import NetGuard
from gateway.sources.s3 import (
    BAD_CREDENTIAL_CODES,
    CLOCK_SKEW_CODES,
    DENIED_CODES,
    MISSING_BUCKET_CODES,
    MISSING_KEY_CODES,
    WRONG_REGION_CODES,
    LazyS3Client,
    S3OriginSettings,
    causes,
    error_code,
    find_gateway_error,
    object_key,
)

# S3 refuses a signature 15 minutes off; warn well before that.
_SKEW_WARNING = 300.0


class Problem(StrEnum):
    BUCKET_MISSING = "bucket-missing"
    KEY_MISSING = "key-missing"
    EMPTY = "empty"
    LIST_DENIED = "list-denied"
    DENIED = "denied"
    BAD_CREDENTIALS = "bad-credentials"
    NO_CREDENTIALS = "no-credentials"
    CLOCK_SKEW = "clock-skew"
    WRONG_REGION = "wrong-region"
    UNREACHABLE = "endpoint-unreachable"
    BLOCKED = "blocked-address"
    TIMEOUT = "timeout"
    TLS = "tls"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Diagnosis:
    problem: Problem | None  # None: the origin works
    message: str
    key: str | None = None  # the key that was read (relative to the prefix)
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.problem is None


async def diagnose(
    settings: S3OriginSettings,
    key: str | None = None,
    *,
    guard: NetGuard | None = None,
    resolver: AbstractResolver | None = None,
    timeout: float = 10.0,
) -> Diagnosis:
    """Read ``key`` (or the first object under the prefix) and report the first thing that is wrong."""
    client = LazyS3Client(
        settings,
        connect_timeout=min(timeout, 5.0),
        read_timeout=timeout,
        attempts=1,
        guard=guard,
        resolver=resolver,
    )
    checker = _Checker(settings, timeout)
    try:
        async with asyncio.timeout(timeout):
            return await checker.run(await client.get(), key)
    except GatewayError as exc:
        return checker.explain(exc, key)
    except (TimeoutError, BotoCoreError, ClientError) as exc:
        return checker.explain(exc, key)
    finally:
        await client.aclose()


class _Checker:
    def __init__(self, settings: S3OriginSettings, timeout: float) -> None:
        self._settings = settings
        self._timeout = timeout
        self._listing = False

    async def run(self, client: Any, key: str | None) -> Diagnosis:
        settings = self._settings
        if key is None:
            self._listing = True
            listing = await client.list_objects_v2(Bucket=settings.bucket, Prefix=settings.prefix, MaxKeys=1)
            self._listing = False
            contents = listing.get("Contents") or []
            if not contents:
                return Diagnosis(
                    Problem.EMPTY,
                    f"The {settings.where()} exists and answers, but holds no object to read. "
                    "Upload an image, or check the prefix.",
                )
            key = str(contents[0]["Key"])[len(settings.prefix) :]
        try:
            full_key = object_key(settings, key)
        except GatewayError:
            return Diagnosis(Problem.KEY_MISSING, f"'{key}' is not a key the gateway would read.", key)
        try:
            response = await client.get_object(Bucket=settings.bucket, Key=full_key, Range="bytes=0-0")
            async with response["Body"]:
                await response["Body"].read()
        except ClientError as exc:
            if error_code(exc) != "InvalidRange":  # an empty object: it exists, that is all we asked
                raise
            response = exc.response
        warnings = _clock_warnings(response)
        return Diagnosis(None, f"Read '{key}' from the {settings.where()} at {settings.endpoint_host}.", key, warnings)

    def explain(self, exc: BaseException, key: str | None) -> Diagnosis:
        where, endpoint = self._settings.where(), self._settings.endpoint_host
        blocked = exc if isinstance(exc, GatewayError) else find_gateway_error(exc)
        if isinstance(blocked, BlockedAddress):
            return Diagnosis(
                Problem.BLOCKED,
                # The guard answers a name that does not resolve alike (no mapping of internal DNS names).
                f"{endpoint} has no public address (it does not resolve, or resolves to a non-public one): "
                "the gateway does not connect there.",
                key,
            )
        if isinstance(exc, ClientError):
            return self._explain_answer(exc, key)
        if isinstance(exc, NoCredentialsError):
            return Diagnosis(
                Problem.NO_CREDENTIALS,
                "No access key is configured for this origin, and none was found in the gateway's environment.",
                key,
            )
        if isinstance(exc, BotoSSLError) or _caused_by(exc, ssl.SSLError):
            return Diagnosis(
                Problem.TLS,
                f"The TLS handshake with {endpoint} failed: its certificate is not trusted or not for that name.",
                key,
            )
        if isinstance(exc, TimeoutError | ConnectTimeoutError | ReadTimeoutError):
            return Diagnosis(Problem.TIMEOUT, f"{endpoint} did not answer within {self._timeout:g} seconds.", key)
        if isinstance(exc, EndpointConnectionError):
            reason = "the name does not resolve" if _caused_by(exc, socket.gaierror) else "nothing answers there"
            return Diagnosis(
                Problem.UNREACHABLE,
                f"Could not connect to {endpoint}: {reason}. Check the endpoint URL and the network.",
                key,
            )
        return Diagnosis(Problem.OTHER, f"Reading from the {where} failed ({type(exc).__name__}).", key)

    def _explain_answer(self, exc: ClientError, key: str | None) -> Diagnosis:
        settings, where = self._settings, self._settings.where()
        code = error_code(exc)
        if code in MISSING_BUCKET_CODES:
            return Diagnosis(
                Problem.BUCKET_MISSING,
                f"There is no bucket '{settings.bucket}' at {settings.endpoint_host}. "
                "Check the bucket name, the region and the endpoint.",
                key,
            )
        if code in MISSING_KEY_CODES:
            return Diagnosis(Problem.KEY_MISSING, f"The {where} has no object '{key}'.", key)
        if code in BAD_CREDENTIAL_CODES:
            what = (
                "the access key id is not known there"
                if code == "InvalidAccessKeyId"
                else "the secret access key does not match the access key id"
                if code == "SignatureDoesNotMatch"
                else "the credentials have expired or are not valid"
            )
            return Diagnosis(Problem.BAD_CREDENTIALS, f"{settings.endpoint_host} refused the credentials: {what}.", key)
        if code in DENIED_CODES and self._listing:
            return Diagnosis(
                Problem.LIST_DENIED,
                f"The credentials may not list the {where}. That is fine for serving images; "
                "name a key to check that it can be read.",
                key,
            )
        if code in DENIED_CODES:
            return Diagnosis(
                Problem.DENIED,
                f"The credentials were accepted but may not read '{key}' in the {where}. "
                f"Allow s3:GetObject on {settings.bucket}/{settings.prefix}*.",
                key,
            )
        if code in CLOCK_SKEW_CODES:
            return Diagnosis(
                Problem.CLOCK_SKEW,
                "The storage refused the request because this machine's clock differs from its own by more "
                "than 15 minutes. Synchronise the clock (NTP).",
                key,
            )
        if code in WRONG_REGION_CODES:
            actual = _headers(exc.response).get("x-amz-bucket-region")
            hint = f" It is in '{actual}'." if actual else ""
            return Diagnosis(
                Problem.WRONG_REGION,
                f"The {where} is not in region '{settings.region}'.{hint} Set the origin's region.",
                key,
            )
        return Diagnosis(Problem.OTHER, f"The storage answered with error '{code}' for the {where}.", key)


def _clock_warnings(response: Any) -> tuple[str, ...]:
    date = _headers(response).get("date")
    if not date:
        return ()
    try:
        skew = time.time() - parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return ()
    if abs(skew) < _SKEW_WARNING:
        return ()
    direction = "ahead of" if skew > 0 else "behind"
    return (
        f"This machine's clock is {abs(skew) / 60:.0f} minutes {direction} the storage's; requests will be "
        "refused past 15 minutes. Synchronise the clock (NTP).",
    )


def _headers(response: Any) -> dict[str, str]:
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}) if isinstance(response, dict) else {}
    return {str(name).lower(): str(value) for name, value in headers.items()}


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    return any(isinstance(inner, kind) for inner in causes(exc))
