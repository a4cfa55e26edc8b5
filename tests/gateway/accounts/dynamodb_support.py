"""DynamoDB for the account store tests: moto's server mode on loopback, one table per test module.

``dynamodb_table`` (module scope) names a fresh table on the session's moto server (``moto_endpoint``: a real
HTTP endpoint speaking DynamoDB's API, so boto3 signs, serialises and retries as against AWS).
``dynamodb_store`` opens a store on it with every item deleted, so each test starts from nothing as with a new
SQLite file, without creating a table per test. A module uses the fixture by importing it (pytest finds
fixtures in a module's globals).
"""

from __future__ import annotations

import secrets

import pytest

from gateway.accounts.dynamodb import DynamoAccountStore
from tests.support.moto_server import REGION


@pytest.fixture(scope="module")
def dynamodb_table(moto_endpoint: str) -> tuple[str, str]:
    """(endpoint, table name) of a table of this module's own."""
    return moto_endpoint, f"imgate-test-{secrets.token_hex(6)}"


def empty_table(store: DynamoAccountStore) -> None:
    table = store.table
    keys = []
    args: dict[str, object] = {"TableName": table.name, "ProjectionExpression": "PK, SK"}
    while True:
        page = table.client.scan(**args)
        keys += [(item["PK"]["S"], item["SK"]["S"]) for item in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            break
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    table.delete_all(keys)


def dynamodb_store(request: pytest.FixtureRequest) -> DynamoAccountStore:
    """A store on the module's table (created on first use), every item deleted; the caller closes it."""
    endpoint, name = request.getfixturevalue("dynamodb_table")
    store = DynamoAccountStore(name, region=REGION, endpoint_url=endpoint)
    empty_table(store)
    return store
