"""What the management API tests share: keys made with the ``imgate`` command, and a small client.

Keys are created as an operator creates the first one, with ``imgate key create`` against the gateway's data
folder (the secret is its only line on stdout); later ones may come from the API itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.integration.servers import GatewayProcess, imgate

API = "/_/api/v1"


def create_key(data_dir: Path, namespace: str, name: str, scope: str = "write") -> str:
    done = imgate(data_dir, "key", "create", namespace, "--name", name, "--scope", scope)
    assert done.returncode == 0, done.stderr
    secret = done.stdout.strip()
    assert secret.startswith("imk_live_") and "\n" not in secret
    return secret


class Api:
    """Calls to one gateway with one key: ``api.get("/workspaces/acme")``, paths relative to ``/_/api/v1``."""

    def __init__(self, gateway: GatewayProcess, secret: str | None, *, header: str = "bearer") -> None:
        self.gateway = gateway
        self.secret = secret
        self.header = header

    def headers(self, **extra: str) -> dict[str, str]:
        headers = dict(extra)
        if self.secret is not None:
            if self.header == "bearer":
                headers["Authorization"] = f"Bearer {self.secret}"
            else:
                headers["X-API-Key"] = self.secret
        return headers

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        return httpx.request(
            method,
            f"{self.gateway.url}{API}{path}",
            json=body if content is None else None,
            content=content,
            headers=self.headers(**(headers or {})),
            params=params,
            timeout=30,
        )

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return self.call("POST", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return self.call("PATCH", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("DELETE", path, **kwargs)


def error_code(response: httpx.Response) -> str:
    """The error's code, after checking the response is in the one error shape."""
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    code: str = body["error"]["code"]
    return code
