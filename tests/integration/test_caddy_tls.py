"""Caddy in front of the gateway, from the shipped config/Caddyfile: on-demand TLS that asks the gateway.

Caddy (Debian's package) runs with its internal CA (``local_certs``) on loopback ports, with the shipped file's
sites, snippets and ``ask`` pointed at a gateway started for the test. A client that trusts only Caddy's root
gets a valid certificate and the image for a verified domain; for a domain that is not verified the handshake
fails and no certificate was issued; a domain removed before its first visit never gets one.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.accounts.domains import VERIFIED, Domain
from gateway.accounts.models import Workspace
from gateway.accounts.plans import PlanOverrides
from gateway.accounts.sqlite import SqliteAccountStore
from loopback.ports import free_port
from loopback.processes import ManagedProcess
from tests.conftest import DEMO_IMAGES, REPO, require
from tests.integration.servers import GatewayProcess

pytestmark = pytest.mark.integration

CADDY = shutil.which("caddy")
OWN_HOST = "img.gateway.test"
VERIFIED_HOST = "img.customer.test"
LATE_HOST = "late.customer.test"  # verified, then removed before anyone visits it
PENDING_HOST = "pending.customer.test"


@dataclasses.dataclass
class Deployment:
    gateway: GatewayProcess
    https_port: int
    http_port: int
    storage: Path
    root_ca: Path
    log: Path

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.root_ca))

    def get(self, host: str, path: str) -> httpx.Response:
        # Connect to loopback, but send the name in SNI and Host, as `curl --resolve host:port:127.0.0.1` does.
        with httpx.Client(verify=self.context(), timeout=20) as client:
            return client.get(
                f"https://127.0.0.1:{self.https_port}{path}",
                headers={"Host": host},
                extensions={"sni_hostname": host},
            )

    def issued(self, host: str) -> bool:
        return any(self.storage.glob(f"certificates/*/{host}/{host}.crt"))


def caddyfile(shipped: str, upstream: str, http_port: int, https_port: int, storage: Path) -> str:
    """The shipped file with the test's ports, hosts and CA: same sites, snippets, ask and policies."""
    text = shipped.replace("127.0.0.1:8080", upstream).replace("img.example.com", OWN_HOST)
    text = text.replace("email ops@example.com", "\n\t".join((
        "local_certs",
        "skip_install_trust",
        "admin off",
        f"http_port {http_port}",
        f"https_port {https_port}",
        f"storage file_system {storage}",
    )))  # fmt: skip
    assert "ask http://" + upstream + "/_/tls/ask" in text and "local_certs" in text
    return text


