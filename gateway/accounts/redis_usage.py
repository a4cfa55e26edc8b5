"""Usage counters in Redis (``usage_store = "redis"``): one hash per workspace and UTC day, added with HINCRBY.

Several nodes flush into the same hashes and HINCRBY adds atomically, so their counts sum without any
coordination. A flush is one MULTI/EXEC pipeline: all of it is added or none (the flusher keeps the counts and
tries again). Redis knows no workspaces, so counts are kept whatever the namespace (the request path counts
only namespaces it resolved); each hash expires ``RETENTION_DAYS`` after its day, which bounds what a deleted
workspace leaves behind.
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


def usage_key(prefix: str, namespace: str, day: date) -> str:
    return f"{prefix}usage:{namespace}:{day.isoformat()}"


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

    def ping(self) -> bool:
        try:
            return bool(self._redis.ping())
        except redis.RedisError:
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
