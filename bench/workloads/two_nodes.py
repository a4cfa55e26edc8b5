"""Workload 4d: `two-nodes`, the multi-node layout through Caddy against one node, on the same machine.

config/deploy/local-cluster.sh starts the layout of config/deploy/compose.yaml on loopback: Caddy balancing
two gateway nodes that share a PostgreSQL database (accounts), a ``redis-server`` (limits, usage) and moto (the
S3 result store). Each node gets half the cores. Two kinds of request, each timed against node A alone (asked
directly, no proxy) and against both nodes through Caddy:

- hits: one hot URL of the demo workspace (each node's memory tier);
- misses: the same URL with a new ``v=`` per request (a render, a result-store read that misses, a write).

On a machine with few cores the two nodes, Caddy, moto, Redis and PostgreSQL share the same cores, so this
mainly shows what the extra hop and the shared stores cost, not how far two machines scale. The result-store
round trips per request are counted from moto's own request log. Needs caddy, redis-server, curl and a
PostgreSQL server at 127.0.0.1:5432 (user postgres, trust auth, as in the test suite); without one, skipped.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError
from bench.jobs import Job
from bench.progress import log
from bench.registry import workload
from bench.results import SUBJECT, Row, WorkloadResult
from bench.session import BenchSession
from bench.tools import require_tool
from bench.workloads.timed import timed_run
from bench.wrk import Load
from loopback.ports import free_port

REPO = Path(__file__).resolve().parent.parent.parent
SCRIPT = REPO / "config" / "deploy" / "local-cluster.sh"
HOT = "/demo/photo-kite.jpg?w=480&fm=webp"
SERVER = "host=127.0.0.1 port=5432 user=postgres connect_timeout=3"
ONE_NODE = "one node"
_STORE_CALL = re.compile(rb'"(GET|PUT|HEAD) /')


@dataclass
class ClusterPeer:
    """The cluster seen as one server (Caddy's port, or node A's own) for the timed runs."""

    label: str
    base_url: str
    folder: Path
    parts: tuple[str, ...]

    @property
    def busts_by_query(self) -> bool:
        return True

    def miss_path(self, job: Job) -> str:
        return HOT

    def hot_path(self, job: Job, index: int) -> str:
        return HOT

    def rss_roots(self) -> list[int]:
        return [int((self.folder / f"{part}.pid").read_text()) for part in self.parts]

    def running(self) -> bool:
        try:
            for pid in self.rss_roots():
                os.kill(pid, 0)
        except (OSError, ValueError):
            return False
        return True


@workload("two-nodes", rank=44, group="cluster")
def two_nodes(session: BenchSession) -> WorkloadResult | None:
    options = session.options
    result = WorkloadResult("two-nodes", "the demo photo, hits and misses: node A alone / two nodes via Caddy", 0)
    result.concurrency = options.concurrency
    try:
        for tool in ("caddy", "redis-server", "redis-cli", "curl", "setsid"):
            require_tool(tool)
        database = _create_database()
    except BenchError as error:
        result.notes.append(f"skipped: {error}")
        log(f"two-nodes: skipped, {error}")
        return result
    folder = session.work_dir / "cluster"
    ports = {name: str(free_port()) for name in ("CLUSTER_PORT", "NODE_A_PORT", "NODE_B_PORT", "REDIS_PORT")}
    ports["MOTO_PORT"] = str(free_port())
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("IMGATE_")},
        **ports,
        "CLUSTER_DIR": str(folder),
        "DATABASE_URL": f"{SERVER} dbname={database}",
        "IMGATE_WORKERS": str(max(1, options.cores // 2)),
        "IMGATE_LIMITER": "off",  # the demo's plan would refuse a benchmark's rate: this measures serving
        "IMGATE_ACCESS_LOG": "false",
    }
    try:
        _cluster(env, "start")
        front = ClusterPeer(SUBJECT, f"http://127.0.0.1:{ports['CLUSTER_PORT']}", folder, ("caddy", "node-a", "node-b"))
        alone = ClusterPeer(ONE_NODE, f"http://127.0.0.1:{ports['NODE_A_PORT']}", folder, ("node-a",))
        _measure(session, result, front, alone, folder)
    except BenchError as error:
        result.notes.append(f"left out: {error}")
    finally:
        try:
            _cluster(env, "stop")
        finally:
            _drop_database(database)
    result.notes.append(
        f"{options.cores} cores shared by both nodes, Caddy, moto, Redis and PostgreSQL: this shows the overhead "
        "of the extra hop and the shared stores, not the scaling of two machines"
    )
    return result


def _measure(
    session: BenchSession, result: WorkloadResult, front: ClusterPeer, alone: ClusterPeer, folder: Path
) -> None:
    options = session.options
    for kind, bust in (("hits", False), ("misses", True)):
        rows = [(Row(f"{ONE_NODE}, {kind}", "peer"), alone), (Row(f"two nodes via Caddy, {kind}", "subject"), front)]
        result.rows.extend(row for row, _ in rows)
        for peer in (alone, front):  # both nodes' memory tiers hold the hot URL before any timed hit
            for _ in range(4):
                _fetch(peer.base_url + HOT)
        for repeat in range(options.repeats):
            for row, peer in rows:
                before = _store_calls(folder)
                load = Load(peer.base_url, [HOT], bust, options.concurrency, options.duration_s, reconnect=bust)
                if timed_run(session, result, peer, row, load, repeat) and row.runs[-1].requests:
                    per_request = (_store_calls(folder) - before) / row.runs[-1].requests
                    result.extra.setdefault("store_calls_per_request", {})[row.label] = round(per_request, 2)
    for kind in ("hits", "misses"):
        mine, theirs = result.rate(f"two nodes via Caddy, {kind}"), result.rate(f"{ONE_NODE}, {kind}")
        if mine and theirs:
            result.extra[f"two_nodes_vs_one_{kind}"] = mine / theirs
            result.notes.append(f"{kind}: two nodes via Caddy / one node = {mine / theirs:.2f}x")
    calls = result.extra.get("store_calls_per_request")
    if calls:
        result.notes.append("result-store calls per request: " + ", ".join(f"{k} {v}" for k, v in calls.items()))


def _fetch(url: str) -> None:
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - loopback only
        if answer.status != 200:
            raise BenchError(f"{url} answered {answer.status}")
        answer.read()


def _store_calls(folder: Path) -> int:
    """Requests moto has logged so far (one line per S3 call)."""
    try:
        return len(_STORE_CALL.findall((folder / "moto.log").read_bytes()))
    except OSError:
        return 0


def _cluster(env: dict[str, str], action: str) -> None:
    done = subprocess.run(  # noqa: S603 - the shipped script, no shell
        [str(SCRIPT), action], cwd=REPO, env=env, capture_output=True, text=True, timeout=180
    )
    if done.returncode != 0:
        raise BenchError(f"local-cluster.sh {action} failed: {done.stderr.strip()[-400:]}")


def _create_database() -> str:
    import psycopg

    name = f"imgate_bench_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(f"{SERVER} dbname=postgres", autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")  # a name of hex digits made here, nothing from outside
    except psycopg.OperationalError as error:
        raise BenchError(f"no PostgreSQL at 127.0.0.1:5432 ({type(error).__name__})") from error
    return name


def _drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER} dbname=postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
