"""The one DynamoDB table of the account store: its schema, item helpers, and a lock item.

Every part of the DynamoDB account store (``gateway.accounts.dynamodb*``) reads and writes this table through
``Table``, over boto3's low-level client (synchronous: tenancy calls the store in a thread). Attribute values
are DynamoDB's own typed form (``{"S": ...}``, ``{"N": ...}``); records are kept as one JSON document
attribute (``doc``) beside the few attributes a key, an index, a condition or an ``ADD`` needs, so a field added
to a record needs no change here.

Key attributes: ``PK`` / ``SK`` (the table), ``G1PK`` / ``G1SK`` (index ``gsi1``) and ``G2PK`` / ``G2SK`` (index
``gsi2``, sparse: only items that set it). ``ttl`` is the table's TTL attribute (epoch seconds, wall clock):
DynamoDB deletes such items lazily, up to days late, so every read that can meet one filters it out itself.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

Item = dict[str, Any]

INDEXES = ("gsi1", "gsi2")
# A lock item is held for at most this long: a process that dies holding one blocks its scope no longer.
LOCK_LEASE = 10.0
# How long a writer waits for a lock held by another before giving up.
LOCK_WAIT = 15.0
# DynamoDB's cap on the items of one TransactWriteItems call.
TRANSACTION_ITEMS = 100


# Attempts of a transaction cancelled by concurrent transactions on the same items.
TRANSACTION_RETRIES = 12

# A node that cannot reach the table fails a call within seconds instead of retrying for minutes.
_CALL_CONFIG = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"})
# Health checks: one attempt with short timeouts, so a check of an endpoint that hangs says no within about 3 s,
# where a call over the table's own client can take 15-30 s (three attempts and their backoff), and the usage
# flusher holds its lock while it asks.
_CHECK_CONFIG = Config(connect_timeout=1, read_timeout=2, retries={"total_max_attempts": 1, "mode": "standard"})


class TransactionBusy(Exception):
    """A transaction kept conflicting with concurrent ones."""


class LockTimeout(Exception):
    """Another writer held the scope's lock for longer than ``LOCK_WAIT``."""


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: float) -> dict[str, str]:
    return {"N": repr(value) if isinstance(value, float) else str(value)}


def num(item: Mapping[str, Any], name: str) -> float | None:
    value = item.get(name)
    return None if value is None or "NULL" in value else float(value["N"])


def text(item: Mapping[str, Any], name: str) -> str:
    return str(item[name]["S"])


def padded(value: float) -> str:
    """A non-negative time as text that sorts like the number (sort keys compare as strings)."""
    return f"{value:020.6f}"


def is_conflict(exc: ClientError) -> bool:
    """A failed condition, or a transaction cancelled by one (or by a concurrent transaction on its items)."""
    code = exc.response.get("Error", {}).get("Code", "")
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException", "TransactionConflictException")


