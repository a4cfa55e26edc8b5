"""Requests whose Host is a custom domain: the whole path is the key, nothing is reserved, unknown hosts are 404."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from gateway.accounts.domains import VERIFIED, Domain
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from tests.conftest import DEMO_IMAGES
from tests.gateway.web.running import RecordingHooks, Sent, call, running

pytestmark = pytest.mark.anyio

HOST = "img.acme.test"
# Every app here runs with domain_recheck_interval="0": the background re-check would ask the system's DNS about
# these made-up names (and rewrite their states).


def origin(tmp_path: Path) -> Path:
    root = tmp_path / "origin"
    (root / "_").mkdir(parents=True)
    shutil.copy(DEMO_IMAGES / "photo-kite.jpg", root / "photo-kite.jpg")
    shutil.copy(DEMO_IMAGES / "photo-grey.jpg", root / "_" / "health")  # a key that looks like a gateway path
    return root


def accounts(tmp_path: Path, *, hsts: bool = False) -> MemoryAccountStore:
    store = MemoryAccountStore()
    root = str(origin(tmp_path))
    store.create_workspace(
        Workspace("acme", origin_kind="local", origin={"root": root}, plan="pro", custom_domain_hsts=hsts)
    )
    verify(store, HOST)
    store.domains.add(Domain("pending.acme.test", "acme"), limit=5)
    return store


def verify(store: MemoryAccountStore, host: str) -> None:
    added = store.domains.add(Domain(host, "acme"), limit=5)
    assert store.domains.save_check(dataclasses.replace(added, state=VERIFIED, checked_at=1.0)) is not None


def error_code(sent: Sent) -> str:
    return str(json.loads(sent.body)["error"]["code"])


async def test_a_verified_domain_serves_the_whole_path_as_the_key(tmp_path: Path) -> None:
    async with running(tmp_path, accounts(tmp_path), domain_recheck_interval="0") as app:
        on_domain = await call(app, "/photo-kite.jpg", b"w=40", headers=[("host", HOST)])
        assert on_domain.status == 200 and on_domain.header("content-type") == "image/jpeg"
        assert on_domain.header("x-imgate-cache") == "miss"
        # The namespace URL of the same image is the same cache entry.
        on_namespace = await call(app, "/acme/photo-kite.jpg", b"w=40", headers=[("host", "127.0.0.1:8080")])
        assert on_namespace.status == 200 and on_namespace.header("x-imgate-cache") == "memory"
        assert on_namespace.body == on_domain.body and on_namespace.header("etag") == on_domain.header("etag")
        again = await call(app, "/photo-kite.jpg", b"w=40", headers=[("host", f"{HOST.upper()}.:443")])
        assert again.status == 200 and again.header("x-imgate-cache") == "memory"


async def test_nothing_is_reserved_on_a_custom_domain(tmp_path: Path) -> None:
    async with running(tmp_path, accounts(tmp_path), domain_recheck_interval="0") as app:
        health = await call(app, "/_/health", headers=[("host", HOST)])
        assert health.status == 200 and health.header("content-type") == "image/jpeg"  # the key "_/health"
        api = await call(app, "/_/api/v1/key", headers=[("host", HOST), ("authorization", "Bearer x")])
        assert api.status == 404 and error_code(api) == "NOT_FOUND"
        ask = await call(app, "/_/tls/ask", b"domain=img.acme.test", headers=[("host", HOST)])
        assert ask.status == 400 and b"domain: is not a known parameter" in ask.body  # the image URL parser's
        posted = await call(app, "/_/api/v1/workspaces/acme/keys", method="POST", headers=[("host", HOST)])
        assert posted.status == 405 and error_code(posted) == "METHOD_NOT_ALLOWED"
        # The namespace is no part of the path there: /acme/photo-kite.jpg is the key acme/photo-kite.jpg.
        assert (await call(app, "/acme/photo-kite.jpg", headers=[("host", HOST)])).status == 404
        # And the gateway's own host keeps its paths.
        own = await call(app, "/_/health", headers=[("host", "localhost:8080")])
        assert own.status == 200 and json.loads(own.body)["status"] in ("ok", "degraded")


async def test_unknown_and_unverified_hosts_are_404(tmp_path: Path) -> None:
    async with running(tmp_path, accounts(tmp_path), domain_recheck_interval="0") as app:
        for host in ("unknown.example", "pending.acme.test", "not a host", "evil.example:1234"):
            sent = await call(app, "/photo-kite.jpg", headers=[("host", host)])
            assert sent.status == 404 and error_code(sent) == "NOT_FOUND", host
            assert b"acme" not in sent.body


async def test_verifying_and_removing_take_effect_within_the_tenancy_ttl(tmp_path: Path) -> None:
    store = accounts(tmp_path)
    async with running(tmp_path, store, tenancy_ttl="0.2", domain_recheck_interval="0") as app:
        host = [("host", "pending.acme.test")]
        assert (await call(app, "/photo-kite.jpg", headers=host)).status == 404
        pending = store.domains.get("acme", "pending.acme.test")
        assert pending is not None
        store.domains.save_check(dataclasses.replace(pending, state=VERIFIED, checked_at=2.0))
        await asyncio.sleep(0.3)
        assert (await call(app, "/photo-kite.jpg", headers=host)).status == 200
        store.domains.remove("acme", "pending.acme.test")
        await asyncio.sleep(0.3)
        assert (await call(app, "/photo-kite.jpg", headers=host)).status == 404


async def test_forwarded_host_and_proto_count_only_from_trusted_proxies(tmp_path: Path) -> None:
    forwarded = [("host", "127.0.0.1:8080"), ("x-forwarded-host", HOST), ("x-forwarded-proto", "https")]
    async with running(tmp_path, accounts(tmp_path, hsts=True), domain_recheck_interval="0") as app:
        # The peer (127.0.0.1) is no trusted proxy: the header is the client's word, and the Host counts.
        assert (await call(app, "/photo-kite.jpg", headers=forwarded)).status == 404  # /photo-kite.jpg: no key
        direct = await call(app, "/photo-kite.jpg", headers=[("host", HOST), ("x-forwarded-proto", "https")])
        assert direct.status == 200 and direct.header("strict-transport-security") is None
    async with running(
        tmp_path / "2", accounts(tmp_path / "2", hsts=True), trusted_proxies="127.0.0.0/8", domain_recheck_interval="0"
    ) as app:
        proxied = await call(app, "/photo-kite.jpg", headers=forwarded)
        assert proxied.status == 200 and proxied.header("strict-transport-security") == "max-age=63072000"
        hit = await call(app, "/photo-kite.jpg", headers=forwarded)
        assert hit.header("x-imgate-cache") == "memory" and hit.header("strict-transport-security") is not None
        plain = await call(app, "/photo-kite.jpg", headers=[*forwarded[:2], ("x-forwarded-proto", "http")])
        assert plain.status == 200 and plain.header("strict-transport-security") is None
        own = await call(app, "/acme/photo-kite.jpg", headers=[("host", "127.0.0.1"), ("x-forwarded-proto", "https")])
        assert own.status == 200 and own.header("strict-transport-security") is None


async def test_hsts_is_off_by_default(tmp_path: Path) -> None:
    forwarded = [("host", "127.0.0.1"), ("x-forwarded-host", HOST), ("x-forwarded-proto", "https")]
    async with running(tmp_path, accounts(tmp_path), trusted_proxies="127.0.0.0/8", domain_recheck_interval="0") as app:
        sent = await call(app, "/photo-kite.jpg", headers=forwarded)
        assert sent.status == 200 and sent.header("strict-transport-security") is None


async def test_hooks_see_the_domains_workspace(tmp_path: Path) -> None:
    hooks = RecordingHooks()
    async with running(tmp_path, accounts(tmp_path), hooks, domain_recheck_interval="0") as app:
        await call(app, "/photo-kite.jpg", b"w=20", headers=[("host", HOST)])
        await call(app, "/photo-kite.jpg", b"w=20", headers=[("host", HOST)])  # the fast path's hit
        await call(app, "/photo-kite.jpg", headers=[("host", "unknown.example")])
    assert hooks.admitted == ["acme", "acme"]
    assert [(o.namespace, o.status) for o in hooks.outcomes] == [("acme", 200), ("acme", 200), ("", 404)]


async def test_the_domains_root_is_the_namespaces_root(tmp_path: Path) -> None:
    # `/?src=…` and `/?capture=…` on the domain are `/acme/?src=…` and `/acme/?capture=…`: the same parse.
    async with running(tmp_path, accounts(tmp_path), domain_recheck_interval="0") as app:
        for query in (b"", b"src=https%3A%2F%2Fcdn.example%2Fa.jpg&w=bad", b"capture=https%3A%2F%2Fexample.com%2F"):
            on_domain = await call(app, "/", query, headers=[("host", HOST)])
            on_namespace = await call(app, "/acme/", query, headers=[("host", "127.0.0.1")])
            assert on_domain.status == on_namespace.status and on_domain.body == on_namespace.body, query
            assert on_domain.status >= 400
