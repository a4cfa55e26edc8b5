"""Arbitrary bodies, query strings and keys against the running gateway: never anything but 2xx or 4xx.

Bodies are JSON values of every shape, and objects whose names are mostly the route's own field names (so the
values reach the admin layer's checks, not only the unknown-field refusal), plus raw bytes that are not JSON.
Every 4xx must be in the one error shape with ``Cache-Control: no-store``.

Schemathesis then fuzzes every operation from the OpenAPI document the gateway serves, with a real write key:
valid and invalid requests of every documented shape; no 5xx, every status and body as documented (answers
conform to their schemas), schema-invalid requests refused, every error in the one shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import BaseSchema, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

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


# Schemathesis ---------------------------------------------------------------------------------------------

SCHEMA_NAMESPACE = "schema-fuzz"
# Bounded: every example is a request to a real server, over every operation (under 90 s in all).
SCHEMA_EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 12}
# Deleting the workspace would end the run (it is covered, with its receipt, by the API tests).
SCHEMA_FUZZED = [e for e in ENDPOINTS if (e.method, e.path) != ("DELETE", f"{API}/workspaces/{{ns}}")]
# Every operation with valid requests; with invalid ones where there is a body or a query string to make invalid
# (a path's names are any text, and the key's own workspace is fixed).
SCHEMA_CASES = [(e, GenerationMode.POSITIVE) for e in SCHEMA_FUZZED] + [
    (e, GenerationMode.NEGATIVE) for e in SCHEMA_FUZZED if e.body is not None or e.query is not None
]
SCHEMA_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@dataclass(frozen=True)
class SchemaTarget:
    gateway: GatewayProcess
    secret: str
    schema: BaseSchema


@pytest.fixture(scope="module")
def schema_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SchemaTarget]:
    process = GatewayProcess(tmp_path_factory.mktemp("api-schema-fuzz"))
    process.data_dir.mkdir(parents=True, exist_ok=True)
    process.add_workspace(Workspace(namespace=SCHEMA_NAMESPACE))
    secret = create_key(process.data_dir, SCHEMA_NAMESPACE, "Schemathesis", "write")
    with process:
        # The document as the gateway serves it, not as this process would build it.
        schema = schemathesis.openapi.from_url(f"{process.url}{API}/openapi.json", timeout=10)
        schema.config.update(base_url=process.url)
        # Every request carries the real key: left to itself, schemathesis fills the documented key headers
        # with made-up values, and those calls stop at 401 (arbitrary credentials are fuzzed above).
        schema.config.generation.update(with_security_parameters=False)
        yield SchemaTarget(process, secret, schema)


@pytest.mark.parametrize(("endpoint", "mode"), SCHEMA_CASES, ids=[f"{e.operation}-{m}" for e, m in SCHEMA_CASES])
def test_every_operation_fuzzed_from_the_openapi_document(
    schema_target: SchemaTarget, endpoint: Endpoint, mode: GenerationMode
) -> None:
    operation = schema_target.schema[endpoint.path][endpoint.method]
    # The key's own workspace: another one is a 403 before any input is looked at.
    path_parameters = {"ns": SCHEMA_NAMESPACE} if "{ns}" in endpoint.path else None
    strategy = operation.as_strategy(mode, path_parameters=path_parameters)
    headers = {"Authorization": f"Bearer {schema_target.secret}"}

    @settings(max_examples=SCHEMA_EXAMPLES[mode], deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def fuzz(case: Case[Any]) -> None:
        response = case.call_and_validate(headers=headers, timeout=30, checks=SCHEMA_CHECKS)
        assert response.headers["cache-control"] == ["no-store"], response.headers
        if response.status_code >= 400:
            body = response.json()
            assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body

    fuzz()
