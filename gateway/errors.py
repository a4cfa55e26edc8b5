"""Every error the gateway answers with, as one tree.

Each class fixes an HTTP status and a stable ``code``; ``message`` is what the caller sees and must
never hold a secret, a storage credential or an internal address::

    GatewayError(code, status, message, headers)
    ├── ValidationError        400 VALIDATION_ERROR
    ├── NotFound               404 NOT_FOUND
    ├── Gone                   410 GONE                 (capture job results: URL expired, or result deleted)
    ├── OriginNotAllowed       403 ORIGIN_NOT_ALLOWED   (CORS)
    ├── SourceNotAllowed       403 SOURCE_NOT_ALLOWED   (?src= host)
    ├── DomainNotAllowed       403 DOMAIN_NOT_ALLOWED   (?capture= host)
    │   └── CaptureDomainDisabled 403 CAPTURE_DOMAIN_DISABLED (?capture= host switched off: no new captures)
    ├── HttpNotAllowed         403 HTTP_NOT_ALLOWED     (capture job: http:// allowance withdrawn while it waited)
    ├── BlockedAddress         403 BLOCKED_ADDRESS      (SSRF guard)
    ├── BadSignature           403 BAD_SIGNATURE        (signed URLs: missing, malformed or wrong `s`)
    ├── SignatureExpired       403 SIGNATURE_EXPIRED    (signed URLs: past `expires`)
    ├── MethodNotAllowed       405 METHOD_NOT_ALLOWED   (+ Allow)
    ├── Unauthenticated        401 UNAUTHENTICATED      (management API; + WWW-Authenticate)
    ├── Forbidden              403 FORBIDDEN            (management API: scope or workspace; /_/metrics)
    ├── IpNotAllowed           403 IP_NOT_ALLOWED       (management API: workspace IP allowlist)
    ├── CsrfFailed             403 CSRF_FAILED          (dashboard: a form without its session's token)
    ├── CodeInvalid            401 CODE_INVALID         (dashboard sign-in: a wrong code)
    ├── CodeExpired            401 CODE_EXPIRED         (dashboard sign-in: expired, used, or none asked for)
    ├── CodeLocked             401 CODE_LOCKED          (dashboard sign-in: 5 attempts spent on one code)
    ├── SignInLimited          429 SIGNIN_LIMITED       (dashboard sign-in: too many codes asked for; + Retry-After)
    ├── MailUnavailable        503 MAIL_UNAVAILABLE     (dashboard sign-in: the mail server refused the code's email)
    ├── Conflict               409 CONFLICT             (management API: stale revision, exists, in use)
    ├── PayloadTooLarge        413 PAYLOAD_TOO_LARGE    (management API: request body)
    ├── SourceTooLarge         413 SOURCE_TOO_LARGE     (bytes, pixels, or an encoder's output cap)
    ├── UnsupportedMedia       415 UNSUPPORTED_MEDIA
    ├── RateLimited            429 RATE_LIMITED         (rate limit or monthly quota; + Retry-After)
    ├── OriginError            502 ORIGIN_ERROR
    ├── Overloaded             503 OVERLOADED           (+ Retry-After)
    ├── CaptureUnavailable     503 CAPTURE_UNAVAILABLE
    ├── CaptureAuthUnsupported 501 CAPTURE_AUTH_UNSUPPORTED (capture job headers/basic on BiDi-only remote browsers)
    ├── StoreUnavailable       503 STORE_UNAVAILABLE    (management API: account store or Redis away; + Retry-After)
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


class Gone(GatewayError):
    """A capture job's result URL past its expiry, or a result deleted (retention end, first download, DELETE)."""

    code, status, default_message = "GONE", 410, "this result has expired or was deleted"


class OriginNotAllowed(GatewayError):
    """The request's `Origin` is not among the workspace's allowed origins (CORS)."""

    code, status, default_message = "ORIGIN_NOT_ALLOWED", 403, "origin not allowed for this workspace"


class SourceNotAllowed(GatewayError):
    """The `src=` host is not among the workspace's allowed external sources."""

    code, status, default_message = "SOURCE_NOT_ALLOWED", 403, "source not allowed for this workspace"


class DomainNotAllowed(GatewayError):
    """The `capture=` host is not among the workspace's allowed capture domains."""

    code, status, default_message = "DOMAIN_NOT_ALLOWED", 403, "capture domain not allowed for this workspace"


