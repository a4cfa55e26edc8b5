"""Audit rows: who did what to a workspace, when, and how it went. Never what they sent.

A row holds the time, the workspace, the actor (``cli``, ``user:`` and an email, ``key:`` and an API key's
12-character prefix; see ``gateway.admin.context``),
the operation (a route template such as ``POST /_/api/v1/workspaces/{ns}/keys`` or an admin operation name such
as ``workspace.update``), the status (the HTTP status the caller got, or the one an admin error maps to) and
the latency. No request bodies, URLs, query strings, image keys or secrets: ``AuditEntry`` refuses an actor
that is a whole API key and an operation that carries a query string or a URL, so a caller that passes the
raw request by mistake fails in its tests instead of writing secrets into the log.

Pages are newest first. The cursor names the last row of a page (its time and id), so rows appended while a
reader pages through never shift what the next page holds, as an offset would.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from gateway.accounts.keys import KEY_PREFIX, PREFIX_LENGTH
from gateway.accounts.models import validate_namespace

MAX_PAGE = 500
_MAX_ACTOR = 254  # an email address at most
_MAX_OPERATION = 200
_CURSOR = re.compile(r"([0-9][0-9.e+-]{0,30}):([0-9]{1,19})")
# More of a key than its prefix, anywhere in an actor ("key:imk_live_4Fq" is fine, "key:" + a secret is not).
_KEY_BEYOND_PREFIX = re.compile(f"{KEY_PREFIX}[0-9A-Za-z]{{{PREFIX_LENGTH - len(KEY_PREFIX) + 1},}}")


class InvalidCursor(ValueError):
    """A page cursor this store did not hand out."""

    def __init__(self) -> None:
        super().__init__("invalid audit page cursor: pass the next_cursor of the previous page")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: float
    # "" for an operation that is about no single workspace (listing workspaces, signing in).
    namespace: str
    actor: str
    operation: str
    status: int
    latency_ms: float
    # Set by the store when the row is appended; orders rows with the same ``at``.
    entry_id: int = 0

    def __post_init__(self) -> None:
        if not math.isfinite(self.at) or self.at < 0:
            raise ValueError("an audit row's time must be seconds since the epoch")
        if self.namespace:
            validate_namespace(self.namespace)
        if not self.actor or len(self.actor) > _MAX_ACTOR or not self.actor.isprintable():
            raise ValueError(f"an audit actor must be 1-{_MAX_ACTOR} printable characters")
        if _KEY_BEYOND_PREFIX.search(self.actor) or (
            self.actor.startswith(KEY_PREFIX) and len(self.actor) != PREFIX_LENGTH
        ):
            raise ValueError(f"an API key is audited by its {PREFIX_LENGTH}-character prefix, never whole")
        operation = self.operation
        if not operation or len(operation) > _MAX_OPERATION or not operation.isprintable():
            raise ValueError(f"an audit operation must be 1-{_MAX_OPERATION} printable characters")
        if any(mark in operation for mark in ("?", "#", "://")):
            raise ValueError("an audit operation is a route template or an operation name, never a URL")
        if isinstance(self.status, bool) or not isinstance(self.status, int) or not 100 <= self.status <= 599:
            raise ValueError("an audit status is an HTTP status code (100-599)")
        if not math.isfinite(self.latency_ms) or self.latency_ms < 0:
            raise ValueError("an audit latency must be 0 or more milliseconds")


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: tuple[AuditEntry, ...]
    # Pass it back for the next (older) page; ``None`` when this page is the last.
    next_cursor: str | None


def encode_cursor(entry: AuditEntry) -> str:
    return f"{entry.at!r}:{entry.entry_id}"


def decode_cursor(cursor: str) -> tuple[float, int]:
    """``(at, entry_id)`` of the row the cursor names; ``InvalidCursor`` for anything else."""
    matched = _CURSOR.fullmatch(cursor)
    if matched is None:
        raise InvalidCursor
    try:
        at = float(matched[1])
    except ValueError:
        raise InvalidCursor from None
    if not math.isfinite(at):
        raise InvalidCursor
    return at, int(matched[2])


def check_page_size(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"an audit page holds 1-{MAX_PAGE} rows")
    return limit


def page_of(rows: list[AuditEntry], limit: int) -> AuditPage:
    """A page from up to ``limit + 1`` rows in page order: the extra row only says there is a next page."""
    entries = tuple(rows[:limit])
    more = len(rows) > limit
    return AuditPage(entries, encode_cursor(entries[-1]) if more and entries else None)
