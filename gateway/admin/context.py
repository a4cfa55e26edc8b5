"""``AdminContext``: what every admin operation works with, built once by its adapter.

The ``imgate`` command opens one per command (``AdminContext.open(settings)``, which owns and closes the
stores); an adapter inside the gateway process (the management API, the dashboard) builds one from the
services it already runs and closes nothing. Operations are coroutines: the account store's calls block
(SQLite, boto3), so they run in a worker thread and never stall an event loop that also serves images.

``actor`` says who is acting, for the audit rows every change records (``gateway.admin.audit``): ``cli`` for
the ``imgate`` command, ``key:`` and the 12-character prefix of an API key, ``user:`` and an email address.
An adapter builds one context and derives one per caller with ``ctx.acting_as(actor)``, which shares the
stores and the per-process state (the API keys' last-used throttle, the token signer).

``tokens`` signs the gateway's own tokens (receipts, sign-in codes, result links, CSRF; ``gateway.accounts.tokens``)
with keys derived from ``secrets``. In the gateway process both are its services' (``AdminContext.build``), so the
process has one signer and derives each purpose's key once.

``caller`` says what the actor may do (``gateway.admin.roles``): the operator everything, a person what their
role in the workspace allows, an API key what its scope allows. ``as_person`` and ``as_key`` set both.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from gateway.accounts.audit import AuditEntry
from gateway.accounts.factory import build_account_store
from gateway.accounts.keyring import secret_box
from gateway.accounts.last_used import LastUsedThrottle
from gateway.accounts.models import Workspace
from gateway.accounts.secrets import SecretBox
from gateway.accounts.store import AccountStore
from gateway.accounts.tokens import TokenSigner
from gateway.admin.errors import Unavailable
from gateway.admin.roles import OPERATOR, Caller
from gateway.cache.factory import build_result_store
from gateway.cache.results import ResultStore
from gateway.settings import Settings
from gateway.sources.base import Source

if TYPE_CHECKING:
    from gateway.netguard import NetGuard
    from gateway.sources.capture import CaptureSource

_P = ParamSpec("_P")
_T = TypeVar("_T")

SourceBuilder = Callable[[Workspace], Source | None]

CLI_ACTOR = "cli"
# One per process: each worker writes a key's last-used time at most once a minute (see LastUsedThrottle).
_PROCESS_THROTTLE = LastUsedThrottle()


def check_actor(actor: str) -> str:
    """``actor`` if an audit row may name it; ``ValueError`` for a whole API key or text no row can hold."""
    # The audit row's own checks are the rules: one place decides what may be written down.
    AuditEntry(0.0, "", actor, "check", 200, 0.0)
    return actor


@dataclass(frozen=True, slots=True)
class AdminContext:
    store: AccountStore
    settings: Settings
    secrets: SecretBox
    # Signs with keys derived from ``secrets`` itself; shared by every context derived from this one.
    tokens: TokenSigner
    # Where purges delete stored outputs.
    results: ResultStore
    # A workspace's origin as the request path builds it: marks and checks read through it.
    sources: SourceBuilder
    # The SSRF guard bucket diagnostics connect through.
    guard: NetGuard
    # Who is acting: "cli", "key:<prefix>", "user:<email>". Written into audit rows.
    actor: str = CLI_ACTOR
    # When each API key's last use was last written (per process; ``authenticate_key`` reads it).
    key_throttle: LastUsedThrottle = field(default=_PROCESS_THROTTLE, repr=False, compare=False)
    # What the actor may do (``gateway.admin.roles``); the default is the command line's operator.
    caller: Caller = OPERATOR
    # The captures of the gateway process this context serves in (what its browsers run now); None for the
    # command line, which runs none.
    capture: CaptureSource | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_actor(self.actor)
        if not self.tokens.signs_with(self.secrets):
            # dataclasses.replace(ctx, secrets=...) alone would seal with one key and sign with another.
            raise ValueError("tokens must sign with this context's secrets")

    def acting_as(self, actor: str) -> AdminContext:
        """This context for another actor (``ValueError`` for an actor no audit row may name)."""
        return dataclasses.replace(self, actor=actor)

    def as_person(self, email: str, roles: Mapping[str, str]) -> AdminContext:
        """This context for a signed-in person with ``roles`` (namespace -> owner | member)."""
        return dataclasses.replace(self, actor=f"user:{email}", caller=Caller.person(roles))

    def as_key(self, prefix: str, namespace: str, scope: str) -> AdminContext:
        """This context for an API key of ``namespace`` with ``scope`` (read | write)."""
        return dataclasses.replace(self, actor=f"key:{prefix}", caller=Caller.key(namespace, scope))

    def as_operator(self) -> AdminContext:
        """This context, same actor, with every power: for the steps an operation takes on its own behalf
        (adding the creator of a workspace as its owner), never for a caller's request."""
        return dataclasses.replace(self, caller=OPERATOR)

    @classmethod
    def build(
        cls,
        settings: Settings,
        store: AccountStore,
        results: ResultStore,
        secrets: SecretBox | None = None,
        tokens: TokenSigner | None = None,
    ) -> AdminContext:
        """A context over stores the caller owns (and closes). ``secrets`` and ``tokens``: the process's own
        (a gateway's services), else made from ``settings`` (the command line)."""
        # Imported here: the network stack is needed by few commands, and every command pays for imports.
        from gateway.netguard import guard_for
        from gateway.sources.factory import SourceFactory

        guard = guard_for(settings)
        if secrets is None:
            secrets = secret_box(settings)
        if tokens is None:
            tokens = TokenSigner(secrets)
        sources = SourceFactory(settings, guard, secrets).build
        return cls(store, settings, secrets, tokens, results, sources, guard)

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, settings: Settings) -> AsyncIterator[AdminContext]:
        """A context over the stores ``settings`` name, closed on exit."""
        store = build_account_store(settings)
        try:
            results = build_result_store(settings)
            try:
                yield cls.build(settings, store, results)
            finally:
                await results.aclose()
        finally:
            store.close()

    async def call(self, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run a blocking call (the account store's) in a worker thread; a store that cannot be reached is
        ``Unavailable`` (503 with Retry-After in the HTTP adapters), never an internal error."""
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except Exception as exc:
            if store_unreachable(exc):
                # The backend's own text can name a host, a port or a file: the caller gets a fixed one.
                raise Unavailable("the account store is unavailable; retry shortly") from exc
            raise


# Connection-level failures of each backend, by defining package and class name: matching by name keeps an
# unused backend's library unimported (the SQLite build never loads boto3, psycopg or redis).
_UNREACHABLE: dict[str, frozenset[str]] = {
    "psycopg": frozenset({"OperationalError"}),
    "psycopg_pool": frozenset({"PoolTimeout"}),
    "botocore": frozenset({"ConnectionError", "EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError"}),
    "redis": frozenset({"ConnectionError", "TimeoutError"}),
}
# sqlite3.OperationalError is also a bad statement (a bug): only these say the file cannot be used now.
_SQLITE_UNREACHABLE = ("database is locked", "unable to open", "disk i/o error")


def store_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says a store (SQLite, PostgreSQL, DynamoDB, Redis) cannot be reached right now."""
    if isinstance(exc, sqlite3.OperationalError):
        return any(text in str(exc).lower() for text in _SQLITE_UNREACHABLE)
    for cls in type(exc).__mro__:
        names = _UNREACHABLE.get(cls.__module__.partition(".")[0])
        if names is not None and cls.__name__ in names:
            return True
    return False
