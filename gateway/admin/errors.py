"""What an admin operation can refuse, as one tree with stable codes.

Every adapter (the ``imgate`` command, the management API, the dashboard) shows ``message`` as it is and
branches on ``code``; the message names the field or the record and never holds a secret::

    AdminError(message)        code
    ├── Invalid                INVALID     the input is wrong; ``field`` names it when one field is to blame
    ├── NotFound               NOT_FOUND   no such workspace, mark or rule
    └── Conflict               CONFLICT    the record exists already, is still in use, or changed since it
                                           was read (a stale revision: read it again and retry)

An HTTP adapter would answer them 400 (or 422), 404 and 409.
"""

from __future__ import annotations

from typing import ClassVar

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


class Conflict(AdminError):
    code = "CONFLICT"
