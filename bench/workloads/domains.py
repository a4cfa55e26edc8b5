"""Workload 4c: `hit-one-domain`, a cache hit through a custom domain against the same hit by namespace URL.

One gateway, one hot URL, asked two ways in every repeat: `/bench/<key>?…` on the gateway's own host
(`namespace URL`) and `/<key>?…` with `Host: img.bench.test`, a verified custom domain of the bench's workspace
(`imgate`). Both are the same cache entry (the domain resolves to the same tenant and cache key), so the ratio is
what the Host lookup costs a hit; the target is within 10%.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
import urllib.request

from bench.errors import BenchError
from bench.jobs import hot_job
from bench.peers.gateway import NAMESPACE, GatewayPeer
from bench.probe import fetch_checked, mean_size
from bench.progress import log
from bench.registry import workload
from bench.results import SUBJECT, Row, WorkloadResult
from bench.session import BenchSession
from bench.workloads.timed import timed_run
from bench.wrk import Load

DOMAIN = "img.bench.test"
NAMESPACE_ROW = "namespace URL"


@workload("hit-one-domain", rank=43, group="domains")
def hit_one_domain(session: BenchSession) -> WorkloadResult | None:
    options = session.options
    job = hot_job(options.corpus)
    peer = session.gateway()
    if job is None or peer is None:
        log("hit-one-domain: skipped, no photo-*.jpg in the corpus or no gateway")
        return None
    title = f"one hot URL: {job.source} w={job.width} {job.fmt}, by custom domain and by namespace URL"
    result = WorkloadResult("hit-one-domain", title, options.concurrency)
    try:
        _bind_domain(peer)
        by_namespace = peer.hot_path(job, 0)
        by_domain = by_namespace.removeprefix(f"/{NAMESPACE}")
        size = mean_size(fetch_checked(peer.label, peer.base_url, [(by_namespace, job)] * 16, parallel=8))
        _warm_domain(peer, by_domain)
    except (BenchError, OSError) as error:
        result.notes.append(f"left out: {error}")
        return result
    rows = [
        (Row(NAMESPACE_ROW, "peer", output_bytes=size), by_namespace, ""),
        (Row(SUBJECT, "subject", output_bytes=size), by_domain, DOMAIN),
    ]
    result.rows.extend(row for row, _, _ in rows)
    for repeat in range(options.repeats):
        for row, path, host in rows:
            load = Load(peer.base_url, [path], False, options.concurrency, options.duration_s, host=host)
            timed_run(session, result, peer, row, load, repeat)
    ratio = _paired_ratio(result)
    if ratio is not None:
        result.extra["domain_vs_namespace"] = ratio
        result.notes.append(f"custom domain / namespace URL: {ratio:.3f}x (median of per-repeat ratios)")
    return result


def _bind_domain(peer: GatewayPeer) -> None:
    """A verified domain written straight into the gateway's store: the bench has no DNS to verify with."""
    from gateway.accounts.domains import VERIFIED, Domain
    from gateway.accounts.sqlite import SqliteAccountStore

    store = SqliteAccountStore(peer.data_dir / "imgate.sqlite3")
    try:
        workspace = store.get_workspace(NAMESPACE)
        if workspace is None:
            raise BenchError("the bench workspace is missing")
        overrides = dataclasses.replace(workspace.limit_overrides, custom_domains=1)
        store.update_workspace(dataclasses.replace(workspace, limit_overrides=overrides))
        added = store.domains.add(Domain(DOMAIN, NAMESPACE), limit=1)
        store.domains.save_check(dataclasses.replace(added, state=VERIFIED, checked_at=time.time()))
    finally:
        store.close()


def _warm_domain(peer: GatewayPeer, path: str) -> None:
    request = urllib.request.Request(peer.base_url + path, headers={"Host": DOMAIN})  # noqa: S310 - loopback
    for _ in range(16):
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback only
            if answer.status != 200 or answer.headers.get("X-Imgate-Cache") not in ("memory", "store", "miss"):
                raise BenchError(f"the custom domain answered {answer.status}")


def _paired_ratio(result: WorkloadResult) -> float | None:
    mine, theirs = result.row(SUBJECT), result.row(NAMESPACE_ROW)
    if mine is None or theirs is None or not mine.runs or len(mine.runs) != len(theirs.runs):
        return None
    pairs = zip(mine.runs, theirs.runs, strict=True)
    return statistics.median(a.requests_per_s / b.requests_per_s for a, b in pairs if b.requests_per_s)
