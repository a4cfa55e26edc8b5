"""Copy an install's SQLite account file into a DynamoDB account table (``imgate store migrate --to dynamodb``).

Each SQLite row becomes the items the DynamoDB store itself writes for that record (the item builders of
``gateway.accounts.dynamodb`` and its sibling modules, so there is one layout), parents before the records
that refer to them, with the ids the table is keyed by kept: rule ids and positions, key ids, audit entry ids
(and so audit cursors), job ids. The id counters are moved past the copied ids, so the next rule or audit row
never takes a copied one. It is:

- idempotent: a record whose item is in the table already is skipped (read first, and every write is
  conditional on ``attribute_not_exists``), so a second run adds nothing;
- resumable: a record's items go in one transaction, so a run that stopped half-way leaves whole records and
  the next run adds the rest;
- checked: afterwards the table must hold as many records of each kind as the SQLite file. A table that had
  records of its own (another install's) fails that check, naming the kind, rather than merging two installs.

Time-to-live attributes (sessions, codes, audit rows, finished jobs) count from the copy, as they count from
the write in the store. The gateway should be stopped meanwhile: rows written to SQLite during the copy may be
missed (run it again after).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from gateway.accounts.dynamodb import (
    DynamoAccountStore,
    audit_item,
    key_items,
    key_use_item,
    mark_items,
    member_item,
    rule_item,
    user_items,
    webhook_event_item,
)
from gateway.accounts.dynamodb_capture_jobs import (
    DynamoCaptureJobStore,
    webhook_item,
    webhook_secret_item,
    worker_item,
)
from gateway.accounts.dynamodb_domains import domain_items
from gateway.accounts.dynamodb_signin import DynamoSignInStore, session_item
from gateway.accounts.dynamodb_table import TRANSACTION_ITEMS, Item, Table, key, n, put_action
from gateway.accounts.dynamodb_usage import usage_item
from gateway.accounts.keys import KeyUse
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.accounts.sqlite_capture_jobs import _job as job_from_row
from gateway.accounts.sqlite_domains import _domain as domain_from_row
from gateway.accounts.sqlite_schema import (
    audit_from_row,
    key_from_row,
    mark_from_row,
    membership_from_row,
    rule_from_row,
    user_from_row,
)
from gateway.accounts.sqlite_signin import _code as code_from_row
from gateway.accounts.sqlite_signin import _session as session_from_row

# Parents first: a record is copied after the records it names.
KINDS: tuple[str, ...] = (
    "workspaces",
    "marks",
    "rules",
    "users",
    "memberships",
    "keys",
    "key_use",
    "audit",
    "webhook_events",
    "usage_days",
    "signin_codes",
    "sessions",
    "domains",
    "capture_jobs",
    "capture_workers",
    "capture_webhook_secrets",
)
# Primary keys read per BatchGetItem call (DynamoDB's cap).
READ_BATCH = 100


class CopyError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class KindCopy:
    kind: str
    source_records: int
    copied: int  # records this run wrote (0 on a run after a complete one)
    target_records: int


@dataclass(frozen=True, slots=True)
class _Record:
    items: list[Item]  # the first is the record's own item: it is there iff the record was copied
    chunks: list[Item]  # big mark images, written before the record (they are invisible until it points there)


def copy_sqlite_to_dynamodb(
    sqlite_path: Path,
    table: str,
    *,
    region: str = "",
    endpoint_url: str = "",
    create_table: bool = True,
    audit_retention_days: int = 90,
    progress: Callable[[KindCopy], None] | None = None,
) -> list[KindCopy]:
    """Copy every kind of record; one ``KindCopy`` per kind. ``CopyError`` when the counts differ afterwards."""
    if not sqlite_path.is_file():
        raise CopyError("no SQLite account file there")
    source = SqliteAccountStore(sqlite_path)  # brings the file to this release's schema
    target = DynamoAccountStore(
        table,
        region=region,
        endpoint_url=endpoint_url,
        create_table=create_table,
        audit_retention_days=audit_retention_days,
    )
    try:
        records = _Records(source, target, audit_retention_days * 86400.0)
        copied: dict[str, int] = {}
        sources: dict[str, int] = {}
        for kind in KINDS:
            found = list(records.of(kind))
            sources[kind] = len(found)
            copied[kind] = _write(target.table, kind, found)
        _move_counters(target.table, source)
        held = _count_items(target.table)
        done = [KindCopy(kind, sources[kind], copied[kind], held.get(kind, 0)) for kind in KINDS]
        if progress is not None:
            for copy in done:
                progress(copy)
    finally:
        source.close()
        target.close()
    wrong = [c.kind for c in done if c.source_records != c.target_records]
    if wrong:
        raise CopyError(
            "record counts differ after the copy in " + ", ".join(wrong) + ": the DynamoDB table holds records "
            "that are not in the SQLite file (copy into an empty table)"
        )
    return done


class _Records:
    """The SQLite file's rows of each kind as the DynamoDB items the store writes for them."""

    def __init__(self, source: SqliteAccountStore, target: DynamoAccountStore, audit_ttl: float) -> None:
        self._source = source
        self._store = target  # for its item builders
        self._jobs = DynamoCaptureJobStore(target.table)
        self._signins = DynamoSignInStore(target.table)
        self._audit_ttl = audit_ttl

    def of(self, kind: str) -> Iterator[_Record]:
        yield from getattr(self, "_" + kind)()

    def _rows(self, sql: str) -> list[Any]:
        return self._source.query(sql)

    def _workspaces(self) -> Iterator[_Record]:
        for ws in self._source.list_workspaces():
            items = [self._store._workspace_item(ws)]
            if ws.billing.stripe_customer_id:
                items.append(self._store._customer_item(ws.billing.stripe_customer_id, ws.namespace))
            yield _Record(items, [])

    def _marks(self) -> Iterator[_Record]:
        for row in self._rows("SELECT * FROM marks ORDER BY namespace, name"):
            item, chunks = mark_items(mark_from_row(row))
            yield _Record([item], chunks)

    def _rules(self) -> Iterator[_Record]:
        for row in self._rows("SELECT * FROM mark_rules ORDER BY rule_id"):
            yield _Record([rule_item(rule_from_row(row))], [])

    def _users(self) -> Iterator[_Record]:
        for row in self._rows("SELECT * FROM users ORDER BY user_id"):
            yield _Record(user_items(user_from_row(row)), [])

    def _memberships(self) -> Iterator[_Record]:
        for row in self._rows("SELECT * FROM memberships ORDER BY namespace, user_id"):
            yield _Record([member_item(membership_from_row(row))], [])

    def _keys(self) -> Iterator[_Record]:
        for row in self._rows("SELECT * FROM api_keys ORDER BY key_id"):
            yield _Record(key_items(key_from_row(row)), [])

    def _key_use(self) -> Iterator[_Record]:
        rows = self._rows(
            "SELECT u.key_id, u.day, u.requests, k.namespace FROM api_key_use u JOIN api_keys k USING (key_id) "
            "ORDER BY u.key_id, u.day"
        )
        for row in rows:
            use = KeyUse(row["key_id"], date.fromisoformat(row["day"]), int(row["requests"]))
            yield _Record([key_use_item(row["namespace"], use)], [])

    def _audit(self) -> Iterator[_Record]:
        expires_at = time.time() + self._audit_ttl
        for row in self._rows("SELECT * FROM audit ORDER BY entry_id"):
            yield _Record([audit_item(audit_from_row(row), expires_at)], [])

    def _webhook_events(self) -> Iterator[_Record]:
        for row in self._rows("SELECT event_id, received_at FROM webhook_events ORDER BY event_id"):
            yield _Record([webhook_event_item(row["event_id"], float(row["received_at"]))], [])

    def _usage_days(self) -> Iterator[_Record]:
        for ws in self._source.list_workspaces():
            for usage in self._source.usage.all_days(ws.namespace):
                yield _Record([usage_item(usage)], [])

    def _signin_codes(self) -> Iterator[_Record]:
        # Oldest first: the address's index items then order the codes as SQLite did.
        for row in self._rows("SELECT * FROM signin_codes ORDER BY seq"):
            actions = self._signins._code_actions(code_from_row(row))
            yield _Record([action["Put"]["Item"] for action in actions], [])

    def _sessions(self) -> Iterator[_Record]:
        for row in self._rows("SELECT * FROM sessions ORDER BY digest"):
            yield _Record([session_item(session_from_row(row))], [])

    def _domains(self) -> Iterator[_Record]:
        for row in self._rows("SELECT * FROM domains ORDER BY hostname, namespace"):
            domain = domain_from_row(row)
            yield _Record(domain_items(domain), [])

    def _capture_jobs(self) -> Iterator[_Record]:
        for row in self._rows("SELECT * FROM capture_jobs ORDER BY created_at, job_id"):
            job = job_from_row(row)
            items = [self._jobs._item(job, 1)]
            if job.status in ("queued", "processing"):
                items.append(self._jobs._queue_item(job))
            if job.webhook_due_at is not None:
                items.append(webhook_item(job.job_id, job.webhook_due_at))
            yield _Record(items, [])

    def _capture_workers(self) -> Iterator[_Record]:
        for row in self._rows("SELECT worker, seen_at FROM capture_workers ORDER BY worker"):
            yield _Record([worker_item(row["worker"], float(row["seen_at"]))], [])

    def _capture_webhook_secrets(self) -> Iterator[_Record]:
        for row in self._rows("SELECT * FROM capture_webhook_secrets ORDER BY namespace"):
            item = webhook_secret_item(row["namespace"], row["secret_sealed"], float(row["created_at"]))
            yield _Record([item], [])


