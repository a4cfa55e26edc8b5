"""The audit log: one row for every change an admin operation makes, and for every management API call.

One mechanism writes them, ``audit_call`` (a context manager) and the ``audited`` decorator built on it: the
row holds the time, the workspace, ``ctx.actor``, the operation's name (``workspace.update``) or the API's
route template, the outcome as an HTTP-like status and the latency. Never an argument: no URL, image key,
body or secret can reach a row, because a row is built from nothing but those six values (and
``AuditEntry`` refuses a URL-like operation or an actor holding more of an API key than its prefix).

Outcomes: 200 done; ``Invalid`` 400, ``NotFound`` 404, ``Conflict`` 409, a ``GatewayError`` its own status,
anything else 500. Calls nest: inside an audited call (an API handler wrapped in ``audit_call``, or
``seed_demo``) the operations it calls record no rows of their own, so one request is one row.

Rows older than ``audit_retention_days`` are pruned by ``prune_audit`` (``imgate audit prune``), and by the
writer itself once every ``PRUNE_EVERY`` rows (row ids count up across every process sharing the store), so
a gateway nobody maintains keeps its retention as well.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, TypeVar

from gateway.accounts.audit import AuditEntry, AuditPage, InvalidCursor, check_page_size
from gateway.accounts.models import NAMESPACE_RE
from gateway.accounts.store import AccountStore
from gateway.admin.context import AdminContext
from gateway.admin.errors import Conflict, Forbidden, Invalid, NotFound
from gateway.errors import GatewayError

log = logging.getLogger("imgate.audit")

_P = ParamSpec("_P")
_T = TypeVar("_T")

PRUNE_EVERY = 1000
# The longest actor a row can hold (an email address): a longer filter can match nothing.
_MAX_FILTER = 254
_DAY = 86400.0
_STATUS_OF_ERROR: tuple[tuple[type[BaseException], int], ...] = (
    (Invalid, 400),
    (NotFound, 404),
    (Forbidden, 403),
    (Conflict, 409),
)


def status_of(error: BaseException | None) -> int:
    """The status an outcome is recorded with."""
    if error is None:
        return 200
    for kind, status in _STATUS_OF_ERROR:
        if isinstance(error, kind):
            return status
    if isinstance(error, GatewayError):
        return error.status
    return 500


@dataclass(slots=True)
class AuditedCall:
    """What the row will say; the body of an ``audit_call`` may set the namespace once it knows it (a webhook
    finds its workspace by the customer) and the status when it answers without raising (an API handler)."""

    namespace: str
    status: int = 200


# The outermost call being audited in this task, if any.
_CURRENT: contextvars.ContextVar[AuditedCall | None] = contextvars.ContextVar("imgate_audited_call", default=None)


@contextlib.asynccontextmanager
async def audit_call(ctx: AdminContext, namespace: str, operation: str) -> AsyncIterator[AuditedCall]:
    """Record one row for the enclosed call when it ends, however it ends (an error is re-raised)."""
    call = AuditedCall(namespace)
    if _CURRENT.get() is not None:
        yield call  # nested: the outermost call's row is the one written
        return
    token = _CURRENT.set(call)
    started = time.perf_counter()
    try:
        yield call
    except BaseException as exc:
        call.status = status_of(exc)
        raise
    finally:
        _CURRENT.reset(token)
        latency_ms = (time.perf_counter() - started) * 1000
        try:
            await record_audit(ctx, call.namespace, operation, call.status, latency_ms)
        except Exception:
            # The change has happened: failing it now would tell the caller it did not. The operator sees this.
            log.exception("could not record the audit row of %s", operation)


def audited(
    operation: str, *, detached: bool = False
) -> Callable[
    [Callable[Concatenate[AdminContext, str, _P], Awaitable[_T]]],
    Callable[Concatenate[AdminContext, str, _P], Awaitable[_T]],
]:
    """Audit an operation ``fn(ctx, namespace, ...)`` as ``operation``.

    ``detached``: the row belongs to no workspace (``namespace = ""``). Deleting a workspace deletes its rows,
    and a row written afterwards under its name would be inherited by a workspace created again under it.
    """

    def wrap(
        fn: Callable[Concatenate[AdminContext, str, _P], Awaitable[_T]],
    ) -> Callable[Concatenate[AdminContext, str, _P], Awaitable[_T]]:
        @functools.wraps(fn)
        async def run(ctx: AdminContext, namespace: str, /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
            async with audit_call(ctx, "" if detached else namespace, operation):
                result = await fn(ctx, namespace, *args, **kwargs)
                # Only once it is gone: a refused deletion (a member's, a key's) stays in the workspace's log.
                if detached:
                    _detach_enclosing_call()
                return result

        return run

    return wrap


def _detach_enclosing_call() -> None:
    """An API request that deletes a workspace is recorded under no workspace either, for the same reason."""
    outer = _CURRENT.get()
    if outer is not None:
        outer.namespace = ""


async def record_audit(ctx: AdminContext, namespace: str, operation: str, status: int, latency_ms: float) -> AuditEntry:
    """Write one row now (the management API calls this for every request, with the route template).

    A namespace no workspace can have is recorded as ``""``: the attempt is kept, under no workspace.
    ``ValueError`` for an operation that looks like a URL, a status outside 100-599 or a negative latency.
    """
    entry = AuditEntry(
        at=time.time(),
        namespace=namespace if NAMESPACE_RE.fullmatch(namespace) else "",
        actor=ctx.actor,
        operation=operation,
        status=status,
        latency_ms=max(0.0, float(latency_ms)),
    )
    return await ctx.call(_append, ctx.store, entry, _retention_cutoff(ctx))


def _append(store: AccountStore, entry: AuditEntry, cutoff: float) -> AuditEntry:
    stored = store.append_audit(entry)
    if stored.entry_id % PRUNE_EVERY == 0:
        store.prune_audit(cutoff)
    return stored


def _retention_cutoff(ctx: AdminContext) -> float:
    return time.time() - ctx.settings.audit_retention_days * _DAY


async def list_audit(
    ctx: AdminContext,
    namespace: str,
    limit: int = 50,
    cursor: str | None = None,
    *,
    actor: str | None = None,
    operation: str | None = None,
) -> AuditPage:
    """A page of the workspace's rows, newest first; pass ``next_cursor`` back for the next (older) page.

    ``actor`` / ``operation``: only rows whose actor / operation contains that text (pass the same filters with
    the cursor).
    """
    try:
        check_page_size(limit)
    except ValueError as exc:
        raise Invalid(f"limit: {exc}", "limit") from None
    for name, text in (("actor", actor), ("operation", operation)):
        if text is not None and (len(text) > _MAX_FILTER or not text.isprintable()):
            raise Invalid(f"{name}: a filter is at most {_MAX_FILTER} printable characters", name)
    if NAMESPACE_RE.fullmatch(namespace) is None:
        raise Invalid("namespace: not a workspace name", "namespace")
    if await ctx.call(ctx.store.get_workspace, namespace) is None:
        raise NotFound(f"no workspace {namespace}")
    try:
        return await ctx.call(ctx.store.list_audit, namespace, limit, cursor, actor=actor, operation=operation)
    except InvalidCursor as exc:
        raise Invalid(f"cursor: {exc}", "cursor") from None


async def prune_audit(ctx: AdminContext) -> int:
    """Delete every row older than the retention setting (``audit_retention_days``); how many went."""
    async with audit_call(ctx, "", "audit.prune"):
        return await ctx.call(ctx.store.prune_audit, _retention_cutoff(ctx))
