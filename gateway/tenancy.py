"""Namespace -> tenant (workspace record + its live source), cached per process for ``tenancy_ttl`` seconds.

The hot path reads a dict; the account store is asked again only when an entry is older than the TTL, so a
setting changed from the CLI or the dashboard shows everywhere within that time without a restart. A tenant's
``Source`` (which may own a connection pool) is kept while the workspace's revision is unchanged and closed
after a grace period once replaced, so requests still using it finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from gateway.accounts.models import MarkPreset, Workspace
from gateway.accounts.store import AccountStore
from gateway.cache.singleflight import SingleFlight
from gateway.marks.rules import CompiledRule, compile_rules, unusable_rules
from gateway.policy import InvalidPattern, WorkspacePolicy
from gateway.sources.base import Source

log = logging.getLogger("imgate.tenancy")

_RETIRE_AFTER = 30.0


# Refuses every cross-origin request, external source and capture: what a workspace whose stored patterns
# no longer compile gets, rather than an accidental "allow all".
_DENY_ALL = WorkspacePolicy.compile((), (), ())


@dataclass(slots=True)
class Tenant:
    workspace: Workspace
    source: Source | None
    policy: WorkspacePolicy
    marks: Mapping[str, MarkPreset] = field(default_factory=dict)
    rules: tuple[CompiledRule, ...] = ()


def compile_policy(workspace: Workspace) -> WorkspacePolicy:
    try:
        return WorkspacePolicy.compile(
            workspace.allowed_origins, workspace.allowed_sources, workspace.allowed_capture_domains
        )
    except InvalidPattern:
        log.error("workspace %s has an invalid allowlist pattern; denying all until fixed", workspace.namespace)
        return _DENY_ALL


SourceBuilder = Callable[[Workspace], Source | None]


class Tenancy:
    def __init__(self, store: AccountStore, build_source: SourceBuilder, ttl: float) -> None:
        self._store = store
        self._build_source = build_source
        self._ttl = ttl
        self._entries: dict[str, tuple[Tenant | None, float]] = {}
        self._refresh: SingleFlight[Tenant | None] = SingleFlight()
        self._retiring: dict[asyncio.Task[None], Source] = {}

    async def get(self, namespace: str) -> Tenant | None:
        cached = self._entries.get(namespace)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        return await self._refresh.run(namespace, lambda: self._load(namespace))

    def peek(self, namespace: str) -> Tenant | None:
        """The cached tenant while it is fresh, else None (never loads: for the hit fast path)."""
        cached = self._entries.get(namespace)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        return None

    async def _load(self, namespace: str) -> Tenant | None:
        workspace = await asyncio.to_thread(self._store.get_workspace, namespace)
        previous = self._entries.get(namespace)
        old = previous[0] if previous else None
        tenant: Tenant | None
        if workspace is None or not workspace.active:
            tenant = None
        elif old is not None and old.workspace.revision == workspace.revision:
            tenant = old
        else:
            marks, rules = await asyncio.to_thread(self._marks_and_rules, workspace.namespace)
            tenant = Tenant(workspace, self._build_source(workspace), compile_policy(workspace), marks, rules)
        if old is not None and old is not tenant and old.source is not None:
            self._retire(old.source)
        self._entries[namespace] = (tenant, time.monotonic() + self._ttl)
        return tenant

    def _marks_and_rules(self, namespace: str) -> tuple[dict[str, MarkPreset], tuple[CompiledRule, ...]]:
        marks = {mark.name: mark for mark in self._store.list_marks(namespace)}
        try:
            rules = compile_rules(self._store.list_rules(namespace))
        except ValueError:
            # Stored patterns are validated when saved; if one still fails, fail closed: every image of the
            # workspace is refused (502) rather than served without a mark the owner requires.
            log.error("workspace %s has an auto-apply rule that does not compile", namespace)
            rules = (unusable_rules(namespace),)
        return marks, rules

    def _retire(self, source: Source) -> None:
        async def close_later() -> None:
            await asyncio.sleep(_RETIRE_AFTER)
            await source.aclose()

        task = asyncio.get_running_loop().create_task(close_later())
        self._retiring[task] = source
        task.add_done_callback(lambda done: self._retiring.pop(done, None))

    def forget(self, namespace: str) -> None:
        self._entries.pop(namespace, None)

    async def aclose(self) -> None:
        sources = {id(t.source): t.source for t, _ in self._entries.values() if t and t.source}
        for task, source in list(self._retiring.items()):
            task.cancel()
            sources[id(source)] = source
        self._entries.clear()
        for source in sources.values():
            with contextlib.suppress(Exception):
                await source.aclose()
