"""GET /_/tls/ask: 200 for verified domains and the gateway's own hosts, 404 otherwise; limited, network-gated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.accounts.memory import MemoryAccountStore
from tests.gateway.routes.test_custom_domains import HOST, accounts
from tests.gateway.web.running import Sent, call, running

pytestmark = pytest.mark.anyio


def code(sent: Sent) -> str:
    return str(json.loads(sent.body)["error"]["code"])


async def ask(app: object, domain: str, **kw: object) -> Sent:
    return await call(app, "/_/tls/ask", f"domain={domain}".encode(), headers=[("host", "127.0.0.1:8080")], **kw)  # type: ignore[arg-type]


async def test_verified_domains_and_own_hosts_are_allowed(tmp_path: Path) -> None:
    async with running(tmp_path, accounts(tmp_path), domain_recheck_interval="0") as app:
        allowed = await ask(app, HOST)
        assert allowed.status == 200 and json.loads(allowed.body) == {"domain": HOST, "allowed": True}
        assert allowed.header("cache-control") == "no-store"
        assert (await ask(app, "IMG.ACME.TEST.")).status == 200
        assert (await ask(app, "localhost")).status == 200
        for refused in ("pending.acme.test", "unknown.example", "not%20a%20host", "127.0.0.2"):
            sent = await ask(app, refused)
            assert sent.status == 404 and code(sent) == "NOT_FOUND", refused


async def test_a_removed_domain_is_refused(tmp_path: Path) -> None:
    store: MemoryAccountStore = accounts(tmp_path)
    async with running(tmp_path, store, tenancy_ttl="0.1", domain_recheck_interval="0") as app:
        assert (await ask(app, HOST)).status == 200
        store.domains.remove("acme", HOST)
        import asyncio

        await asyncio.sleep(0.2)
        assert (await ask(app, HOST)).status == 404


async def test_bad_asks(tmp_path: Path) -> None:
    async with running(tmp_path, accounts(tmp_path), domain_recheck_interval="0") as app:
        missing = await call(app, "/_/tls/ask", headers=[("host", "127.0.0.1")])
        assert missing.status == 400 and code(missing) == "VALIDATION_ERROR"
        twice = await call(app, "/_/tls/ask", b"domain=a.test&domain=b.test", headers=[("host", "127.0.0.1")])
        assert twice.status == 400
        posted = await call(app, "/_/tls/ask", b"domain=a.test", method="POST", headers=[("host", "127.0.0.1")])
        assert posted.status == 405 and posted.header("allow") == "GET, HEAD"


async def test_asks_are_limited_per_name(tmp_path: Path) -> None:
    async with running(tmp_path, accounts(tmp_path), tls_ask_per_minute="3", domain_recheck_interval="0") as app:
        answers = [(await ask(app, "scan.example")).status for _ in range(4)]
        assert answers == [404, 404, 404, 429]
        limited = await ask(app, "scan.example")
        assert code(limited) == "RATE_LIMITED" and limited.header("retry-after") == "60"
        assert (await ask(app, HOST)).status == 200  # another name is not held up


async def test_only_trusted_networks_may_ask_when_set(tmp_path: Path) -> None:
    async with running(tmp_path, accounts(tmp_path), tls_ask_networks="10.0.0.0/8", domain_recheck_interval="0") as app:
        refused = await ask(app, HOST)  # the test client is 127.0.0.1
        assert refused.status == 403 and code(refused) == "FORBIDDEN"
    async with running(
        tmp_path / "2", accounts(tmp_path / "2"), tls_ask_networks="127.0.0.0/8", domain_recheck_interval="0"
    ) as app:
        assert (await ask(app, HOST)).status == 200
