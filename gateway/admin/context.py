"""``AdminContext``: what every admin operation works with, built once by its adapter.

The ``imgate`` command opens one per command (``AdminContext.open(settings)``, which owns and closes the
stores); an adapter inside the gateway process (the management API, the dashboard) builds one from the
services it already runs and closes nothing. Operations are coroutines: the account store's calls block
(SQLite, boto3), so they run in a worker thread and never stall an event loop that also serves images.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from gateway.accounts.factory import build_account_store
from gateway.accounts.keyring import secret_box
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
