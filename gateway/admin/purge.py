"""Purge: make a workspace's cached outputs stale everywhere, for every source kind.

Two halves, because the caches are of two kinds:

- Memory tiers live in every worker of every node and cannot be reached from here. A ``PurgeMarker`` (source-key
  prefix, time) is recorded on the workspace; each process sees it within ``tenancy_ttl`` and treats an output
  of a covered source rendered before that time as a miss. The request path matches a marker against the
  source key of every kind: the origin key, the normalised ``?src=`` URL, the ``?capture=`` URL.
- The result store is shared: the outputs are deleted from it now, by prefix, for each kind (keys are laid
  out ``{namespace}/{kind}/{escaped source key}/…`` by ``gateway.cache.keys``).

Markers are append-only, so a purge that loses the compare-and-set race to another change simply reads the
workspace again and appends once more.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from gateway.accounts.models import PurgeMarker
from gateway.admin.audit import audited
from gateway.admin.context import AdminContext
from gateway.admin.errors import Conflict
from gateway.admin.roles import require
from gateway.admin.workspaces import load, save
from gateway.cache.keys import Kind, key_prefix

# Markers beyond this many are dropped, oldest first: by then every memory-tier entry they could cover has
# expired or been evicted many times over, and a dropped marker costs at most a transform.
PURGE_MARKERS_KEPT = 50
_ATTEMPTS = 2


@dataclass(frozen=True, slots=True)
class PurgeResult:
    namespace: str
    prefix: str  # "" = the whole workspace
    removed: int  # outputs deleted from the result store
    at: float  # the marker's time: memory-tier outputs rendered before it are stale


@audited("workspace.purge")
async def purge(ctx: AdminContext, namespace: str, prefix: str = "") -> PurgeResult:
    """Purge every output whose source key starts with ``prefix`` (an origin key, or a URL for ``?src=`` and
    ``?capture=`` outputs, as the gateway normalised it: lower-case scheme and host, punycode)."""
    require(ctx, namespace, "edit")
    at = time.time()
    for attempt in range(_ATTEMPTS):
        workspace = await load(ctx, namespace)
        markers = (*workspace.purges, PurgeMarker(prefix, at))[-PURGE_MARKERS_KEPT:]
        try:
            await save(ctx, dataclasses.replace(workspace, purges=markers))
            break
        except Conflict:
            if attempt + 1 == _ATTEMPTS:
                raise
    if prefix:
        removed = 0
        for kind in Kind:  # a prefix means a source key, and each kind keeps its keys under its own segment
            removed += await ctx.results.purge(key_prefix(namespace, kind, prefix))
    else:
        removed = await ctx.results.purge(key_prefix(namespace, ""))
    return PurgeResult(namespace, prefix, removed, at)
