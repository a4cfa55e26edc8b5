"""API keys: create (the secret is in that one answer), list, revoke; the calling key; usage per key and day.

A key is shown by its 12-character prefix after its creation; nothing the API answers later holds the secret.
Revoking takes effect from the next request on every worker and node (keys are looked up uncached).
"""

from __future__ import annotations

from gateway.admin.keys import KeyView, create_key, list_key_usage, list_keys, revoke_key
from gateway.routes.api.endpoint import PREFIX, ApiCall, Endpoint
from gateway.routes.api.models import (
    CreatedKeyOut,
    CurrentKeyOut,
    KeyCreate,
    KeyList,
    KeyOut,
    KeyUsageOut,
    UsageOut,
    UsageQuery,
)
from gateway.routes.api.workspaces import WORKSPACE

KEYS = f"{WORKSPACE}/keys"
_TAG = "keys"


def key_out(view: KeyView) -> KeyOut:
    return KeyOut.model_validate(view.as_dict())


async def current_key(call: ApiCall) -> CurrentKeyOut:
    return CurrentKeyOut(namespace=call.namespace, key=key_out(KeyView.of(call.key)))


async def list_api_keys(call: ApiCall) -> KeyList:
    return KeyList(keys=[key_out(view) for view in await list_keys(call.ctx, call.namespace)])


async def create_api_key(call: ApiCall) -> CreatedKeyOut:
    body = call.body(KeyCreate)
    created = await create_key(call.ctx, call.namespace, body.name, body.scope)
    return CreatedKeyOut(secret=created.secret, key=key_out(created.key))


async def revoke_api_key(call: ApiCall) -> KeyOut:
    return key_out(await revoke_key(call.ctx, call.namespace, call.params["prefix"]))


async def usage(call: ApiCall) -> UsageOut:
    query = call.query(UsageQuery)
    rows = await list_key_usage(call.ctx, call.namespace, query.first, query.last)
    return UsageOut(
        usage=[KeyUsageOut(day=row.day, prefix=row.prefix, name=row.name, requests=row.requests) for row in rows]
    )


ENDPOINTS = (
    Endpoint(
        "GET",
        f"{PREFIX}/key",
        "The calling key and its workspace",
        current_key,
        _TAG,
        response=CurrentKeyOut,
        description="A key belongs to one workspace: this is how a client finds out which.",
    ),
    Endpoint("GET", KEYS, "List the workspace's keys, revoked ones included", list_api_keys, _TAG, response=KeyList),
    Endpoint(
        "POST",
        KEYS,
        "Create a key; the answer holds its secret, once",
        create_api_key,
        _TAG,
        scope="write",
        body=KeyCreate,
        response=CreatedKeyOut,
        status=201,
    ),
    Endpoint(
        "DELETE",
        f"{KEYS}/{{prefix}}",
        "Revoke a key",
        revoke_api_key,
        _TAG,
        scope="write",
        response=KeyOut,
        description="Takes effect from the next request, on every worker and node. Revoking twice answers the key.",
        errors={404: "No key with that prefix in the workspace."},
    ),
    Endpoint(
        "GET",
        f"{WORKSPACE}/key-usage",
        "Management API requests per key and UTC day",
        usage,
        "usage",
        query=UsageQuery,
        response=UsageOut,
    ),
)
