"""The whole gateway app in this process, driven over raw ASGI: lifespan, then requests one by one.

``running(store)`` starts it with the in-memory result store off and yields the ASGI app; ``call`` sends one
request and returns exactly what the app sent. ``RecordingHooks`` is an in-memory ``RequestHooks`` that
keeps what the request path told it (and can refuse, as a rate limit would).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.accounts.store import AccountStore
from gateway.app import create_app
from gateway.delivery.hooks import Outcome
from gateway.errors import RateLimited
from gateway.routes.fasthits import FastHits
from gateway.settings import load_settings
from gateway.tenancy import Tenant
from gateway.web.cors import Headers


@dataclass
class RecordingHooks:
    admitted: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    refuse: bool = False
    add: Headers = ()

    def admit(self, tenant: Tenant) -> Headers:
        self.admitted.append(tenant.workspace.namespace)
        if self.refuse:
            raise RateLimited(headers={"Retry-After": "7"})
        return self.add

    def record(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)


@contextlib.asynccontextmanager
async def running(
    tmp_path: Path, store: AccountStore, hooks: RecordingHooks | None = None, **settings: str
) -> AsyncIterator[FastHits]:
    # Limits off unless asked for (limiter="local"): the free plan's 10/s would refuse a test's bursts.
    environ = {"IMGATE_DATA_DIR": str(tmp_path), "IMGATE_RESULT_STORE": "none", "IMGATE_LIMITER": "off"}
    environ.update({f"IMGATE_{name.upper()}": value for name, value in settings.items()})
    app = create_app(load_settings(environ=environ), store, hooks)
    sent: list[MutableMapping[str, Any]] = []
    shutdown = asyncio.Event()
    messages = [{"type": "lifespan.startup"}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await shutdown.wait()
        return {"type": "lifespan.shutdown"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send))
    while not sent:
        await asyncio.sleep(0.01)
    assert sent[0]["type"] == "lifespan.startup.complete", sent
    try:
        yield app
    finally:
        shutdown.set()
        await task


@dataclass(frozen=True)
class Sent:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [value.decode("latin-1") for key, value in self.headers if key == name.lower().encode()]
        return ", ".join(values) if values else None

    def vary(self) -> list[str]:
        return [token.strip() for token in (self.header("vary") or "").split(",") if token.strip()]


async def call(
    app: Any, path: str, query: bytes = b"", method: str = "GET", headers: list[tuple[str, str]] | None = None
) -> Sent:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(name.lower().encode(), value.encode("latin-1")) for name, value in headers or []],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    out: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        out.append(message)

    await app(scope, receive, send)
    start = out[0]
    return Sent(start["status"], list(start["headers"]), b"".join(m.get("body", b"") for m in out[1:]))