def _keys_of(item: Item) -> tuple[str, str]:
    return str(item["PK"]["S"]), str(item["SK"]["S"])


def _present(table: Table, records: Sequence[_Record]) -> set[tuple[str, str]]:
    """Which of the records' own items the table holds (strongly consistent batch reads)."""
    wanted = [_keys_of(record.items[0]) for record in records]
    found: set[tuple[str, str]] = set()
    for start in range(0, len(wanted), READ_BATCH):
        request: Any = {
            table.name: {
                "Keys": [key(pk, sk) for pk, sk in wanted[start : start + READ_BATCH]],
                "ProjectionExpression": "PK, SK",
                "ConsistentRead": True,
            }
        }
        while request:
            answer = table.client.batch_get_item(RequestItems=request)
            found.update(_keys_of(item) for item in answer.get("Responses", {}).get(table.name, []))
            request = answer.get("UnprocessedKeys") or None
    return found


def _write(table: Table, kind: str, records: list[_Record]) -> int:
    """Write the records the table does not hold yet; how many."""
    present = _present(table, records)
    missing = [record for record in records if _keys_of(record.items[0]) not in present]
    batch: list[_Record] = []
    for record in missing:
        if record.chunks:
            # A big mark: its chunks can exceed a transaction's size, so they go first and the mark alone after.
            table.put_all(record.chunks)
            _transact(table, kind, [record])
            continue
        if sum(len(r.items) for r in batch) + len(record.items) > TRANSACTION_ITEMS or _big(batch):
            _transact(table, kind, batch)
            batch = []
        batch.append(record)
    _transact(table, kind, batch)
    return len(missing)


