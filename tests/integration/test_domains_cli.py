"""``imgate domain …`` against a real gateway (Granian, two workers) and a real DNS server on loopback."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.accounts.models import Workspace
from tests.conftest import DEMO_IMAGES
from tests.integration.servers import GatewayProcess, imgate
from tests.support.dns_server import DnsServer

pytestmark = pytest.mark.integration

TARGET = "customers.img.example.net"
HOST = "img.acme.test"


@pytest.fixture
def dns() -> Iterator[DnsServer]:
    server = DnsServer().start()
    try:
        yield server
    finally:
        server.stop()


def wait_for(status: int, url: str, host: str, timeout: float = 5.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        answer = httpx.get(url, headers={"Host": host}, timeout=10)
        if answer.status_code == status or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


def test_add_check_serve_remove(tmp_path: Path, dns: DnsServer) -> None:
    root = tmp_path / "originals"
    root.mkdir()
    shutil.copy(DEMO_IMAGES / "photo-kite.jpg", root / "photo-kite.jpg")
    env = {"IMGATE_CNAME_TARGET": TARGET, "IMGATE_DNS_RESOLVERS": dns.address, "IMGATE_DNS_TIMEOUT": "0.5"}
    gateway = GatewayProcess(
        tmp_path / "data", workers=2, cname_target=TARGET, dns_resolvers=dns.address, domain_recheck_interval="0"
    )
    gateway.add_workspace(Workspace("acme", origin_kind="local", origin={"root": str(root)}, plan="pro"))
    gateway.start()
    try:
        url = f"{gateway.url}/photo-kite.jpg?w=48"
        added = imgate(gateway.data_dir, "domain", "add", "acme", "IMG.acme.test", **env)
        assert added.returncode == 0, added.stderr
        token = added.stdout.split(f"_imgate-challenge.{HOST}\tTXT\t")[1].split()[0]
        # The CNAME target carries the domain's own token, the TXT record holds it.
        assert f"{HOST}\tCNAME\t{token}.{TARGET}" in added.stdout
        assert wait_for(404, url, HOST).status_code == 404  # pending: not served

        pending = imgate(gateway.data_dir, "domain", "check", "acme", HOST, **env)
        assert pending.returncode == 1 and "pending" in pending.stdout and "NXDOMAIN" in pending.stdout

        dns.set(HOST, ("CNAME", f"{token}.{TARGET}"))
        verified = imgate(gateway.data_dir, "domain", "check", "acme", HOST, **env)
        assert verified.returncode == 0 and f"{HOST}\tverified" in verified.stdout
        served = wait_for(200, url, HOST)
        assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
        listed = imgate(gateway.data_dir, "domain", "list", "acme", **env)
        assert listed.stdout.startswith(f"{HOST}\tverified")

        other = imgate(gateway.data_dir, "domain", "add", "acme", "203.0.113.5", **env)
        assert other.returncode == 1 and other.stderr.startswith("error: hostname: an IP address")

        removed = imgate(gateway.data_dir, "domain", "remove", "acme", HOST, **env)
        assert removed.returncode == 0, removed.stderr
        assert wait_for(404, url, HOST).status_code == 404
        assert imgate(gateway.data_dir, "domain", "list", "acme", **env).stdout == ""
    finally:
        gateway.stop()
