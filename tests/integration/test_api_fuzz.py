"""Arbitrary bodies, query strings and keys against the running gateway: never anything but 2xx or 4xx.

Bodies are JSON values of every shape, and objects whose names are mostly the route's own field names (so the
values reach the admin layer's checks, not only the unknown-field refusal), plus raw bytes that are not JSON.
Every 4xx must be in the one error shape with ``Cache-Control: no-store``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.accounts.models import Workspace
from gateway.routes.api import ENDPOINTS
from gateway.routes.api.endpoint import Endpoint
from tests.integration.api_client import API, create_key
from tests.integration.servers import GatewayProcess

pytestmark = pytest.mark.integration

NAMESPACE = "fuzz"
# Deleting the workspace would end the run; everything else may be called with anything.
FUZZED = [e for e in ENDPOINTS if e.body is not None or e.query is not None]
# Bounded whatever the profile: each example is a request to a real server, and there are many routes.
_FUZZ = settings(
    max_examples=min(50, settings().max_examples),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


def field_names(endpoint: Endpoint) -> list[str]:
    model = endpoint.body or endpoint.query
    return list(model.model_fields) if model is not None else []


def objects_for(endpoint: Endpoint) -> st.SearchStrategy[dict[str, Any]]:
    names = st.sampled_from(field_names(endpoint)) | st.text(max_size=12)
    return st.dictionaries(names, json_values, max_size=6)


class Client:
    def __init__(self, gateway: GatewayProcess, secret: str) -> None:
        self.http = httpx.Client(base_url=gateway.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30)
        self.anonymous = httpx.Client(base_url=gateway.url, timeout=30)

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, path, **kwargs)
        check(response)
        return response


def check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    assert response.headers["cache-control"] == "no-store"
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    process = GatewayProcess(tmp_path_factory.mktemp("api-fuzz"))
    process.data_dir.mkdir(parents=True, exist_ok=True)
    process.add_workspace(Workspace(namespace=NAMESPACE))
    secret = create_key(process.data_dir, NAMESPACE, "Fuzz", "write")
    with process:
        fuzz = Client(process, secret)
        fuzz.call("POST", f"{API}/workspaces/{NAMESPACE}/marks", json={"name": "credit", "text": "x"})
        fuzz.call("POST", f"{API}/workspaces/{NAMESPACE}/rules", json={"preset": "credit", "key_patterns": ["a/*"]})
        try:
            yield fuzz
        finally:
            fuzz.http.close()
            fuzz.anonymous.close()


def concrete(endpoint: Endpoint) -> str:
    values = {"{ns}": NAMESPACE, "{name}": "credit", "{rule_id}": "1", "{prefix}": "imk_live_abc", "{email}": "a@b.co"}
    path = endpoint.path
    for placeholder, value in values.items():
        path = path.replace(placeholder, value)
    return path


@pytest.mark.parametrize("endpoint", FUZZED, ids=lambda e: e.operation)
@_FUZZ
@given(data=st.data())
def test_arbitrary_json_bodies_and_queries(client: Client, endpoint: Endpoint, data: st.DataObject) -> None:
    if endpoint.body is not None:
        body = data.draw(objects_for(endpoint) | json_values)
        client.call(endpoint.method, concrete(endpoint), json=body)
    else:
        query = data.draw(st.dictionaries(st.sampled_from(field_names(endpoint)) | st.text(max_size=8), st.text()))
        client.call(endpoint.method, concrete(endpoint), params=query)


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.body is not None][:4], ids=lambda e: e.operation)
@_FUZZ
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_are_never_a_500(client: Client, endpoint: Endpoint, raw: bytes) -> None:
    client.call(endpoint.method, concrete(endpoint), content=raw, headers={"content-type": "application/json"})


@_FUZZ
# Header values as HTTP allows them (visible ASCII, space, obs-text); anything else the server refuses itself.
@given(
    value=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"), max_size=80)
)
def test_arbitrary_credentials_are_401(client: Client, value: str) -> None:
    for header in ("Authorization", "X-API-Key"):
        response = client.anonymous.get(
            f"{API}/workspaces/{NAMESPACE}", headers={header.encode(): (value.strip() or "x").encode("latin-1")}
        )
        check(response)
        assert response.status_code == 401