def _big(batch: list[_Record]) -> bool:
    # Inline mark images (up to 300 KB each) would pass a transaction's 4 MB: one mark per transaction.
    return any("img" in item for record in batch for item in record.items)


def _transact(table: Table, kind: str, batch: list[_Record]) -> None:
    if not batch:
        return
    actions = [put_action(item, "attribute_not_exists(PK)") for record in batch for item in record.items]
    if table.transact(actions):
        return
    # Something in the batch is there already: a concurrent run, or another install's record with the same
    # unique value (an address, a key digest). One record at a time tells which.
    for record in batch:
        if not table.transact([put_action(item, "attribute_not_exists(PK)") for item in record.items]):
            if table.get(*_keys_of(record.items[0])) is None:
                raise CopyError(f"a record of {kind} collides with other data in the DynamoDB table")


def _move_counters(table: Table, source: SqliteAccountStore) -> None:
    """Past the highest copied rule and audit ids, so ``next_id`` never answers a copied one."""
    for counter, sql in (
        ("rule_id", "SELECT COALESCE(MAX(rule_id), 0) AS top FROM mark_rules"),
        ("audit_id", "SELECT COALESCE(MAX(entry_id), 0) AS top FROM audit"),
    ):
        top = int(source.query(sql)[0]["top"])
        table.update(
            "COUNTER",
            counter,
            "SET #v = :top",
            condition="attribute_not_exists(#v) OR #v < :top",
            values={":top": n(top)},
            names={"#v": "value"},
        )


def _kind_of(pk: str, sk: str) -> str | None:
    if pk.startswith("WS#"):
        if sk == "WS":
            return "workspaces"
        if sk == "WEBHOOKSECRET":
            return "capture_webhook_secrets"
        for prefix, kind in (
            ("MARK#", "marks"),
            ("RULE#", "rules"),
            ("MEMBER#", "memberships"),
            ("KEY#", "keys"),
            ("KEYUSE#", "key_use"),
            ("AUDIT#", "audit"),
            ("USAGE#", "usage_days"),
        ):
            if sk.startswith(prefix):
                return kind
        return None
    for prefix, own, kind in (
        ("USER#", "USER", "users"),
        ("WEBHOOK#", "EVENT", "webhook_events"),
        ("CODE#", "CODE", "signin_codes"),
        ("SESSION#", "SESSION", "sessions"),
        ("JOB#", "JOB", "capture_jobs"),
    ):
        if pk.startswith(prefix) and sk == own:
            return kind
    if pk.startswith("DOMAIN#") and sk.startswith("CLAIM#"):
        return "domains"
    if pk == "WORKERS":
        return "capture_workers"
    return None


def _count_items(table: Table) -> dict[str, int]:
    """Records of each kind in the whole table (one consistent scan of the keys only)."""
    counts: dict[str, int] = {}
    args: dict[str, Any] = {"TableName": table.name, "ProjectionExpression": "PK, SK", "ConsistentRead": True}
    while True:
        page = table.client.scan(**args)
        for item in page.get("Items", []):
            kind = _kind_of(*_keys_of(item))
            if kind is not None:
                counts[kind] = counts.get(kind, 0) + 1
        if "LastEvaluatedKey" not in page:
            return counts
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]
