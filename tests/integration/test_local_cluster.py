"""config/deploy/ as an operator uses it. local-cluster.sh: start, requests through Caddy answered by both
nodes (a miss on one is a store hit on the other), a node killed and Caddy routing around it, and stop leaving
nothing behind. compose.yaml (not run here: no container runtime): every node setting it documents is one the
gateway accepts, and both Caddyfiles adapt, with their health checks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cryptography.fernet import Fernet

from gateway.settings import load_settings
from loopback.ports import free_port
from tests.conftest import REPO, require
from tests.gateway.accounts.postgres_support import postgres_dsn

pytestmark = pytest.mark.integration

__all__ = ["postgres_dsn"]  # a fixture: pytest finds it in the module's globals

DEPLOY = REPO / "config" / "deploy"
SCRIPT = DEPLOY / "local-cluster.sh"


def run(env: dict[str, str], action: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the shipped script, no shell
        [str(SCRIPT), action], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def pids(folder: Path) -> list[int]:
    return [int(path.read_text()) for path in folder.glob("*.pid")]


def alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_local_cluster_starts_balances_over_both_nodes_and_stops(tmp_path: Path, postgres_dsn: str) -> None:
    for tool in ("caddy", "redis-server", "redis-cli", "curl", "setsid"):
        require(shutil.which(tool) is not None, f"{tool} is not installed")
    folder = tmp_path / "cluster"
    ports = {name: str(free_port()) for name in ("CLUSTER_PORT", "NODE_A_PORT", "NODE_B_PORT", "REDIS_PORT")}
    ports["MOTO_PORT"] = str(free_port())
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("IMGATE_")},
        **ports,
        "CLUSTER_DIR": str(folder),
        "DATABASE_URL": postgres_dsn,
        "IMGATE_WORKERS": "1",
    }
    started = run(env, "start")
    try:
        assert started.returncode == 0, started.stderr + "\n".join(
            path.read_text()[-2000:] for path in folder.glob("*.log")
        )
        assert run(env, "status").stdout.split("\n")[:5] == [
            f"{part} running" for part in ("caddy", "node-b", "node-a", "moto", "redis")
        ]
        front = f"http://127.0.0.1:{ports['CLUSTER_PORT']}"
        nodes: Counter[str] = Counter()
        tiers: dict[str, str] = {}
        with httpx.Client(base_url=front, timeout=30) as client:
            for _ in range(6):
                answer = client.get("/demo/photo-kite.jpg?w=96")
                assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
                node = answer.headers["x-imgate-node"]
                nodes[node] += 1
                tiers.setdefault(node, answer.headers["x-imgate-cache"])
                time.sleep(0.3)  # the first node's store write lands before the other node is asked
            both = {f"127.0.0.1:{ports['NODE_A_PORT']}", f"127.0.0.1:{ports['NODE_B_PORT']}"}
            assert set(nodes) == both, nodes  # round robin over the two nodes
            assert sorted(tiers.values()) == ["miss", "store"], tiers  # rendered once, for both

            # Node b goes away: Caddy's checks take it out, every request is still answered (by a).
            node_b = int((folder / "node-b.pid").read_text())
            os.killpg(node_b, 9)
            after = [client.get(f"/demo/photo-kite.jpg?w={100 + n}") for n in range(6)]
            assert [answer.status_code for answer in after] == [200] * 6
            assert {answer.headers["x-imgate-node"] for answer in after} == {f"127.0.0.1:{ports['NODE_A_PORT']}"}
    finally:
        started_pids = pids(folder)
        stopped = run(env, "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert not list(folder.glob("*.pid"))
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in started_pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in started_pids if alive(pid)]


def test_the_compose_file_sets_only_valid_settings_and_both_caddyfiles_adapt(tmp_path: Path) -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    nodes = [name for name in services if name.startswith("gateway-")]
    assert nodes == ["gateway-a", "gateway-b"]
    for name in nodes:
        environ = {key: str(value) for key, value in services[name]["environment"].items()}
        assert environ["IMGATE_SECRET_KEY"] == "change-me"  # a placeholder the operator must replace...
        environ["IMGATE_SECRET_KEY"] = Fernet.generate_key().decode()  # ...with one key for every node
        empty = tmp_path / "empty.toml"  # only the compose file's values, not this checkout's config/gateway.toml
        empty.write_text("")
        settings = load_settings(config_path=empty, environ=environ)  # refuses any name that is no setting
        assert (settings.account_store, settings.result_store) == ("postgres", "s3")
        assert (settings.limiter, settings.usage_store, settings.capture_jobs_store) == ("redis",) * 3
        assert settings.capture.grid_url.startswith("http://selenium-hub:")
        assert settings.capture.proxy_public_host == name
        assert {"postgres", "redis", "minio"} <= set(services[name]["depends_on"])
    require(shutil.which("caddy") is not None, "caddy is not installed")
    env = {**os.environ, "CLUSTER_PORT": "8080", "NODE_A": "127.0.0.1:8081", "NODE_B": "127.0.0.1:8082"}
    for caddyfile in ("Caddyfile", "Caddyfile.cluster"):
        adapted = subprocess.run(  # noqa: S603 - a fixed argv
            ["caddy", "adapt", "--config", str(DEPLOY / caddyfile), "--adapter", "caddyfile"],  # noqa: S607
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
        )
        assert adapted.returncode == 0, adapted.stderr
        active = json.loads(adapted.stdout)["apps"]["http"]["servers"]
        checks = [
            handler["health_checks"]["active"]["uri"]
            for server in active.values()
            for route in server["routes"]
            for handler in _handlers(route)
            if handler.get("handler") == "reverse_proxy"
        ]
        assert checks and set(checks) == {"/_/health"}, caddyfile  # every proxy to the nodes checks their health


def _handlers(route: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every handler of a route of Caddy's JSON config, subroutes included."""
    for handler in route.get("handle", []):
        yield handler
        for inner in handler.get("routes", []):
            yield from _handlers(inner)
