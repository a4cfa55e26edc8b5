"""The OpenAPI 3.1 document of the management API, built from the endpoint table and its pydantic models.

Served at ``GET /_/api/v1/openapi.json`` without authentication (it describes the API, it holds no data) and
rendered into ``docs/api.md`` by ``gateway.routes.api.reference``. Schemas are the models' own JSON Schemas
(OpenAPI 3.1 is JSON Schema 2020-12), request bodies in pydantic's validation mode and answers in its
serialization mode, so what the document promises is what the handlers validate and send.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.accounts.models import NAMESPACE_RE
from gateway.errors import MethodNotAllowed
from gateway.routes.api.answers import json_bytes_response
from gateway.routes.api.billing import STRIPE_WEBHOOK
from gateway.routes.api.endpoint import PREFIX, Endpoint, EveryMethod
from gateway.routes.api.models import ErrorBody, WebhookOut
from gateway.web.responses import error_response

OPENAPI_PATH = f"{PREFIX}/openapi.json"
TITLE = "imgate management API"
API_VERSION = "1"
_REF = "#/components/schemas/{model}"
# (model, "validation" | "serialization") -> the model's schema reference.
_Refs = dict[Any, Any]
_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}]
COMMON_ERRORS = {
    400: "VALIDATION_ERROR: malformed JSON, a wrong or unknown field, or a value the admin layer refuses.",
    401: "UNAUTHENTICATED: no key or a malformed header (`Authentication is required`); an unknown or revoked "
    "key, or the key's 12-character prefix sent instead of its secret: the prefix is a label, never a credential "
    "(`Invalid API key`).",
    403: "FORBIDDEN (scope, another workspace) or IP_NOT_ALLOWED (the workspace's IP allowlist).",
    503: "STORE_UNAVAILABLE: the account store or Redis cannot be reached; retry after `Retry-After` seconds.",
}
_BODY_ERRORS = {413: "PAYLOAD_TOO_LARGE: the body (or a mark image in it) is over its cap."}
_PATH_PARAMETERS: dict[str, tuple[dict[str, Any], str]] = {
    "ns": ({"type": "string", "pattern": NAMESPACE_RE.pattern}, "The workspace's namespace (the key's own)."),
    "name": ({"type": "string"}, "The mark preset's name."),
    "rule_id": ({"type": "integer", "minimum": 1}, "The rule's id (not its position)."),
    "prefix": ({"type": "string"}, "The key's 12-character prefix."),
    "email": ({"type": "string"}, "The member's email address, percent-encoded."),
    "key_id": ({"type": "string", "pattern": "^[0-9a-f]{8}$"}, "The signing secret's id."),
    "preset": ({"type": "string"}, "The transform preset's name."),
    "hostname": ({"type": "string"}, "The custom domain's hostname (img.customer.com)."),
    "job_id": ({"type": "string", "pattern": "^cap_[0-9a-f]{24}$"}, "The capture job's id."),
}


def _models(endpoints: Iterable[Endpoint]) -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {(ErrorBody, "serialization"): None}
    wanted[(WebhookOut, "serialization")] = None
    for endpoint in endpoints:
        if endpoint.body is not None:
            wanted[(endpoint.body, "validation")] = None
        if endpoint.response is not None:
            wanted[(endpoint.response, "serialization")] = None
    return list(wanted)


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    parameters = []
    for name, field_schema in schema.get("properties", {}).items():
        description = field_schema.pop("description", "")
        field_schema.pop("title", None)
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": field_schema}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _path_parameters(path: str) -> list[dict[str, Any]]:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    return [
        {"name": name, "in": "path", "required": True, "schema": _PATH_PARAMETERS[name][0],
         "description": _PATH_PARAMETERS[name][1]}
        for name in names
    ]  # fmt: skip


def _json(ref: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": ref}}


def _error_responses(codes: dict[int, str], error_ref: dict[str, Any]) -> dict[str, Any]:
    return {str(status): {"description": text, "content": _json(error_ref)} for status, text in sorted(codes.items())}


def _operation(endpoint: Endpoint, refs: _Refs, error: dict[str, Any]) -> Any:
    operation: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "security": _SECURITY,
        "x-imgate-scope": endpoint.scope,
    }
    needs = "Needs a `write` key." if endpoint.scope == "write" else "Needs a key (`read` or `write`)."
    operation["description"] = f"{needs} {endpoint.description}".strip()
    parameters = _path_parameters(endpoint.path)
    if endpoint.query is not None:
        parameters += _query_parameters(endpoint.query)
    if parameters:
        operation["parameters"] = parameters
    if endpoint.body is not None:
        # An empty body is read as {} (``inputs.parse_body``): it may be left out when no field is required.
        needed = any(field.is_required() for field in endpoint.body.model_fields.values())
        operation["requestBody"] = {"required": needed, "content": _json(refs[(endpoint.body, "validation")])}
    if endpoint.response is None:
        responses: dict[str, Any] = {"204": {"description": "Done."}}
    else:
        answer = {
            "description": "Created." if endpoint.status == 201 else "OK.",
            "content": _json(refs[(endpoint.response, "serialization")]),
        }
        responses = {str(endpoint.status): answer}
    errors = {**COMMON_ERRORS, **(_BODY_ERRORS if endpoint.body else {}), **endpoint.errors}
    if any(parameter["name"] != "ns" for parameter in parameters if parameter["in"] == "path"):
        # A path naming a resource can always miss: no such resource, or a name no route matches (a newline).
        errors.setdefault(404, "NOT_FOUND: no such resource.")
    responses.update(_error_responses(errors, error))
    operation["responses"] = responses
    return operation


def _webhook(refs: _Refs, error: dict[str, Any]) -> dict[str, Any]:
    return {
        "post": {
            "operationId": "stripe_webhook",
            "summary": "Stripe's subscription events (signed)",
            "tags": ["billing"],
            "security": [],
            "description": "Verified with the `Stripe-Signature` header (5 minutes' tolerance); a replayed event "
            "is answered 200 `replayed` and changes nothing. 404 while `stripe_webhook_secret` is not set.",
            "parameters": [
                {"name": "Stripe-Signature", "in": "header", "required": True, "schema": {"type": "string"}}
            ],
            "requestBody": {"required": True, "content": _json({"type": "object"})},
            "responses": {
                "200": {"description": "What was done", "content": _json(refs[(WebhookOut, "serialization")])},
                **_error_responses(
                    {400: "VALIDATION_ERROR: a missing, bad or expired signature.", 404: "NOT_FOUND: webhook off."},
                    error,
                ),
            },
        }
    }


def _document_route(error: dict[str, Any]) -> dict[str, Any]:
    return {
        "get": {
            "operationId": "openapi_document",
            "summary": "This document",
            "tags": ["meta"],
            "security": [],
            "responses": {"200": {"description": "OpenAPI 3.1", "content": _json({"type": "object"})}},
        }
    }


def openapi_document(endpoints: Sequence[Endpoint]) -> dict[str, Any]:
    schemas, definitions = models_json_schema(_models(endpoints), ref_template=_REF)
    refs: _Refs = dict(schemas)
    error = refs[(ErrorBody, "serialization")]
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint, refs, error)
    paths[OPENAPI_PATH] = _document_route(error)
    paths[STRIPE_WEBHOOK] = _webhook(refs, error)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": API_VERSION,
            "description": "Manage a workspace from its owner's backend. Authenticate with an API key: "
            "`Authorization: Bearer imk_live_…` or `X-API-Key: imk_live_…`. Every answer is JSON with "
            '`Cache-Control: no-store`; every error is `{"error": {"code", "message"}}`.',
        },
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer KEY"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }


def document_route(endpoints: Sequence[Endpoint], mount: str = "") -> Route:
    encoded: list[bytes] = []

    async def serve_document(request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return error_response(MethodNotAllowed("this path takes GET", headers={"Allow": "GET"}))
        if not encoded:  # built on the first request, once per process
            encoded.append(json.dumps(openapi_document(endpoints), separators=(",", ":")).encode())
        return json_bytes_response(200, encoded[0])

    return Route(OPENAPI_PATH.removeprefix(mount), EveryMethod(serve_document))
