"""The dashboard inside the whole gateway app, in this process: a change made in a page is seen by the image
route of the same app, as it is on a node. Codes go to a real SMTP server on loopback; the workspace reads the
demo images from a folder (the operator's to give, so the test sets it on the store)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from gateway.accounts.memory import MemoryAccountStore
from tests.conftest import DEMO_IMAGES
from tests.gateway.dashboard.support import BASE, Clock, Dash
from tests.gateway.mail.smtp_server import HOST, SmtpServer
from tests.gateway.web.running import running

# Longer than the gateway's tenancy_ttl here: a change in a page reaches the image route after it.
SETTLE = 0.1


async def whole_gateway(tmp_path: Path) -> AsyncIterator[Dash]:
    """A ``Dash`` whose client talks to the whole gateway (dashboard, image route, fast hits)."""
    store = MemoryAccountStore()
    with SmtpServer() as smtp:
        settings = {
            "secret_key": Fernet.generate_key().decode(),
            "mailer": "smtp",
            "smtp_host": HOST,
            "smtp_port": str(smtp.port),
            "smtp_security": "none",
            "signin_codes_per_client": "6",
            "tenancy_ttl": "0.05",
        }
        async with running(tmp_path, store, None, **settings) as app:
            transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
                yield Dash(store, smtp, Clock(), client, transport)


async def serve_demo_images(dash: Dash, namespace: str) -> None:
    workspace = dash.store.get_workspace(namespace)
    assert workspace is not None
    origin = {"root": str(DEMO_IMAGES)}
    dash.store.update_workspace(dataclasses.replace(workspace, origin_kind="local", origin=origin))
    await settle()


async def settle() -> None:
    await asyncio.sleep(SETTLE)


def error_of(response: httpx.Response) -> str:
    """The stable code of a gateway JSON error."""
    return str(json.loads(response.content)["error"]["code"])