class CaptureDomainDisabled(DomainNotAllowed):
    """The `capture=` host's capture domain is disabled: captures already rendered are served, no new one is taken."""

    code, default_message = "CAPTURE_DOMAIN_DISABLED", "this capture domain is disabled; no new captures are taken"


class HttpNotAllowed(GatewayError):
    """A capture job's http:// page whose http allowance (gateway's or workspace's) was withdrawn while it waited."""

    code, status, default_message = "HTTP_NOT_ALLOWED", 403, "http:// pages are no longer allowed for capture jobs"


class BlockedAddress(GatewayError):
    """The origin, a `src=` URL or a redirect resolves to a non-public address."""

    code, status, default_message = "BLOCKED_ADDRESS", 403, "the source resolves to a non-public address"


class BadSignature(GatewayError):
    """The workspace requires signed URLs and `s` is missing, malformed, or not a signature of this URL."""

    code, status, default_message = "BAD_SIGNATURE", 403, "this URL is not signed for this workspace"


class SignatureExpired(GatewayError):
    """A signed URL whose `expires` time has passed."""

    code, status, default_message = "SIGNATURE_EXPIRED", 403, "this signed URL has expired"


class MethodNotAllowed(GatewayError):
    """A method the path does not take (image paths: GET, HEAD and CORS preflights); `Allow` lists those it does."""

    code, status, default_message = "METHOD_NOT_ALLOWED", 405, "only GET, HEAD and CORS preflights are allowed"


class Unauthenticated(GatewayError):
    """A management API call without a usable API key: none, a malformed header, or an unknown or revoked key."""

    code, status, default_message = "UNAUTHENTICATED", 401, "Authentication is required"


class Forbidden(GatewayError):
    # What it covers: a read-only key on a write route; a key of one workspace asking for another's resources;
    # what only an owner may do (members, roles, write keys, deletion) asked by a member or any key; /_/metrics
    # from outside metrics_networks without the metrics token.
    """A key or member without the scope or role the operation needs, or /_/metrics without access."""

    code, status, default_message = "FORBIDDEN", 403, "this API key may not do that"


class IpNotAllowed(GatewayError):
    """The client address is not in the workspace's IP allowlist for the management API."""

    code, status, default_message = "IP_NOT_ALLOWED", 403, "requests from this address are not allowed"


class CsrfFailed(GatewayError):
    """A dashboard form posted without the token of the session (or sign-in page) it was served in."""

    code, status, default_message = "CSRF_FAILED", 403, "this form has expired; reload the page and try again"


class CodeInvalid(GatewayError):
    """A dashboard sign-in code that is not the one sent (each wrong try spends one of the code's 5 attempts)."""

    code, status, default_message = "CODE_INVALID", 401, "that code is not right; check the email and try again"


class CodeExpired(GatewayError):
    """A dashboard sign-in code older than 10 minutes, used already, or never asked for."""

    code, status, default_message = "CODE_EXPIRED", 401, "that code has expired or was used; ask for a new one"


class CodeLocked(GatewayError):
    """A dashboard sign-in code whose 5 attempts are spent: it no longer works, even when right."""

    code, status, default_message = "CODE_LOCKED", 401, "too many attempts with that code; ask for a new one"


class SignInLimited(GatewayError):
    """More sign-in codes asked for than allowed (3 per email address, or the client address's cap, per 15 min)."""

    code, status, default_message = "SIGNIN_LIMITED", 429, "too many sign-in codes asked for; wait and try again"


class MailUnavailable(GatewayError):
    """The dashboard's sign-in email could not be handed to the mail server (``mailer = "smtp"``)."""

    code, status, default_message = "MAIL_UNAVAILABLE", 503, "the sign-in email could not be sent; try again shortly"


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
    """Over the workspace's requests per second, or a monthly quota used up (named, with its reset; + Retry-After)."""

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


class CaptureAuthUnsupported(GatewayError):
    """A capture job's extra headers or basic credentials, on remote browsers that cannot keep them to allowed hosts."""

    code, status = "CAPTURE_AUTH_UNSUPPORTED", 501
    default_message = (
        "auth.headers and auth.basic are not available with this gateway's remote browsers (no DevTools "
        "connection to scope them with); use cookies"
    )


class StoreUnavailable(GatewayError):
    """A management API call while the account store or Redis cannot be reached (+ Retry-After)."""

    code, status, default_message = "STORE_UNAVAILABLE", 503, "the account store is unavailable; retry shortly"


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
