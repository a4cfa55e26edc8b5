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
    ├── MethodNotAllowed       405 METHOD_NOT_ALLOWED   (+ Allow)
    ├── Unauthenticated        401 UNAUTHENTICATED      (management API; + WWW-Authenticate)
    ├── Forbidden              403 FORBIDDEN            (management API: scope or workspace)
    ├── IpNotAllowed           403 IP_NOT_ALLOWED       (management API: workspace IP allowlist)
    ├── Conflict               409 CONFLICT             (management API: stale revision, exists, in use)
    ├── PayloadTooLarge        413 PAYLOAD_TOO_LARGE    (management API: request body)
    ├── SourceTooLarge         413 SOURCE_TOO_LARGE     (bytes, pixels, or an encoder's output cap)
    ├── UnsupportedMedia       415 UNSUPPORTED_MEDIA
    ├── RateLimited            429 RATE_LIMITED         (+ Retry-After)
    ├── OriginError            502 ORIGIN_ERROR
    ├── Overloaded             503 OVERLOADED           (+ Retry-After)
    ├── CaptureUnavailable     503 CAPTURE_UNAVAILABLE
    ├── RenderTimeout          503 RENDER_TIMEOUT       (the transform's own deadline)
    ├── Timeout                504 TIMEOUT              (the origin or a capture)
    └── Internal               500 INTERNAL

Errors are answered with ``Cache-Control: no-store`` and are never written to any cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from transforms.errors import ImageTooLarge, InvalidParameter, RenderTimedOut, TransformError, UnsupportedImage


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
    """An unknown parameter or a bad value (the message names it), or a target that is no plain path (`*`, CR, LF)."""

    code, status, default_message = "VALIDATION_ERROR", 400, "invalid request"


class NotFound(GatewayError):
    """An unknown or inactive workspace, a missing key, or a key that tries to leave the origin."""

    code, status, default_message = "NOT_FOUND", 404, "not found"


class OriginNotAllowed(GatewayError):
    """The request's `Origin` is not among the workspace's allowed origins (CORS)."""

    code, status, default_message = "ORIGIN_NOT_ALLOWED", 403, "origin not allowed for this workspace"


class SourceNotAllowed(GatewayError):
    """The `src=` host is not among the workspace's allowed external sources."""

    code, status, default_message = "SOURCE_NOT_ALLOWED", 403, "source not allowed for this workspace"


class DomainNotAllowed(GatewayError):
    """The `capture=` host is not among the workspace's allowed capture domains."""

    code, status, default_message = "DOMAIN_NOT_ALLOWED", 403, "capture domain not allowed for this workspace"


class BlockedAddress(GatewayError):
    """The origin, a `src=` URL or a redirect resolves to a non-public address."""

    code, status, default_message = "BLOCKED_ADDRESS", 403, "the source resolves to a non-public address"


class MethodNotAllowed(GatewayError):
    """A method the path does not take (image paths: GET, HEAD and CORS preflights); `Allow` lists those it does."""

    code, status, default_message = "METHOD_NOT_ALLOWED", 405, "only GET, HEAD and CORS preflights are allowed"


class Unauthenticated(GatewayError):
    """A management API call without a usable API key: none, a malformed header, or an unknown or revoked key."""

    code, status, default_message = "UNAUTHENTICATED", 401, "Authentication is required"


class Forbidden(GatewayError):
    """A read-only API key on a write route, or a key of one workspace asking for another's resources."""

    code, status, default_message = "FORBIDDEN", 403, "this API key may not do that"


class IpNotAllowed(GatewayError):
    """The client address is not in the workspace's IP allowlist for the management API."""

    code, status, default_message = "IP_NOT_ALLOWED", 403, "requests from this address are not allowed"


class Conflict(GatewayError):
    """A management API change on a stale revision, or of something that exists already or is still in use."""

    code, status, default_message = "CONFLICT", 409, "the resource changed meanwhile or is in use"


class PayloadTooLarge(GatewayError):
    """A management API request body, or a mark image in it, over its size cap."""

    code, status, default_message = "PAYLOAD_TOO_LARGE", 413, "the request body is too large"


class SourceTooLarge(GatewayError):
    """Over the byte cap, the pixel budget (read from the header, before decoding), or a slow encoder's output cap."""

    code, status, default_message = "SOURCE_TOO_LARGE", 413, "the source image is too large"


class UnsupportedMedia(GatewayError):
    """Not an image, a blocked format, or truncated or corrupt data."""

    code, status, default_message = "UNSUPPORTED_MEDIA", 415, "the source is not a supported image"


class RateLimited(GatewayError):
    """Reserved for the workspace's rate limits (not enforced yet); `Retry-After` says when to retry."""

    code, status, default_message = "RATE_LIMITED", 429, "rate limit exceeded"


class OriginError(GatewayError):
    """The origin failed: a non-2xx answer other than 404, a refused connection, too many redirects."""

    code, status, default_message = "ORIGIN_ERROR", 502, "the origin failed to deliver the source"


class Overloaded(GatewayError):
    """The transform or capture queue is full, or a transform would not start within `queue_timeout` (+ Retry-After)."""

    code, status, default_message = "OVERLOADED", 503, "the gateway is busy, retry shortly"


class CaptureUnavailable(GatewayError):
    """Captures are turned off, no browser starts, or the browser crashed."""

    code, status, default_message = "CAPTURE_UNAVAILABLE", 503, "captures are unavailable"


class RenderTimeout(GatewayError):
    """The transform ran past `transform_timeout` and was stopped; nothing was cached (503: the gateway's own work)."""

    code, status, default_message = "RENDER_TIMEOUT", 503, "the image took too long to render"


class Timeout(GatewayError):
    """The origin, or a capture, did not answer in time."""

    code, status, default_message = "TIMEOUT", 504, "timed out"


class Internal(GatewayError):
    """A bug: logged with a stack trace, the caller sees only the code."""

    code, status, default_message = "INTERNAL", 500, "internal error"


def from_transform_error(exc: TransformError) -> GatewayError:
    """Map the pure package's errors onto HTTP ones; the message is already safe."""
    if isinstance(exc, InvalidParameter):
        return ValidationError(exc.message)
    if isinstance(exc, ImageTooLarge):
        return SourceTooLarge(exc.message)
    if isinstance(exc, UnsupportedImage):
        return UnsupportedMedia(exc.message)
    if isinstance(exc, RenderTimedOut):
        return RenderTimeout(exc.message)
    return Internal()
