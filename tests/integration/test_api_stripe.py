"""``POST /_/billing/stripe`` over real HTTP: signed, tampered, expired and replayed deliveries.

Payloads are signed locally with the ``stripe`` library's own helper (``WebhookSignature``: HMAC-SHA256 of
``"{timestamp}.{body}"`` with the endpoint secret, sent as ``t=…,v1=…``); nothing leaves the machine.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe

from gateway.accounts.billing import Billing
from gateway.accounts.models import Workspace
from tests.integration.api_client import Api, create_key, error_code
from tests.integration.servers import GatewayProcess

pytestmark = pytest.mark.integration

SECRET = "whsec_test_" + "s3cr3t" * 6
CUSTOMER = "cus_TESTpaying01"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    process = GatewayProcess(tmp_path_factory.mktemp("stripe"), stripe_webhook_secret=SECRET)
    process.data_dir.mkdir(parents=True, exist_ok=True)
    process.add_workspace(Workspace(namespace="paying", billing=Billing(stripe_customer_id=CUSTOMER)))
    with process:
        yield process


@pytest.fixture(scope="module")
def api(gateway: GatewayProcess) -> Api:
    return Api(gateway, create_key(gateway.data_dir, "paying", "Billing check", "read"))


def event(event_id: str, kind: str, status: str = "active", lookup_key: str = "pro_monthly", at: int = 0) -> bytes:
    created = at or int(time.time())
    subscription = {
        "id": "sub_TEST1",
        "object": "subscription",
        "customer": CUSTOMER,
        "status": status,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": "si_1",
                    "price": {"id": "price_1", "lookup_key": lookup_key},
                    "current_period_end": created + 86400,
                }
            ],
        },
    }
    body: dict[str, Any] = {"id": event_id, "object": "event", "type": kind, "created": created}
    body["data"] = {"object": subscription}
    return json.dumps(body).encode()


def deliver(gateway: GatewayProcess, payload: bytes, *, secret: str = SECRET, at: int | None = None) -> httpx.Response:
    header = stripe.WebhookSignature.generate_signature_header(payload.decode(), secret, timestamp=at)
    return deliver_signed(gateway, payload, header)


def deliver_signed(gateway: GatewayProcess, payload: bytes, header: str | None) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    return httpx.post(f"{gateway.url}/_/billing/stripe", content=payload, headers=headers, timeout=20)


def test_a_signed_event_is_applied_and_its_replay_ignored(gateway: GatewayProcess, api: Api) -> None:
    payload = event("evt_created_1", "customer.subscription.created")
    applied = deliver(gateway, payload)
    assert applied.status_code == 200, applied.text
    assert applied.json() == {"result": "applied"}
    assert applied.headers["cache-control"] == "no-store"
    workspace = api.get("/workspaces/paying").json()
    assert workspace["plan"] == "pro" and workspace["billing"]["status"] == "active"
    assert workspace["limits"]["custom_domains"] == 2

    replayed = deliver(gateway, payload)  # the same event, signed again: a retried delivery
    assert replayed.status_code == 200 and replayed.json() == {"result": "replayed"}
    rows = api.get("/workspaces/paying/audit").json()["entries"]
    webhook_rows = [row for row in rows if row["actor"] == "stripe"]
    assert [row["operation"] for row in webhook_rows] == ["billing.stripe_event"] * 2


def test_a_tampered_body_is_refused_and_changes_nothing(gateway: GatewayProcess, api: Api) -> None:
    payload = event("evt_tampered_1", "customer.subscription.updated", lookup_key="enterprise")
    header = stripe.WebhookSignature.generate_signature_header(payload.decode(), SECRET)
    tampered = payload.replace(b"enterprise", b"business__")
    response = deliver_signed(gateway, tampered, header)
    assert response.status_code == 400 and error_code(response) == "VALIDATION_ERROR"
    assert "Stripe-Signature" in response.json()["error"]["message"]
    assert api.get("/workspaces/paying").json()["plan"] != "business"


def test_an_expired_signature_is_refused(gateway: GatewayProcess, api: Api) -> None:
    old = int(time.time()) - 301
    payload = event("evt_old_1", "customer.subscription.updated", lookup_key="business", at=old)
    response = deliver(gateway, payload, at=old)
    assert response.status_code == 400 and error_code(response) == "VALIDATION_ERROR"
    assert api.get("/workspaces/paying").json()["plan"] != "business"


@pytest.mark.parametrize("header", [None, "", "t=1,v1=00", "garbage", "t=notanumber,v1=ab"])
def test_missing_or_malformed_signatures_are_refused(gateway: GatewayProcess, header: str | None) -> None:
    response = deliver_signed(gateway, event("evt_bad_1", "customer.subscription.updated"), header)
    assert response.status_code == 400 and error_code(response) == "VALIDATION_ERROR"


def test_another_secret_is_refused(gateway: GatewayProcess) -> None:
    response = deliver(gateway, event("evt_other_1", "customer.subscription.updated"), secret="whsec_other")
    assert response.status_code == 400 and error_code(response) == "VALIDATION_ERROR"


def test_other_events_and_unknown_customers_are_ignored(gateway: GatewayProcess) -> None:
    invoice = json.dumps({"id": "evt_inv_1", "object": "event", "type": "invoice.paid", "created": 1, "data": {}})
    assert deliver(gateway, invoice.encode()).json() == {"result": "ignored"}
    stranger = event("evt_stranger_1", "customer.subscription.updated").replace(CUSTOMER.encode(), b"cus_nobody")
    assert deliver(gateway, stranger).json() == {"result": "ignored"}


def test_signed_but_not_an_event_is_400_not_500(gateway: GatewayProcess) -> None:
    for payload in (b"[1, 2]", b"not json", b'{"type": "customer.subscription.updated"}'):
        response = deliver(gateway, payload)
        assert response.status_code == 400, (payload, response.text)
        assert error_code(response) == "VALIDATION_ERROR"


def test_a_deleted_subscription_returns_the_workspace_to_free(gateway: GatewayProcess, api: Api) -> None:
    response = deliver(gateway, event("evt_deleted_1", "customer.subscription.deleted", status="canceled"))
    assert response.json() == {"result": "applied"}
    workspace = api.get("/workspaces/paying").json()
    assert workspace["plan"] == "free" and workspace["billing"]["status"] == "canceled"


def test_only_post_is_taken(gateway: GatewayProcess) -> None:
    response = httpx.get(f"{gateway.url}/_/billing/stripe", timeout=10)
    assert response.status_code == 405 and error_code(response) == "METHOD_NOT_ALLOWED"
