"""Usage counters in Redis (``usage_store = "redis"``): one hash per workspace and UTC day, added with HINCRBY.

Several nodes flush into the same hashes and HINCRBY adds atomically, so their counts sum without any
coordination. A flush is one MULTI/EXEC pipeline: all of it is added or none (the flusher keeps the counts and
tries again). Redis knows no workspaces, so counts are kept whatever the namespace (the request path counts
only namespaces it resolved); each hash expires ``RETENTION_DAYS`` after its day. Deleting a workspace deletes
its hashes (``delete_workspace``, found with SCAN); the expiry bounds what a node that still counted the
workspace for a moment (its tenancy cache) flushes after that.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import redis

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

RETENTION_DAYS = 400  # a year of charts, and the month before it for quotas
_ERROR_FIELD = "error:"
_TIMEOUT = 2.0  # seconds: a flush or a read that waits longer fails and is retried or reported
_SCAN_COUNT = 500  # keys looked at per SCAN step when listing a workspace's hashes
_DELETE_BATCH = 500  # keys per UNLINK


def usage_key(prefix: str, namespace: str, day: date) -> str:
    return f"{prefix}usage:{namespace}:{day.isoformat()}"


def _glob_escaped(text: str) -> str:
    # SCAN's MATCH is a glob: a namespace or prefix is matched as written, never as a pattern.
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)


class RedisUsageStore:
    def __init__(self, url: str, prefix: str = "imgate:") -> None:
        self._redis = redis.Redis.from_url(
            url, socket_timeout=_TIMEOUT, socket_connect_timeout=_TIMEOUT, decode_responses=True
        )
        self._prefix = prefix

    def add(self, namespace: str, day: date, counts: UsageCounts) -> None:
        self.add_batch({(namespace, day): counts})

    def add_batch(self, batch: Mapping[tuple[str, date], UsageCounts]) -> None:
        for counts in batch.values():
            check_counts(counts)
        if not batch:
            return
        pipe = self._redis.pipeline(transaction=True)
        for (namespace, day), counts in batch.items():
            key = usage_key(self._prefix, namespace, day)
            for name in COUNTERS:
                value = getattr(counts, name)
                if value:
                    pipe.hincrby(key, name, value)
            for code, n in counts.errors.items():
                if n:
                    pipe.hincrby(key, _ERROR_FIELD + code, n)
            pipe.expireat(key, _expiry(day))
        pipe.execute()

    def days(self, namespace: str, first: date, last: date) -> list[DailyUsage]:
        check_range(first, last)
        span = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        pipe = self._redis.pipeline(transaction=False)
        for day in span:
            pipe.hgetall(usage_key(self._prefix, namespace, day))
        found = []
        for day, fields in zip(span, pipe.execute(), strict=True):
            if fields:
                found.append(_daily(namespace, day, fields))
        return found

    def month_totals(self, namespace: str, year: int, month: int) -> UsageTotals:
        return totals_of(self.days(namespace, *month_range(year, month)))

    def all_days(self, namespace: str) -> list[DailyUsage]:
        keyed = sorted(self._stored_days(namespace).items())
        pipe = self._redis.pipeline(transaction=False)
        for _, key in keyed:
            pipe.hgetall(key)
        # A hash may expire between the scan and the read: it is left out like any day without counts.
        return [
            _daily(namespace, day, fields) for (day, _), fields in zip(keyed, pipe.execute(), strict=True) if fields
        ]

    def delete_workspace(self, namespace: str) -> int:
        keys = list(self._stored_days(namespace).values())
        pipe = self._redis.pipeline(transaction=False)
        for start in range(0, len(keys), _DELETE_BATCH):
            pipe.unlink(*keys[start : start + _DELETE_BATCH])
        return sum(int(gone) for gone in pipe.execute())

    def _stored_days(self, namespace: str) -> dict[date, str]:
        """The workspace's hashes by day, found with SCAN (never KEYS: it would block a shared Redis)."""
        head = usage_key(self._prefix, namespace, date.min)[: -len(date.min.isoformat())]
        found: dict[date, str] = {}
        for key in self._redis.scan_iter(match=_glob_escaped(head) + "*", count=_SCAN_COUNT):
            try:
                found[date.fromisoformat(key[len(head) :])] = key
            except ValueError:
                continue  # another namespace's, one that starts with this one and a ':'
        return found

    def healthy(self) -> bool:
        try:
            return bool(self._redis.ping())
        except Exception:
            return False

    def close(self) -> None:
        self._redis.close()


def _expiry(day: date) -> int:
    end = day + timedelta(days=RETENTION_DAYS)
    return int((end - date(1970, 1, 1)).total_seconds())


def _daily(namespace: str, day: date, fields: Mapping[str, str]) -> DailyUsage:
    counts = {name: int(fields.get(name, 0)) for name in COUNTERS}
    errors = {name[len(_ERROR_FIELD) :]: int(value) for name, value in fields.items() if name.startswith(_ERROR_FIELD)}
    return DailyUsage(
        namespace,
        day,
        requests=counts["requests"],
        hits_memory=counts["hits_memory"],
        hits_store=counts["hits_store"],
        renders=counts["renders"],
        captures=counts["captures"],
        bytes_out=counts["bytes_out"],
        not_modified=counts["not_modified"],
        errors=dict(sorted(errors.items())),
    )
