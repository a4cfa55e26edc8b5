"""A dashboard in this process for HTTP-level tests: a bare Starlette app with the dashboard's routes over an
in-memory account store, a clock the test moves, and a real SMTP server on loopback the codes are read from."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from gateway.accounts.memory import MemoryAccountStore
from tests.gateway.mail.smtp_server import SmtpServer

BASE = "http://127.0.0.1"
DASH = "/_/dashboard"
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no CSRF token"
    return found[1]


@dataclass
class Dash:
    store: MemoryAccountStore
    smtp: SmtpServer
    clock: Clock
    client: httpx.AsyncClient
    transport: httpx.ASGITransport

    def browser(self, base: str = BASE) -> httpx.AsyncClient:
        """Another browser: its own cookies."""
        return httpx.AsyncClient(transport=self.transport, base_url=base)

    async def ask_code(self, email: str, client: httpx.AsyncClient | None = None) -> httpx.Response:
        client = client or self.client
        return await client.post(f"{DASH}/signin", data={"csrf": await self.form_token(client), "email": email})

    async def form_token(self, client: httpx.AsyncClient) -> str:
        """The CSRF token of a form in this browser: the sign-in page's, or a signed-in page's."""
        page = await client.get(f"{DASH}/")
        if page.status_code == 303:
            page = await client.get(f"{DASH}/workspaces")
        return csrf_of(page.text)

    async def send_code(
        self, email: str, code: str, client: httpx.AsyncClient | None = None, csrf: str | None = None
    ) -> httpx.Response:
        client = client or self.client
        if csrf is None:
            csrf = await self.form_token(client)
        return await client.post(f"{DASH}/signin/code", data={"csrf": csrf, "email": email, "code": code})

    def sent(self, email: str) -> int:
        return sum(1 for message in self.smtp.inbox.messages if str(message["To"]).lower() == email.lower())

    async def sign_in(self, email: str, client: httpx.AsyncClient | None = None) -> httpx.Response:
        """Ask for a code, read it from the mail, send it back: the response to that last POST (303)."""
        client = client or self.client
        before = self.sent(email)
        asked = await self.ask_code(email, client)
        assert asked.status_code == 200, asked.text
        code = self.smtp.code_for(email, before + 1)
        answer = await self.send_code(email, code, client, csrf_of(asked.text))
        assert answer.status_code == 303, answer.text
        return answer

    async def sign_up(self, email: str, namespace: str, client: httpx.AsyncClient | None = None) -> str:
        """A first sign-in and its first workspace; answers the CSRF token of the session."""
        client = client or self.client
        await self.sign_in(email, client)
        welcome = await client.get(f"{DASH}/welcome")
        csrf = csrf_of(welcome.text)
        created = await client.post(f"{DASH}/workspaces", data={"csrf": csrf, "namespace": namespace})
        assert created.status_code == 303, created.text
        return csrf

    async def token(self, client: httpx.AsyncClient | None = None, path: str = "/workspaces") -> str:
        page = await (client or self.client).get(DASH + path)
        return csrf_of(page.text)


def error_code(response: httpx.Response) -> str:
    found = re.search(r'<p class="error" role="alert"><code>([A-Z_]+)</code>', response.text)
    assert found is not None, f"no error shown ({response.status_code})"
    return found[1]
