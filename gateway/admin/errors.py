"""What an admin operation can refuse, as one tree with stable codes.

Every adapter (the ``imgate`` command, the management API, the dashboard) shows ``message`` as it is and
branches on ``code``; the message names the field or the record and never holds a secret::

    AdminError(message)        code
    ├── Invalid                INVALID     the input is wrong; ``field`` names it when one field is to blame
    ├── NotFound               NOT_FOUND   no such workspace, mark or rule
    ├── Forbidden              FORBIDDEN   the caller's role or key scope does not allow it (``roles``)
    ├── Conflict               CONFLICT    the record exists already, is still in use, or changed since it
    │                                      was read (a stale revision: read it again and retry)
    └── Unavailable            UNAVAILABLE the account store or Redis cannot be reached now (retry shortly)

The HTTP adapters (the management API, the dashboard) answer them through ``http_error``: 400, 404, 403, 409,
503 (with Retry-After).
"""

from __future__ import annotations

from typing import ClassVar

from gateway import errors as http
from transforms.errors import InvalidParameter, TransformError


class AdminError(Exception):
    code: ClassVar[str] = "ADMIN_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(AdminError):
    code = "INVALID"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    @classmethod
    def from_transform(cls, exc: TransformError) -> Invalid:
        """A parser's refusal (its message is safe and names the parameter)."""
        return cls(exc.message, exc.param if isinstance(exc, InvalidParameter) else None)


class NotFound(AdminError):
    code = "NOT_FOUND"


class Forbidden(AdminError):
    code = "FORBIDDEN"


class Conflict(AdminError):
    code = "CONFLICT"


class Unavailable(AdminError):
    code = "UNAVAILABLE"


# Seconds a caller is told to wait when a store is unreachable: long enough for a pool or a failover to recover.
RETRY_AFTER_SECONDS = 5


def http_error(exc: AdminError) -> http.GatewayError:
    """The refusal as the gateway error every HTTP adapter answers with (the same, safe message)."""
    if isinstance(exc, Invalid):
        return http.ValidationError(exc.message)
    if isinstance(exc, NotFound):
        return http.NotFound(exc.message)
    if isinstance(exc, Forbidden):
        return http.Forbidden(exc.message)
    if isinstance(exc, Conflict):
        return http.Conflict(exc.message)
    if isinstance(exc, Unavailable):
        return http.StoreUnavailable(exc.message, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    # An AdminError of no known kind is a bug in the admin layer, never the caller's fault.
    return http.Internal()
