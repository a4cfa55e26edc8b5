"""Namespace -> tenant (workspace record, its live source, compiled policy, marks, rules and plan limits), cached
per process.

The request path's resolve step. A namespace that does not match the namespace pattern is refused before
any lookup: it cannot name a workspace, so it costs the store nothing and takes no room in the cache.

Two bounded caches, so that made-up namespaces can neither grow memory nor push real workspaces out:

- known tenants: at most ``max_tenants``, the one refreshed longest ago dropped first (its source is closed
  after a grace period). An entry is fresh for ``ttl`` seconds; after that the store is asked again, so a setting
  changed from the CLI or the dashboard shows everywhere within that time without a restart. The stale entry
  stays until then: when the workspace's revision is unchanged the same tenant (and source, which may own a
  connection pool) is kept.
- unknown namespaces (no such workspace, or an inactive one): at most ``max_unknown``, each for ``ttl``
  seconds, so a flood of them asks the store once per namespace per ``ttl`` and holds a bounded number.

Concurrent lookups of one namespace share one store query (single flight).

Custom domains (``for_host``, ``peek_host``) resolve in the same step: a host maps to its workspace's namespace
in a bounded cache of its own (at most ``max_tenants`` verified hosts, ``max_unknown`` hosts that are no
verified domain, each for ``ttl`` seconds), and the namespace to the tenant through the cache above, so the
namespace URL and the custom-domain URL of an image get the same tenant and the same cache key. A domain
verified, failed or removed takes effect within ``ttl`` on every worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from cachetools import TTLCache

from gateway.accounts.models import NAMESPACE_RE, MarkPreset, Workspace, retention_allowed
from gateway.accounts.plans import PlanLimits
from gateway.accounts.store import AccountStore
from gateway.cache.singleflight import SingleFlight
from gateway.domains.normalise import bindable
from gateway.marks.rules import CompiledRule, compile_rules, unusable_rules
from gateway.policy import InvalidPattern, WorkspacePolicy
from gateway.sources.base import Source

log = logging.getLogger("imgate.tenancy")

MAX_TENANTS = 10_000
MAX_UNKNOWN = 10_000
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
    # The workspace's plan with the operator's overrides, and the capture retention that plan lets it keep,
    # worked out once: the request path reads them on every plan and every admit, and a tenant is made once
    # per revision of the workspace (``Tenancy._load``), the only thing they depend on.
    limits: PlanLimits = field(init=False)
    retention_in_force: int = field(init=False)

    def __post_init__(self) -> None:
        self.limits = self.workspace.limits()
        self.retention_in_force = retention_allowed(self.workspace.capture_retention, self.limits)


def compile_policy(workspace: Workspace) -> WorkspacePolicy:
    try:
        return WorkspacePolicy.compile(
            workspace.allowed_origins, workspace.allowed_sources, workspace.allowed_capture_domains
        )
    except InvalidPattern:
        log.error("workspace %s has an invalid allowlist pattern; denying all until fixed", workspace.namespace)
        return _DENY_ALL


SourceBuilder = Callable[[Workspace], Source | None]


class _Known:
    """Known tenants with the monotonic time each stops being fresh, at most ``maxsize`` of them.

    A plain dict, because the hit fast path reads it on every request. Every reload re-inserts its entry at
    the end, so the first entry is the one refreshed longest ago: the one dropped when full (a workspace in
    use is reloaded every ``ttl``, so this is least-recently-used at that granularity). A dropped tenant's
    source is retired.
    """

    def __init__(self, maxsize: int, retire: Callable[[Source], None]) -> None:
        self._entries: dict[str, tuple[Tenant, float]] = {}
        self._maxsize = maxsize
        self._retire = retire
        self.get = self._entries.get

    def put(self, namespace: str, tenant: Tenant, fresh_until: float) -> None:
        self._entries.pop(namespace, None)
        self._entries[namespace] = (tenant, fresh_until)
        while len(self._entries) > self._maxsize:
            dropped, _ = self._entries.pop(next(iter(self._entries)))
            if dropped.source is not None:
                self._retire(dropped.source)

    def pop(self, namespace: str) -> Tenant | None:
        entry = self._entries.pop(namespace, None)
        return entry[0] if entry is not None else None

    def take_all(self) -> list[Tenant]:
        tenants = [tenant for tenant, _ in self._entries.values()]
        self._entries.clear()
        return tenants

    def __len__(self) -> int:
        return len(self._entries)


class _Hosts:
    """Verified custom domain -> (namespace, monotonic time it stops being fresh), at most ``maxsize``; a plain
    dict for the hit fast path, the entry refreshed longest ago dropped first (like ``_Known``)."""

    def __init__(self, maxsize: int) -> None:
        self._entries: dict[str, tuple[str, float]] = {}
        self._maxsize = maxsize
        self.get = self._entries.get

    def put(self, host: str, namespace: str, fresh_until: float) -> None:
        self._entries.pop(host, None)
        self._entries[host] = (namespace, fresh_until)
        while len(self._entries) > self._maxsize:
            self._entries.pop(next(iter(self._entries)))

    def pop(self, host: str) -> None:
        self._entries.pop(host, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class Tenancy:
    def __init__(
        self,
        store: AccountStore,
        build_source: SourceBuilder,
        ttl: float,
        max_tenants: int = MAX_TENANTS,
        max_unknown: int = MAX_UNKNOWN,
    ) -> None:
        self._store = store
        self._build_source = build_source
        self._ttl = ttl
        self._known = _Known(max_tenants, self._retire)
        self._unknown: TTLCache[str, bool] = TTLCache(maxsize=max_unknown, ttl=ttl, timer=time.monotonic)
        self._refresh: SingleFlight[Tenant | None] = SingleFlight()
        self._hosts = _Hosts(max_tenants)
        self._unknown_hosts: TTLCache[str, bool] = TTLCache(maxsize=max_unknown, ttl=ttl, timer=time.monotonic)
        self._host_refresh: SingleFlight[str | None] = SingleFlight()
        self._retiring: dict[asyncio.Task[None], Source] = {}

    async def get(self, namespace: str) -> Tenant | None:
        """The active workspace's tenant, or None (no such workspace, inactive, or not a namespace at all)."""
        tenant = self.peek(namespace)
        if tenant is not None or namespace in self._unknown:
            return tenant
        if not NAMESPACE_RE.fullmatch(namespace):
            return None
        return await self._refresh.run(namespace, lambda: self._load(namespace))

    def peek(self, namespace: str) -> Tenant | None:
        """The cached tenant while it is fresh, else None (never loads: for the hit fast path)."""
        cached = self._known.get(namespace)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        return None

    def known(self, namespace: str) -> bool:
        """Whether ``namespace`` resolved to a workspace, fresh or not (never loads): the usage counters and the
        access log name only namespaces that did, and a request may end after its tenant's TTL ran out."""
        return self._known.get(namespace) is not None

    def __len__(self) -> int:
        """How many namespaces are cached, known and unknown together."""
        return len(self._known) + len(self._unknown)

    async def for_host(self, host: str) -> Tenant | None:
        """The tenant of the workspace ``host`` is a verified custom domain of, or None (no such domain, not
        verified, or its workspace unknown or inactive)."""
        namespace = self.host_namespace(host)
        if namespace is None:
            # A name no domain can be stored under (an IP literal, one label, not a hostname) costs no read.
            if host in self._unknown_hosts or not bindable(host):
                return None
            namespace = await self._host_refresh.run(host, lambda: self._load_host(host))
            if namespace is None:
                return None
        return await self.get(namespace)

    def peek_host(self, host: str) -> Tenant | None:
        """``peek`` for a custom domain: the cached tenant while both entries are fresh, else None."""
        namespace = self.host_namespace(host)
        return self.peek(namespace) if namespace is not None else None

    def host_namespace(self, host: str) -> str | None:
        """The namespace of a verified custom domain while its cache entry is fresh, else None (never loads)."""
        cached = self._hosts.get(host)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        return None

    async def _load_host(self, host: str) -> str | None:
        domain = await asyncio.to_thread(self._store.domains.routed, host)
        if domain is None:
            self._hosts.pop(host)
            self._unknown_hosts[host] = True
            return None
        self._unknown_hosts.pop(host, None)
        self._hosts.put(host, domain.namespace, time.monotonic() + self._ttl)
        return domain.namespace

    async def _load(self, namespace: str) -> Tenant | None:
        workspace = await asyncio.to_thread(self._store.get_workspace, namespace)
        previous = self._known.get(namespace)
        old = previous[0] if previous is not None else None
        if workspace is None or not workspace.active:
            self._known.pop(namespace)
            if old is not None and old.source is not None:
                self._retire(old.source)
            self._unknown[namespace] = True
            return None
        if old is not None and old.workspace.revision == workspace.revision:
            tenant = old
        else:
            marks, rules = await asyncio.to_thread(self._marks_and_rules, workspace.namespace)
            tenant = Tenant(workspace, self._build_source(workspace), compile_policy(workspace), marks, rules)
            if old is not None and old.source is not None:
                self._retire(old.source)
        self._unknown.pop(namespace, None)
        self._known.put(namespace, tenant, time.monotonic() + self._ttl)
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
        """Close a replaced source after a grace period, so requests still using it finish."""

        async def close_later() -> None:
            await asyncio.sleep(_RETIRE_AFTER)
            await source.aclose()

        task = asyncio.get_running_loop().create_task(close_later())
        self._retiring[task] = source
        task.add_done_callback(lambda done: self._retiring.pop(done, None))

    async def aclose(self) -> None:
        await self._refresh.aclose()
        await self._host_refresh.aclose()
        self._hosts.clear()
        self._unknown_hosts.clear()
        sources = {id(t.source): t.source for t in self._known.take_all() if t.source is not None}
        for task, source in list(self._retiring.items()):
            task.cancel()
            sources[id(source)] = source
        self._unknown.clear()
        for source in sources.values():
            with contextlib.suppress(Exception):
                await source.aclose()
