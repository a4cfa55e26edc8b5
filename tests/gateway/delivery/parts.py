"""A request path built from in-memory parts: the in-memory account and result stores, a ``MemorySource``
holding the demo photos, and a recording ``RequestHooks``. Fast and pure: no server, no folder, no network."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.cache.memory import MemoryEntry, MemoryTier
from gateway.cache.memory_results import MemoryResultStore
from gateway.cache.originals import OriginalsCache
from gateway.delivery.path import RequestPath
from gateway.delivery.plans import Planner
from gateway.delivery.pool import TransformPool
from gateway.delivery.render import Renderer
from gateway.marks.resolve import MarkResolver
from gateway.netguard import NetGuard
from gateway.settings import Settings
from gateway.sources.base import FetchLimits
from gateway.sources.capture import CaptureSource
from gateway.sources.external import ExternalFetcher
from gateway.tenancy import Tenancy
from gateway.web.request import ImageRequest
from tests.conftest import DEMO_IMAGES
from tests.gateway.web.running import RecordingHooks
from tests.support.memory_source import MemorySource
from transforms.pipeline import PixelBudget

PHOTOS = {path.name: path.read_bytes() for path in DEMO_IMAGES.iterdir() if path.suffix in (".jpg", ".png")}


class CountingTier(MemoryTier):
    """The memory tier, counting lookups."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(max_bytes)
        self.lookups = 0

    def get(self, key: str, now: float | None = None) -> MemoryEntry | None:
        self.lookups += 1
        return super().get(key, now)


@dataclass
class Parts:
    accounts: MemoryAccountStore = field(default_factory=MemoryAccountStore)
    source: MemorySource = field(default_factory=lambda: MemorySource(dict(PHOTOS)))
    results: MemoryResultStore = field(default_factory=MemoryResultStore)
    hooks: RecordingHooks = field(default_factory=RecordingHooks)
    memory: CountingTier = field(default_factory=lambda: CountingTier(64 * 1024 * 1024))
    ttl: float = 60.0
    run_timeout: float | None = None  # the transform deadline (transform_timeout)

    def __post_init__(self) -> None:
        guard = NetGuard()
        self.tenancy = Tenancy(self.accounts, lambda workspace: self.source, self.ttl)
        self.pool = TransformPool(threads=1, queue=8, run_timeout=self.run_timeout)
        self.renderer = Renderer(
            self.memory, OriginalsCache(16 * 1024 * 1024, 60), self.results, self.pool, PixelBudget()
        )
        external = ExternalFetcher(FetchLimits(1024 * 1024, 1.0, 2.0), guard)
        planner = Planner(MarkResolver(), external, CaptureSource(Settings(), guard))
        self.path = RequestPath(self.tenancy, planner, self.renderer, self.hooks)

    def workspace(self, namespace: str = "acme", **fields: object) -> Workspace:
        return self.accounts.create_workspace(Workspace(namespace=namespace, origin_kind="local", **fields))  # type: ignore[arg-type]

    def change(self, namespace: str, **fields: object) -> Workspace:
        current = self.accounts.get_workspace(namespace)
        assert current is not None
        return self.accounts.update_workspace(dataclasses.replace(current, **fields))  # type: ignore[arg-type]

    async def aclose(self) -> None:
        await self.renderer.drain()
        await self.tenancy.aclose()
        self.pool.shutdown()


def request(target: str, method: str = "GET", headers: Sequence[tuple[str, str]] = ()) -> ImageRequest:
    """An ``ImageRequest`` as the fronts read it, for ``/acme/photo.jpg?w=1``-style targets."""
    path, _, query = target.partition("?")
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query.encode(),
        "headers": [(name.encode(), value.encode("latin-1")) for name, value in headers],
    }
    read = ImageRequest.read(scope)
    assert read is not None
    return read
