"""GET /_/tls/ask: 200 for verified domains and the gateway's own hosts, 404 otherwise; limited, network-gated."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from gateway.accounts.memory import MemoryAccountStore
from gateway.routes.tls import AskLimiter
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


async def test_flooding_a_verified_name_never_refuses_caddys_ask(tmp_path: Path) -> None:
    async with running(tmp_path, accounts(tmp_path), tls_ask_per_minute="3", domain_recheck_interval="0") as app:
        # Many handshakes at once, cold cache included: a verified name is never counted, so never limited.
        first = await asyncio.gather(*(ask(app, HOST) for _ in range(20)))
        assert [sent.status for sent in first] == [200] * 20
        assert [(await ask(app, HOST)).status for _ in range(50)] == [200] * 50
        # An unverified name is still limited in the same minute.
        assert [(await ask(app, "scan.example")).status for _ in range(4)] == [404, 404, 404, 429]


@pytest.mark.parametrize("header", [("x-forwarded-for", "198.51.100.7"), ("forwarded", "for=198.51.100.7")])
async def test_a_proxied_ask_is_refused(tmp_path: Path, header: tuple[str, str]) -> None:
    async with running(tmp_path, accounts(tmp_path), domain_recheck_interval="0") as app:
        # Caddy asks the gateway directly: an ask that passed through a proxy came from the public.
        proxied = await call(app, "/_/tls/ask", f"domain={HOST}".encode(), headers=[("host", "127.0.0.1"), header])
        assert proxied.status == 403 and code(proxied) == "FORBIDDEN"
        assert HOST.encode() not in proxied.body and b"198.51.100.7" not in proxied.body
        assert (await ask(app, HOST)).status == 200


def test_the_limit_is_a_fixed_window_that_runs_out() -> None:
    now = [1000.0]
    limiter = AskLimiter(per_window=3, window=60.0, clock=lambda: now[0])

    def one_ask() -> bool:
        refused = limiter.refuses("scan.example")
        if not refused:
            limiter.count("scan.example")
        return refused

    # One ask every 25 s: a cache whose entry's minute restarts on each write would count them forever and
    # refuse from the fourth on; fixed windows start afresh every minute.
    answers = []
    for _ in range(12):
        answers.append(one_ask())
        now[0] += 25.0
    assert answers == [False] * 12
    # Within one window, the fourth is refused until the window ends; Retry-After says how long.
    now[0] = 2000.0
    limiter = AskLimiter(per_window=3, window=60.0, clock=lambda: now[0])
    assert [one_ask() for _ in range(4)] == [False, False, False, True]
    now[0] += 45.0
    assert one_ask() and limiter.retry_after() == 15
    now[0] += 15.0
    assert not one_ask()


def test_a_window_full_of_names_refuses_new_ones_until_it_ends() -> None:
    now = [0.0]
    limiter = AskLimiter(per_window=5, window=60.0, max_names=2, clock=lambda: now[0])
    limiter.count("a.example")
    limiter.count("b.example")
    assert not limiter.refuses("a.example") and limiter.refuses("c.example")
    now[0] = 60.0
    assert not limiter.refuses("c.example")
