"""One call from top to bottom, in this process: the error mapping, one audit row per call, the JSON shape of
every refusal, and the webhook switched off. The routes run in a bare Starlette app over an in-memory store."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
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
from gateway.admin import AdminContext, Conflict, Invalid, NotFound
from gateway.cache.memory_results import MemoryResultStore
from gateway.errors import GatewayError
from gateway.netguard import NetGuard
from gateway.routes.api import api_routes
from gateway.routes.api.endpoint import ApiCall, Endpoint, http_error, routes
from gateway.routes.api.runtime import ApiRuntime
from gateway.settings import Settings
from gateway.web.clientaddr import TrustedProxies

pytestmark = pytest.mark.anyio


async def _explode(call: ApiCall) -> None:
    raise RuntimeError("a bug, with a secret in it: hunter2")


async def _refuse(call: ApiCall) -> None:
    raise Conflict("in use")


EXTRA = (
    Endpoint("GET", "/_/api/v1/workspaces/{ns}/explode", "A bug", _explode, "test"),
    Endpoint("POST", "/_/api/v1/workspaces/{ns}/refuse", "A refusal", _refuse, "test", scope="write"),
)


class Setup:
    def __init__(self, store: MemoryAccountStore, client: httpx.AsyncClient, secret: str, reader: str) -> None:
        self.store = store
        self.client = client
        self.secret = secret
        self.reader = reader

    def auth(self, secret: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {secret or self.secret}"}

    def rows(self, namespace: str = "acme") -> list[tuple[str, int, str]]:
        page = self.store.list_audit(namespace, 500)
        return [(row.operation, row.status, row.actor) for row in page.entries]


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    store = MemoryAccountStore()
    store.create_workspace(Workspace("acme"))
    secret, _ = issue_api_key(store, "acme", "Production", "write")
    reader, _ = issue_api_key(store, "acme", "Reader", "read")
    settings = Settings(data_dir=str(tmp_path), api_max_body_bytes=1024)
    box = SecretBox(Fernet.generate_key())
    ctx = AdminContext(store, settings, box, TokenSigner(box), MemoryResultStore(), lambda workspace: None, NetGuard())
    app = Starlette(routes=[*routes(EXTRA), *api_routes()])
    app.state.api_runtime = ApiRuntime(ctx, TrustedProxies([]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        yield Setup(store, client, secret, reader)


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (Invalid("alpha: must be 0-100", "alpha"), "VALIDATION_ERROR", 400),
        (NotFound("no mark logo in acme"), "NOT_FOUND", 404),
        (Conflict("mark logo already exists in acme"), "CONFLICT", 409),
    ],
)
def test_admin_errors_become_http_errors_with_their_message(error: Exception, code: str, status: int) -> None:
    mapped = http_error(error)  # type: ignore[arg-type]
    assert isinstance(mapped, GatewayError)
    assert (mapped.code, mapped.status, mapped.message) == (code, status, str(error))


async def test_one_audit_row_per_call_even_when_the_admin_operation_audits_itself(setup: Setup) -> None:
    response = await setup.client.patch(
        "/_/api/v1/workspaces/acme", json={"capture_retention": 0}, headers=setup.auth()
    )
    assert response.status_code == 200
    assert setup.rows() == [("PATCH /_/api/v1/workspaces/{ns}", 200, f"key:{setup.secret[:12]}")]


async def test_a_bug_is_a_500_in_the_error_shape_and_is_audited(setup: Setup) -> None:
    response = await setup.client.get("/_/api/v1/workspaces/acme/explode", headers=setup.auth())
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "INTERNAL", "message": "internal error"}}
    assert response.headers["cache-control"] == "no-store"
    assert setup.rows()[0][:2] == ("GET /_/api/v1/workspaces/{ns}/explode", 500)


async def test_a_refusal_from_a_handler_is_mapped_and_audited(setup: Setup) -> None:
    response = await setup.client.post("/_/api/v1/workspaces/acme/refuse", headers=setup.auth())
    assert response.status_code == 409 and response.json()["error"] == {"code": "CONFLICT", "message": "in use"}
    assert setup.rows()[0][:2] == ("POST /_/api/v1/workspaces/{ns}/refuse", 409)


async def test_unauthenticated_calls_write_no_row(setup: Setup) -> None:
    for headers in ({}, {"X-API-Key": "imk_live_wrong"}):
        assert (await setup.client.get("/_/api/v1/workspaces/acme", headers=headers)).status_code == 401
    assert setup.rows() == []


async def test_the_body_cap_is_the_setting(setup: Setup) -> None:
    body = {"allowed_origins": ["https://a.example"] * 100}
    response = await setup.client.patch("/_/api/v1/workspaces/acme", json=body, headers=setup.auth())
    assert response.status_code == 413 and response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "1024 bytes" in response.json()["error"]["message"]


async def test_every_answer_is_no_store_the_204s_too(setup: Setup) -> None:
    created = await setup.client.post(
        "/_/api/v1/workspaces/acme/marks", json={"name": "credit", "text": "x"}, headers=setup.auth()
    )
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    deleted = await setup.client.delete("/_/api/v1/workspaces/acme/marks/credit", headers=setup.auth())
    assert deleted.status_code == 204 and deleted.headers["cache-control"] == "no-store" and deleted.content == b""


async def test_no_key_deletes_the_workspace(setup: Setup) -> None:
    # Deleting is an owner's (dashboard) or the operator's (imgate): a leaked write key must not destroy it.
    response = await setup.client.delete("/_/api/v1/workspaces/acme", headers=setup.auth())
    assert response.status_code == 403 and response.json()["error"]["code"] == "FORBIDDEN"
    assert "not an API key" in response.json()["error"]["message"]
    assert setup.store.get_workspace("acme") is not None
    assert setup.rows()[0][:2] == ("DELETE /_/api/v1/workspaces/{ns}", 403)


async def test_a_failed_deletion_stays_in_the_workspace(setup: Setup) -> None:
    response = await setup.client.delete("/_/api/v1/workspaces/acme", headers=setup.auth(setup.reader))
    assert response.status_code == 403
    assert setup.rows()[0][:2] == ("DELETE /_/api/v1/workspaces/{ns}", 403)


async def test_the_webhook_is_off_without_a_secret(setup: Setup) -> None:
    response = await setup.client.post("/_/billing/stripe", content=b"{}", headers={"Stripe-Signature": "t=1,v1=0"})
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"


async def test_no_answer_shows_a_local_origins_folder(setup: Setup, tmp_path: Path) -> None:
    folder = str(tmp_path / "operator-originals")
    workspace = setup.store.get_workspace("acme")
    assert workspace is not None
    setup.store.update_workspace(dataclasses.replace(workspace, origin_kind="local", origin={"root": folder}))
    for path in ("/_/api/v1/workspaces/acme", "/_/api/v1/workspaces/acme/export"):
        response = await setup.client.get(path, headers=setup.auth(setup.reader if path.endswith("acme") else None))
        assert response.status_code == 200, response.text
        shown = response.json()["workspace"] if path.endswith("/export") else response.json()
        assert shown["origin"] == {"kind": "local"}
        assert folder not in response.text
