from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from starlette.applications import Starlette

from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.secrets import SecretBox
from gateway.accounts.tokens import TokenSigner
from gateway.admin import AdminContext
from gateway.cache.memory_results import MemoryResultStore
from gateway.dashboard import dashboard_routes
from gateway.dashboard.runtime import DashboardRuntime
from gateway.mail import SmtpMailer
from gateway.netguard import NetGuard
from gateway.settings import Settings
from tests.gateway.dashboard.support import BASE, Clock, Dash
from tests.gateway.mail.smtp_server import HOST, SmtpServer


@pytest.fixture
async def dash(tmp_path: Path) -> AsyncIterator[Dash]:
    store = MemoryAccountStore()
    settings = Settings(data_dir=str(tmp_path), signin_codes_per_client=6)
    box = SecretBox(Fernet.generate_key())
    ctx = AdminContext(store, settings, box, TokenSigner(box), MemoryResultStore(), lambda workspace: None, NetGuard())
    clock = Clock()
    with SmtpServer() as smtp:
        mailer = SmtpMailer(HOST, smtp.port, sender="imgate <no-reply@example.com>", security="none", timeout=5)
        app = Starlette(routes=dashboard_routes())
        DashboardRuntime.install(app, DashboardRuntime.over(ctx, mailer, clock))
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            yield Dash(store, smtp, clock, client, transport)