class Table:
    def __init__(
        self,
        name: str,
        *,
        region: str,
        endpoint_url: str = "",
        create: bool = True,
    ) -> None:
        self.name = name
        self.client = _client(region, endpoint_url, _CALL_CONFIG)
        self._check_client = _client(region, endpoint_url, _CHECK_CONFIG)
        if create:
            self.create_if_missing()

    def create_if_missing(self) -> None:
        try:
            self.client.describe_table(TableName=self.name)
            return
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
        key_names = ["PK", "SK", "G1PK", "G1SK", "G2PK", "G2SK"]
        try:
            self.client.create_table(
                TableName=self.name,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in key_names],
                KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
                GlobalSecondaryIndexes=[
                    {
                        "IndexName": index,
                        "KeySchema": [
                            {"AttributeName": f"G{i}PK", "KeyType": "HASH"},
                            {"AttributeName": f"G{i}SK", "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                    for i, index in enumerate(INDEXES, start=1)
                ],
            )
        except ClientError as exc:
            # Another node created it at the same moment.
            if exc.response.get("Error", {}).get("Code") != "ResourceInUseException":
                raise
        self.client.get_waiter("table_exists").wait(TableName=self.name)
        self.client.update_time_to_live(
            TableName=self.name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
        )

    def probe(self, pk: str, sk: str) -> None:
        """Read one item over the health checks' client (one attempt, 1 s to connect, 2 s to read): returns once
        the table answered, raises as ``get`` does, both within about 3 s."""
        self._check_client.get_item(TableName=self.name, Key=key(pk, sk))

    def close(self) -> None:
        self.client.close()
        self._check_client.close()

    # -- single items -------------------------------------------------------------------------------

    def get(self, pk: str, sk: str) -> Item | None:
        found = self.client.get_item(TableName=self.name, Key=key(pk, sk), ConsistentRead=True).get("Item")
        return None if found is None or expired(found) else dict(found)

    def put(self, item: Item, condition: str | None = None, values: Item | None = None) -> bool:
        """Write ``item``; ``False`` when ``condition`` does not hold (nothing written)."""
        args: dict[str, Any] = {"TableName": self.name, "Item": item}
        if condition:
            args["ConditionExpression"] = condition
        if values:
            args["ExpressionAttributeValues"] = values
        try:
            self.client.put_item(**args)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def update(
        self,
        pk: str,
        sk: str,
        expression: str,
        *,
        condition: str | None = None,
        values: Item | None = None,
        names: dict[str, str] | None = None,
    ) -> Item | None:
        """Apply ``expression``; the item after it, or ``None`` when ``condition`` does not hold."""
        args: dict[str, Any] = {
            "TableName": self.name,
            "Key": key(pk, sk),
            "UpdateExpression": expression,
            "ReturnValues": "ALL_NEW",
        }
        if condition:
            args["ConditionExpression"] = condition
        if values:
            args["ExpressionAttributeValues"] = values
        if names:
            args["ExpressionAttributeNames"] = names
        try:
            return dict(self.client.update_item(**args).get("Attributes", {}))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise

    def delete(self, pk: str, sk: str, condition: str | None = None, values: Item | None = None) -> bool:
        """Delete; ``True`` when an item was there (and ``condition`` held)."""
        args: dict[str, Any] = {"TableName": self.name, "Key": key(pk, sk), "ReturnValues": "ALL_OLD"}
        if condition:
            args["ConditionExpression"] = condition
        if values:
            args["ExpressionAttributeValues"] = values
        try:
            old = self.client.delete_item(**args).get("Attributes")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return old is not None

    def next_id(self, counter: str) -> int:
        """The next value of a counter that never goes back (rule ids, audit ids)."""
        item = self.update("COUNTER", counter, "ADD #v :one", values={":one": n(1)}, names={"#v": "value"})
        assert item is not None  # noqa: S101 - an unconditional update always answers the item
        return int(float(item["value"]["N"]))

    # -- many items -----------------------------------------------------------------------------------

    def query(
        self,
        pk: str,
        *,
        prefix: str | None = None,
        between: tuple[str, str] | None = None,
        index: str | None = None,
        forward: bool = True,
    ) -> Iterator[Item]:
        """The partition's items (of ``index`` when given), by sort key; expired ones left out."""
        pk_name, sk_name = ("PK", "SK") if index is None else (f"G{index[-1]}PK", f"G{index[-1]}SK")
        condition = f"{pk_name} = :pk"
        values: Item = {":pk": s(pk)}
        if prefix is not None:
            condition += f" AND begins_with({sk_name}, :prefix)"
            values[":prefix"] = s(prefix)
        if between is not None:
            condition += f" AND {sk_name} BETWEEN :low AND :high"
            values[":low"], values[":high"] = s(between[0]), s(between[1])
        args: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": forward,
        }
        if index is None:
            args["ConsistentRead"] = True
        else:
            args["IndexName"] = index
        while True:
            page = self.client.query(**args)
            for item in page.get("Items", []):
                if not expired(item):
                    yield dict(item)
            if "LastEvaluatedKey" not in page:
                return
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def scan(self, prefix: str) -> Iterator[Item]:
        """Every item whose partition key starts with ``prefix`` (the sweepers: rare, whole-table reads)."""
        args: dict[str, Any] = {
            "TableName": self.name,
            "FilterExpression": "begins_with(PK, :prefix)",
            "ExpressionAttributeValues": {":prefix": s(prefix)},
            "ConsistentRead": True,
        }
        while True:
            page = self.client.scan(**args)
            for item in page.get("Items", []):
                if not expired(item):
                    yield dict(item)
            if "LastEvaluatedKey" not in page:
                return
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def transact(self, actions: Sequence[Item]) -> bool:
        """All of ``actions`` (``{"Put": ...}``, ``{"Update": ...}``, ...; the table name is filled in) or none:
        ``False`` when a condition failed."""
        for action in actions:
            for body in action.values():
                body["TableName"] = self.name
        delay = 0.005
        for _ in range(TRANSACTION_RETRIES):
            try:
                self.client.transact_write_items(TransactItems=list(actions))
            except ClientError as exc:
                if not is_conflict(exc):
                    raise
                reasons = {reason.get("Code") for reason in exc.response.get("CancellationReasons", [])}
                # Cancelled only because another transaction was writing the same items: nothing was written
                # and no condition failed, so try again (DynamoDB never queues conflicting transactions).
                if "ConditionalCheckFailed" not in reasons and (
                    "TransactionConflict" in reasons
                    or exc.response.get("Error", {}).get("Code") == "TransactionConflictException"
                ):
                    time.sleep(delay * (1 + secrets.randbelow(100) / 100))
                    delay = min(delay * 2, 0.2)
                    continue
                return False
            return True
        raise TransactionBusy("the account store's items stayed busy with other writers")

    def delete_all(self, keys: Sequence[tuple[str, str]]) -> None:
        """Delete items by key, 25 per request (DynamoDB's batch size), retrying what it left unprocessed."""
        for start in range(0, len(keys), 25):
            requests: Any = {
                self.name: [{"DeleteRequest": {"Key": key(pk, sk)}} for pk, sk in keys[start : start + 25]]
            }
            while requests:
                requests = self.client.batch_write_item(RequestItems=requests).get("UnprocessedItems") or None

    def put_all(self, items: Sequence[Item]) -> None:
        for start in range(0, len(items), 25):
            requests: Any = {self.name: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
            while requests:
                requests = self.client.batch_write_item(RequestItems=requests).get("UnprocessedItems") or None

    # -- the lock -----------------------------------------------------------------------------------

    @contextmanager
    def lock(self, scope: str) -> Iterator[None]:
        """Hold the scope's lock item: writes whose check reads several items (the last owner, the rule
        order, a domain or queue cap) run one after another across every node, as PostgreSQL's row lock does.

        The item is written only if absent or past its lease, and deleted only by its holder."""
        owner = secrets.token_hex(8)
        deadline = time.monotonic() + LOCK_WAIT
        delay = 0.005
        while True:
            now = time.time()
            taken = self.put(
                {"PK": s(f"LOCK#{scope}"), "SK": s("LOCK"), "holder": s(owner), "lease_end": n(now + LOCK_LEASE)},
                condition="attribute_not_exists(PK) OR lease_end < :now",
                values={":now": n(now)},
            )
            if taken:
                break
            if time.monotonic() > deadline:
                raise LockTimeout(f"the account store's {scope.split('#')[0].lower()} lock stayed taken")
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        try:
            yield
        finally:
            self.delete(f"LOCK#{scope}", "LOCK", condition="holder = :me", values={":me": s(owner)})


def _client(region: str, endpoint_url: str, config: Config) -> Any:
    return boto3.client("dynamodb", region_name=region or None, endpoint_url=endpoint_url or None, config=config)


def key(pk: str, sk: str) -> Item:
    return {"PK": s(pk), "SK": s(sk)}


def expired(item: Mapping[str, Any]) -> bool:
    ttl = item.get("ttl")
    return ttl is not None and "N" in ttl and float(ttl["N"]) < time.time()


def put_action(item: Item, condition: str | None = None, values: Item | None = None) -> Item:
    body: Item = {"Item": item}
    if condition:
        body["ConditionExpression"] = condition
    if values:
        body["ExpressionAttributeValues"] = values
    return {"Put": body}


def update_action(pk: str, sk: str, expression: str, condition: str | None = None, values: Item | None = None) -> Item:
    body: Item = {"Key": key(pk, sk), "UpdateExpression": expression}
    if condition:
        body["ConditionExpression"] = condition
    if values:
        body["ExpressionAttributeValues"] = values
    return {"Update": body}


def check_action(pk: str, sk: str, condition: str, values: Item | None = None) -> Item:
    body: Item = {"Key": key(pk, sk), "ConditionExpression": condition}
    if values:
        body["ExpressionAttributeValues"] = values
    return {"ConditionCheck": body}


def delete_action(pk: str, sk: str, condition: str | None = None, values: Item | None = None) -> Item:
    body: Item = {"Key": key(pk, sk)}
    if condition:
        body["ConditionExpression"] = condition
    if values:
        body["ExpressionAttributeValues"] = values
    return {"Delete": body}
