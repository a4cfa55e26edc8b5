"""The OpenAPI document: valid 3.1, every route in it and nothing else, schemas from the handlers' own models."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate
from starlette.routing import Mount, Route

from gateway.routes.api import ENDPOINTS, OPENAPI_PATH, PREFIX, STRIPE_WEBHOOK, api_routes, document, reference
from gateway.routes.api.endpoint import Endpoint

_ROUTE_METHODS = ("get", "post", "patch", "put", "delete")


def test_the_document_is_valid_openapi_3_1() -> None:
    spec = document()
    validate(spec)
    assert spec["openapi"] == "3.1.0"


def test_every_served_route_is_documented_and_every_documented_one_served() -> None:
    spec = document()
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    declared = {(endpoint.path, endpoint.method) for endpoint in ENDPOINTS}
    declared |= {(OPENAPI_PATH, "GET"), (STRIPE_WEBHOOK, "POST")}
    assert documented == declared
    served_paths = set()
    for route in api_routes():
        if isinstance(route, Mount):
            served_paths |= {route.path + inner.path for inner in route.routes if isinstance(inner, Route)}
        elif isinstance(route, Route):
            served_paths.add(route.path)
    served_paths.discard(PREFIX + "/{rest:path}")  # the JSON 404 of unknown API paths
    assert {Endpoint("GET", path, "", _noop, "").path for path in served_paths} == {path for path, _ in declared}


async def _noop(call: object) -> None:
    return None


def test_bodies_and_answers_are_the_handlers_models() -> None:
    spec = document()
    schemas = spec["components"]["schemas"]
    for endpoint in ENDPOINTS:
        operation = spec["paths"][endpoint.path][endpoint.method.lower()]
        if endpoint.body is not None:
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.rsplit("/", 1)[-1].startswith(endpoint.body.__name__)
            schema = schemas[ref.rsplit("/", 1)[-1]]
            assert schema.get("additionalProperties") is False, endpoint.operation  # unknown fields refused
        status = "204" if endpoint.response is None else str(endpoint.status)
        assert status in operation["responses"], endpoint.operation
        for code in ("400", "401", "403"):
            assert operation["responses"][code]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
        if endpoint.body is not None:
            assert "413" in operation["responses"]
        assert operation["x-imgate-scope"] == endpoint.scope


def test_secrets_are_write_only_in_the_document() -> None:
    origin = next(s for name, s in document()["components"]["schemas"].items() if name.startswith("OriginPatch"))
    assert origin["properties"]["secret_access_key"]["writeOnly"] is True


def test_operation_ids_are_unique() -> None:
    ids = [op["operationId"] for item in document()["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.operation)
def test_write_routes_say_so(endpoint: Endpoint) -> None:
    description = document()["paths"][endpoint.path][endpoint.method.lower()]["description"]
    assert ("`write` key" in description) == (endpoint.scope == "write")
    if endpoint.method in ("POST", "PATCH", "DELETE"):
        assert endpoint.scope == "write", f"{endpoint.operation} changes something: it needs a write key"


def test_the_committed_reference_page_is_what_the_generator_writes() -> None:
    committed = reference.PAGE.read_text(encoding="utf-8")
    assert committed == reference.render(), "docs/api.md is out of date: run python -m gateway.routes.api.reference"


def test_the_reference_check_fails_on_a_stale_page(tmp_path) -> None:
    page = tmp_path / "api.md"
    page.write_text("stale")
    assert reference.main(["--check"], page=page) == 1
    assert reference.main([], page=page) == 0
    assert reference.main(["--check"], page=page) == 0
