"""``AdminContext``: what every admin operation works with, built once by its adapter.

The ``imgate`` command opens one per command (``AdminContext.open(settings)``, which owns and closes the
stores); an adapter inside the gateway process (the management API, the dashboard) builds one from the
services it already runs and closes nothing. Operations are coroutines: the account store's calls block
(SQLite, boto3), so they run in a worker thread and never stall an event loop that also serves images.

``actor`` says who is acting, for the audit rows every change records (``gateway.admin.audit``): ``cli`` for
the ``imgate`` command, ``key:`` and the 12-character prefix of an API key, ``user:`` and an email address.
An adapter builds one context and derives one per caller with ``ctx.acting_as(actor)``, which shares the
stores and the per-process state (the API keys' last-used throttle).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from gateway.accounts.audit import AuditEntry
from gateway.accounts.factory import build_account_store
from gateway.accounts.keyring import secret_box
from gateway.accounts.last_used import LastUsedThrottle
from gateway.accounts.models import Workspace
from gateway.accounts.secrets import SecretBox
from gateway.accounts.store import AccountStore
from gateway.cache.factory import build_result_store
from gateway.cache.results import ResultStore
from gateway.settings import Settings
from gateway.sources.base import Source

if TYPE_CHECKING:
    from gateway.netguard import NetGuard

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

    def __post_init__(self) -> None:
        check_actor(self.actor)

    def acting_as(self, actor: str) -> AdminContext:
        """This context for another actor (``ValueError`` for an actor no audit row may name)."""
        return dataclasses.replace(self, actor=actor)

    @classmethod
    def build(cls, settings: Settings, store: AccountStore, results: ResultStore) -> AdminContext:
        """A context over stores the caller owns (and closes)."""
        # Imported here: the network stack is needed by few commands, and every command pays for imports.
        from gateway.netguard import guard_for
        from gateway.sources.factory import SourceFactory

        guard = guard_for(settings)
        secrets = secret_box(settings)
        return cls(store, settings, secrets, results, SourceFactory(settings, guard, secrets).build, guard)

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
        """Run a blocking call (the account store's) in a worker thread."""
        return await asyncio.to_thread(fn, *args, **kwargs)
