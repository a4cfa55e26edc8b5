"""Every error the gateway answers with, as one tree.

Each class fixes an HTTP status and a stable ``code``; ``message`` is what the caller sees and must
never hold a secret, a storage credential or an internal address::

    GatewayError(code, status, message, headers)
    ├── ValidationError        400 VALIDATION_ERROR
    ├── NotFound               404 NOT_FOUND
    ├── OriginNotAllowed       403 ORIGIN_NOT_ALLOWED   (CORS)
    ├── SourceNotAllowed       403 SOURCE_NOT_ALLOWED   (?src= host)
    ├── DomainNotAllowed       403 DOMAIN_NOT_ALLOWED   (?capture= host)
    ├── BlockedAddress         403 BLOCKED_ADDRESS      (SSRF guard)
    ├── SourceTooLarge         413 SOURCE_TOO_LARGE     (bytes or pixels)
    ├── UnsupportedMedia       415 UNSUPPORTED_MEDIA
    ├── RateLimited            429 RATE_LIMITED         (+ Retry-After)
    ├── OriginError            502 ORIGIN_ERROR
    ├── Overloaded             503 OVERLOADED           (+ Retry-After)
    ├── CaptureUnavailable     503 CAPTURE_UNAVAILABLE
    ├── Timeout                504 TIMEOUT
    └── Internal               500 INTERNAL

Errors are answered with ``Cache-Control: no-store`` and are never written to any cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from transforms.errors import ImageTooLarge, InvalidParameter, TransformError, UnsupportedImage


class GatewayError(Exception):
    code: ClassVar[str] = "INTERNAL"
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "internal error"

    def __init__(self, message: str | None = None, *, headers: Mapping[str, str] | None = None) -> None:
        self.message = message or self.default_message
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(self.message)

    def body(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


class ValidationError(GatewayError):
    code, status, default_message = "VALIDATION_ERROR", 400, "invalid request"


class NotFound(GatewayError):
    code, status, default_message = "NOT_FOUND", 404, "not found"


class OriginNotAllowed(GatewayError):
    code, status, default_message = "ORIGIN_NOT_ALLOWED", 403, "origin not allowed for this workspace"


class SourceNotAllowed(GatewayError):
    code, status, default_message = "SOURCE_NOT_ALLOWED", 403, "source not allowed for this workspace"


class DomainNotAllowed(GatewayError):
    code, status, default_message = "DOMAIN_NOT_ALLOWED", 403, "capture domain not allowed for this workspace"


class BlockedAddress(GatewayError):
    code, status, default_message = "BLOCKED_ADDRESS", 403, "the source resolves to a non-public address"


class SourceTooLarge(GatewayError):
    code, status, default_message = "SOURCE_TOO_LARGE", 413, "the source image is too large"


class UnsupportedMedia(GatewayError):
    code, status, default_message = "UNSUPPORTED_MEDIA", 415, "the source is not a supported image"


class RateLimited(GatewayError):
    code, status, default_message = "RATE_LIMITED", 429, "rate limit exceeded"


class OriginError(GatewayError):
    code, status, default_message = "ORIGIN_ERROR", 502, "the origin failed to deliver the source"


class Overloaded(GatewayError):
    code, status, default_message = "OVERLOADED", 503, "the gateway is busy, retry shortly"


class CaptureUnavailable(GatewayError):
    code, status, default_message = "CAPTURE_UNAVAILABLE", 503, "captures are unavailable"


class Timeout(GatewayError):
    code, status, default_message = "TIMEOUT", 504, "timed out"


class Internal(GatewayError):
    code, status, default_message = "INTERNAL", 500, "internal error"


def from_transform_error(exc: TransformError) -> GatewayError:
    """Map the pure package's errors onto HTTP ones; the message is already safe."""
    if isinstance(exc, InvalidParameter):
        return ValidationError(exc.message)
    if isinstance(exc, ImageTooLarge):
        return SourceTooLarge(exc.message)
    if isinstance(exc, UnsupportedImage):
        return UnsupportedMedia(exc.message)
    return Internal()
