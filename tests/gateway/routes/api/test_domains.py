"""The custom domain routes of the management API, over an in-memory store and a real DNS server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from starlette.applications import Starlette

from gateway.accounts.keys import issue_api_key
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.accounts.secrets import SecretBox
from gateway.accounts.tokens import TokenSigner
from gateway.admin import AdminContext
from gateway.cache.memory_results import MemoryResultStore
from gateway.netguard import NetGuard
from gateway.routes.api import api_routes
from gateway.routes.api.runtime import ApiRuntime
from gateway.settings import Settings
from gateway.web.clientaddr import TrustedProxies
from tests.support.dns_server import DnsServer

pytestmark = pytest.mark.anyio

TARGET = "customers.img.example.net"
BASE = "/_/api/v1/workspaces/acme/domains"


@pytest.fixture(scope="module")
def dns() -> Iterator[DnsServer]:
    server = DnsServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def client(tmp_path: Path, dns: DnsServer) -> AsyncIterator[tuple[httpx.AsyncClient, str, str]]:
    store = MemoryAccountStore()
    store.create_workspace(Workspace("acme", plan="pro"))
    writer, _ = issue_api_key(store, "acme", "Production", "write")
    reader, _ = issue_api_key(store, "acme", "Reader", "read")
    settings = Settings(data_dir=str(tmp_path), cname_target=TARGET, dns_resolvers=(dns.address,), dns_timeout=0.5)
    box = SecretBox(Fernet.generate_key())
    ctx = AdminContext(store, settings, box, TokenSigner(box), MemoryResultStore(), lambda w: None, NetGuard())
    app = Starlette(routes=api_routes())
    app.state.api_runtime = ApiRuntime(ctx, TrustedProxies([]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as http:
        yield http, writer, reader


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def test_add_check_list_remove(client: tuple[httpx.AsyncClient, str, str], dns: DnsServer) -> None:
    http, writer, reader = client
    added = await http.post(BASE, json={"hostname": "IMG.acme.test"}, headers=bearer(writer))
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["hostname"] == "img.acme.test" and body["state"] == "pending" and body["checked_at"] is None
    # The CNAME target carries this domain's token: a CNAME to the shared target would prove nothing.
    assert body["records"][0] == {"type": "CNAME", "name": "img.acme.test", "value": f"{body['token']}.{TARGET}"}
    assert body["records"][1] == {"type": "TXT", "name": "_imgate-challenge.img.acme.test", "value": body["token"]}

    dns.set("_imgate-challenge.img.acme.test", ("TXT", body["token"]))
    checked = await http.post(f"{BASE}/img.acme.test/check", headers=bearer(writer))
    assert checked.status_code == 200 and checked.json()["state"] == "verified"

    listed = await http.get(BASE, headers=bearer(reader))
    assert [d["hostname"] for d in listed.json()["domains"]] == ["img.acme.test"]
    assert (await http.get(f"{BASE}/img.acme.test", headers=bearer(reader))).json()["state"] == "verified"

    removed = await http.delete(f"{BASE}/img.acme.test", headers=bearer(writer))
    assert removed.status_code == 200 and removed.json()["state"] == "removed"
    missing = await http.get(f"{BASE}/img.acme.test", headers=bearer(reader))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"


async def test_refusals_are_the_gateways_errors(client: tuple[httpx.AsyncClient, str, str]) -> None:
    http, writer, reader = client
    bad = await http.post(BASE, json={"hostname": "198.51.100.4"}, headers=bearer(writer))
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "hostname" in bad.json()["error"]["message"]
    suffix = await http.post(BASE, json={"hostname": "co.uk"}, headers=bearer(writer))
    assert suffix.status_code == 400 and "public suffix" in suffix.json()["error"]["message"]
    read_only = await http.post(BASE, json={"hostname": "img.acme.test"}, headers=bearer(reader))
    assert read_only.status_code == 403 and read_only.json()["error"]["code"] == "FORBIDDEN"
    extra = await http.post(BASE, json={"hostname": "img.acme.test", "x": 1}, headers=bearer(writer))
    assert extra.status_code == 400


async def test_hsts_setting(client: tuple[httpx.AsyncClient, str, str]) -> None:
    http, writer, _ = client
    answer = await http.put(f"{BASE}/settings", json={"hsts": True}, headers=bearer(writer))
    assert answer.status_code == 200 and answer.json() == {"hsts": True}
    wrong = await http.put(f"{BASE}/settings", json={"hsts": "yes"}, headers=bearer(writer))
    assert wrong.status_code == 400