def wait_for_port(port: int, process: ManagedProcess, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.running():
            raise RuntimeError(f"caddy stopped: {process.log_path.read_text()[-2000:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("caddy did not listen in time")


def add_domains(data_dir: Path) -> None:
    store = SqliteAccountStore(data_dir / "imgate.sqlite3")
    try:
        root = data_dir / "originals"
        root.mkdir(parents=True, exist_ok=True)
        shutil.copy(DEMO_IMAGES / "photo-kite.jpg", root / "photo-kite.jpg")
        overrides = PlanOverrides(custom_domains=3)
        workspace = Workspace("acme", origin_kind="local", origin={"root": str(root)}, limit_overrides=overrides)
        store.create_workspace(workspace)
        for host in (VERIFIED_HOST, LATE_HOST):
            added = store.domains.add(Domain(host, "acme"), limit=3)
            store.domains.save_check(dataclasses.replace(added, state=VERIFIED, checked_at=time.time()))
        store.domains.add(Domain(PENDING_HOST, "acme"), limit=3)
    finally:
        store.close()


def remove(data_dir: Path, host: str) -> None:
    store = SqliteAccountStore(data_dir / "imgate.sqlite3")
    try:
        assert store.domains.remove("acme", host) is not None
    finally:
        store.close()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    require(CADDY is not None, "caddy (Debian's package) is needed for the TLS integration test")
    assert CADDY is not None
    base = tmp_path_factory.mktemp("caddy")
    data_dir = base / "gateway"
    add_domains(data_dir)
    gateway = GatewayProcess(
        data_dir,
        public_hosts=f"127.0.0.1,localhost,{OWN_HOST}",
        trusted_proxies="127.0.0.0/8",
        tls_ask_networks="127.0.0.0/8",
        domain_recheck_interval="0",
    )
    gateway.start()
    http_port, https_port = free_port("127.0.0.1"), free_port("127.0.0.1")
    storage = base / "caddy-storage"
    config = base / "Caddyfile"
    shipped = (REPO / "config" / "Caddyfile").read_text()
    config.write_text(caddyfile(shipped, f"127.0.0.1:{gateway.port}", http_port, https_port, storage))
    env = {**os.environ, "HOME": str(base), "XDG_DATA_HOME": str(base / "xdg-data"), "XDG_CONFIG_HOME": str(base)}
    log = base / "caddy.log"
    caddy = ManagedProcess("caddy", [CADDY, "run", "--config", str(config), "--adapter", "caddyfile"], log, env=env)
    try:
        wait_for_port(https_port, caddy)
        root_ca = storage / "pki" / "authorities" / "local" / "root.crt"
        deadline = time.monotonic() + 20
        while not root_ca.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        yield Deployment(gateway, https_port, http_port, storage, root_ca, log)
    finally:
        caddy.stop()
        gateway.stop()


def test_a_verified_domain_gets_a_certificate_and_its_images(deployment: Deployment) -> None:
    assert not deployment.issued(VERIFIED_HOST)
    started = time.perf_counter()
    first = deployment.get(VERIFIED_HOST, "/photo-kite.jpg?w=64")
    first_seconds = time.perf_counter() - started
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "image/jpeg"
    assert deployment.issued(VERIFIED_HOST)
    started = time.perf_counter()
    again = deployment.get(VERIFIED_HOST, "/photo-kite.jpg?w=64")
    again_seconds = time.perf_counter() - started
    assert again.status_code == 200 and again.headers["x-imgate-cache"] == "memory"
    print(f"first issuance and answer: {first_seconds:.3f} s; with the certificate issued: {again_seconds:.3f} s")


def test_the_gateways_own_host_has_hsts_and_its_paths(deployment: Deployment) -> None:
    health = deployment.get(OWN_HOST, "/_/health")
    assert health.status_code == 200 and health.json()["status"] in ("ok", "degraded")
    assert health.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains; preload"
    image = deployment.get(OWN_HOST, "/acme/photo-kite.jpg?w=64")
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    # A custom domain gets no HSTS unless its workspace turned it on.
    assert "strict-transport-security" not in deployment.get(VERIFIED_HOST, "/photo-kite.jpg?w=64").headers


def test_the_public_site_never_passes_the_tls_ask_or_the_metrics_on(deployment: Deployment) -> None:
    for path in (f"/_/tls/ask?domain={VERIFIED_HOST}", "/_/tls/ask/", "/_/metrics"):
        answer = deployment.get(OWN_HOST, path)
        # Caddy's own 404 (an empty body), not the gateway's JSON: the request never reached the gateway.
        assert answer.status_code == 404 and answer.content == b"", path
    # On a custom domain they are image keys, answered by the gateway (no such image).
    key = deployment.get(VERIFIED_HOST, "/_/metrics")
    assert key.status_code == 404 and key.json()["error"]["code"] == "NOT_FOUND"


def test_an_unverified_domain_gets_no_certificate(deployment: Deployment) -> None:
    for host in (PENDING_HOST, "never-added.customer.test"):
        with pytest.raises(httpx.ConnectError):
            deployment.get(host, "/photo-kite.jpg")
        assert not deployment.issued(host)


def test_removing_a_domain_stops_new_issuance(deployment: Deployment) -> None:
    remove(deployment.gateway.data_dir, LATE_HOST)
    time.sleep(0.5)  # the gateway's tenancy TTL (0.2 s in tests)
    with pytest.raises(httpx.ConnectError):
        deployment.get(LATE_HOST, "/photo-kite.jpg")
    assert not deployment.issued(LATE_HOST)


def test_plain_http_is_redirected(deployment: Deployment) -> None:
    answer = httpx.get(
        f"http://127.0.0.1:{deployment.http_port}/photo-kite.jpg", headers={"Host": VERIFIED_HOST}, timeout=10
    )
    assert answer.status_code == 308
    assert answer.headers["location"] == f"https://{VERIFIED_HOST}/photo-kite.jpg"
