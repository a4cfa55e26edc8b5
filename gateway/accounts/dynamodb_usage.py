"""Usage counters in the DynamoDB account table: ``WS#<ns>`` / ``USAGE#<day>``, one item per workspace and day.

Counters are ``ADD`` updates (atomic per item), errors attributes ``err_<CODE>`` beside them, so every node's
workers add up. Each day's update goes with a condition check that the workspace exists, in one transaction
per flush where it fits (a transaction takes 100 actions): counts of a namespace with no workspace are dropped,
and the items go with the workspace's partition when it is deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from gateway.accounts.dynamodb_table import TRANSACTION_ITEMS, Item, Table, check_action, n, num, s, text, update_action
from gateway.accounts.usage import (
    COUNTERS,
    DailyUsage,
    UsageCounts,
    UsageTotals,
    check_counts,
    check_range,
    month_range,
    totals_of,
)

_ERROR = "err_"
# A key no item has (namespaces are lower case): reading it costs one small read and finds nothing.
_PROBE_KEY = ("WS#_HEALTH_", "USAGE#_HEALTH_")


def _daily(namespace: str, item: Item) -> DailyUsage:
    counts = {name: int(num(item, name) or 0) for name in COUNTERS}
    errors = {name.removeprefix(_ERROR): int(num(item, name) or 0) for name in item if name.startswith(_ERROR)}
    day = date.fromisoformat(text(item, "SK").removeprefix("USAGE#"))
    return DailyUsage(namespace, day, errors={code: v for code, v in errors.items() if v}, **counts)


def usage_item(usage: DailyUsage) -> Item:
    """A day's counters as one item, as ``add_batch``'s additions leave it (``_daily`` reads it back)."""
    item: Item = {"PK": s(f"WS#{usage.namespace}"), "SK": s(f"USAGE#{usage.day.isoformat()}")}
    item.update({name: n(getattr(usage, name)) for name in COUNTERS})
    item.update({f"{_ERROR}{code}": n(count) for code, count in usage.errors.items()})
    return item


def _has_counts(usage: DailyUsage) -> bool:
    return any(getattr(usage, name) for name in COUNTERS) or bool(usage.errors)


class DynamoUsageStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def add(self, namespace: str, day: date, counts: UsageCounts) -> None:
        self.add_batch({(namespace, day): counts})

    def add_batch(self, batch: Mapping[tuple[str, date], UsageCounts]) -> None:
        for counts in batch.values():
            check_counts(counts)
        updates: dict[str, list[Item]] = {}
        for (namespace, day), counts in batch.items():
            if counts.is_empty():
                continue
            values: Item = {f":{name}": n(getattr(counts, name)) for name in COUNTERS}
            parts = [f"{name} :{name}" for name in COUNTERS]
            for i, (code, count) in enumerate(sorted(counts.errors.items())):
                values[f":e{i}"] = n(count)
                parts.append(f"{_ERROR}{code} :e{i}")
            pk = f"WS#{namespace}"
            updates.setdefault(namespace, []).append(
                update_action(pk, f"USAGE#{day.isoformat()}", "ADD " + ", ".join(parts), values=values)
            )
        # One condition check per workspace (a transaction names each item once), then its days.
        groups = [
            [check_action(f"WS#{namespace}", "WS", "attribute_exists(PK)"), *days[start : start + 99]]
            for namespace, days in updates.items()
            for start in range(0, len(days), 99)
        ]
        chunk: list[list[Item]] = []
        for group in groups:
            if sum(len(g) for g in chunk) + len(group) > TRANSACTION_ITEMS:
                self._flush(chunk)
                chunk = []
            chunk.append(group)
        self._flush(chunk)

    def healthy(self) -> bool:
        try:
            # Over the table's client for health checks: one attempt, so an endpoint that hangs is a no within
            # about 3 s rather than the 15-30 s of a call's attempts.
            self._table.probe(*_PROBE_KEY)
        except Exception:
            return False
        return True

    def _flush(self, chunk: list[list[Item]]) -> None:
        if not chunk or self._table.transact([action for group in chunk for action in group]):
            return
        # One of them names no workspace (a cancelled transaction wrote nothing): add them one workspace at a
        # time, so only that one's counts are dropped.
        for group in chunk:
            self._table.transact(group)

    def _items(self, namespace: str, first: date, last: date) -> list[DailyUsage]:
        items = self._table.query(
            f"WS#{namespace}", between=(f"USAGE#{first.isoformat()}", f"USAGE#{last.isoformat()}")
        )
        return [usage for usage in (_daily(namespace, item) for item in items) if _has_counts(usage)]

    def days(self, namespace: str, first: date, last: date) -> list[DailyUsage]:
        check_range(first, last)
        return self._items(namespace, first, last)

    def month_totals(self, namespace: str, year: int, month: int) -> UsageTotals:
        first, last = month_range(year, month)
        return totals_of(self._items(namespace, first, last))

    def all_days(self, namespace: str) -> list[DailyUsage]:
        items = self._table.query(f"WS#{namespace}", prefix="USAGE#")
        return [usage for usage in (_daily(namespace, item) for item in items) if _has_counts(usage)]

    def delete_workspace(self, namespace: str) -> int:
        items = list(self._table.query(f"WS#{namespace}", prefix="USAGE#"))
        self._table.delete_all([(f"WS#{namespace}", text(item, "SK")) for item in items])
        return sum(1 for item in items if _has_counts(_daily(namespace, item)))
