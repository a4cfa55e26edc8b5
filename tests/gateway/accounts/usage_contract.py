"""The ``UsageStore`` contract: one suite every usage store runs (SQLite, memory, Redis, PostgreSQL, DynamoDB).

A test module subclasses ``UsageStoreContract`` and provides ``usage`` (a new, empty store), ``workspace``
(a callable that makes a namespace known, for the stores that drop counts of unknown namespaces) and ``outage``
(an ``Outage``: a store whose server the test can take away; only the stores that have a server to lose
provide one, SQLite and memory are always up).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.accounts.usage import DailyUsage, UsageCounts, UsageStore, UsageTotals

DAY = date(2026, 3, 14)


@dataclass(frozen=True)
class Outage:
    usage: UsageStore  # reachable until ``cut`` is called
    cut: Callable[[], None]  # takes its server away (stopped, hung, or its database dropped)
    # Where the server was, each part on its own (host, port, database): libraries spell an address in their own
    # ways (``"127.0.0.1", port 5432``), so no log line may name any of them.
    names: tuple[str, ...]
    # Seconds ``healthy`` may take to say no once the server is gone: the flusher asks every interval.
    answers_within: float = 5.0


def naming(lines: list[str], names: tuple[str, ...]) -> list[str]:
    """The lines that name one of ``names`` as a word of its own (a port is not the middle of a hex address)."""
    patterns = [re.compile(rf"(?<!\w){re.escape(name)}(?!\w)") for name in names]
    return [line for line in lines if any(pattern.search(line) for pattern in patterns)]


def counts(**values: int) -> UsageCounts:
    errors = {name.upper(): n for name, n in values.items() if name.startswith("e_")}
    plain = {name: n for name, n in values.items() if not name.startswith("e_")}
    return UsageCounts(**plain, errors={code[2:]: n for code, n in errors.items()})


class UsageStoreContract:
    def test_a_new_store_has_no_days(self, usage: UsageStore, workspace: Callable[[str], None]) -> None:
        workspace("acme")
        assert usage.days("acme", DAY, DAY) == []
        assert usage.month_totals("acme", 2026, 3) == UsageTotals()

    def test_adds_sum_every_counter(self, usage: UsageStore, workspace: Callable[[str], None]) -> None:
        workspace("acme")
        usage.add("acme", DAY, counts(requests=3, hits_memory=1, hits_store=1, renders=1, bytes_out=100))
        usage.add("acme", DAY, counts(requests=2, captures=1, not_modified=1, bytes_out=50, e_not_found=1))
        usage.add("acme", DAY, counts(requests=1, e_not_found=2, e_origin_error=1))
        assert usage.days("acme", DAY, DAY) == [
            DailyUsage(
                "acme",
                DAY,
                requests=6,
                hits_memory=1,
                hits_store=1,
                renders=1,
                captures=1,
                bytes_out=150,
                not_modified=1,
                errors={"NOT_FOUND": 3, "ORIGIN_ERROR": 1},
            )
        ]

    def test_days_are_in_order_within_the_range_without_empty_days(
        self, usage: UsageStore, workspace: Callable[[str], None]
    ) -> None:
        workspace("acme")
        for day in (date(2026, 3, 20), date(2026, 3, 1), date(2026, 3, 10), date(2026, 2, 28)):
            usage.add("acme", day, counts(requests=day.day))
        found = usage.days("acme", date(2026, 3, 1), date(2026, 3, 20))
        assert [(u.day, u.requests) for u in found] == [
            (date(2026, 3, 1), 1),
            (date(2026, 3, 10), 10),
            (date(2026, 3, 20), 20),
        ]

    def test_workspaces_are_kept_apart(self, usage: UsageStore, workspace: Callable[[str], None]) -> None:
        workspace("acme")
        workspace("shop")
        usage.add_batch({("acme", DAY): counts(requests=1), ("shop", DAY): counts(requests=5, renders=2)})
        assert [u.requests for u in usage.days("acme", DAY, DAY)] == [1]
        assert [(u.requests, u.renders) for u in usage.days("shop", DAY, DAY)] == [(5, 2)]

    def test_month_totals_sum_the_calendar_month_only(
        self, usage: UsageStore, workspace: Callable[[str], None]
    ) -> None:
        workspace("acme")
        usage.add("acme", date(2026, 2, 28), counts(requests=100, renders=100))
        usage.add("acme", date(2026, 3, 1), counts(requests=4, renders=2, captures=1, bytes_out=10))
        usage.add("acme", date(2026, 3, 31), counts(requests=6, renders=3, bytes_out=5))
        usage.add("acme", date(2026, 4, 1), counts(requests=100))
        assert usage.month_totals("acme", 2026, 3) == UsageTotals(requests=10, renders=5, captures=1, bytes_out=15)

    def test_concurrent_adds_lose_nothing(self, usage: UsageStore, workspace: Callable[[str], None]) -> None:
        workspace("acme")

        def flush_many() -> None:
            for _ in range(25):
                usage.add("acme", DAY, counts(requests=1, bytes_out=3, e_not_found=1))

        threads = [threading.Thread(target=flush_many) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        (day,) = usage.days("acme", DAY, DAY)
        assert (day.requests, day.bytes_out, dict(day.errors)) == (100, 300, {"NOT_FOUND": 100})

    def test_bad_counts_and_ranges_are_refused(self, usage: UsageStore, workspace: Callable[[str], None]) -> None:
        workspace("acme")
        with pytest.raises(ValueError, match="requests"):
            usage.add("acme", DAY, UsageCounts(requests=-1))
        with pytest.raises(ValueError, match="error code"):
            usage.add("acme", DAY, UsageCounts(requests=1, errors={"no spaces": 1}))
        with pytest.raises(ValueError, match="ends before"):
            usage.days("acme", date(2026, 3, 2), date(2026, 3, 1))
        with pytest.raises(ValueError, match="at most"):
            usage.days("acme", date(2024, 1, 1), date(2026, 1, 1))
        assert usage.days("acme", DAY, DAY) == []

    def test_all_days_lists_every_stored_day_past_one_reads_range(
        self, usage: UsageStore, workspace: Callable[[str], None]
    ) -> None:
        workspace("acme")
        workspace("acme-eu")  # a namespace that starts with the other's name
        # Relative to today: Redis expires a day's hash RETENTION_DAYS after it, so fixed old days would be gone.
        today = datetime.now(UTC).date()
        stored = [today - timedelta(days=390), today - timedelta(days=20), today]
        for n, day in enumerate(reversed(stored), start=1):
            usage.add("acme", day, counts(requests=n, e_not_found=n))
        usage.add("acme-eu", today, counts(requests=99))
        found = usage.all_days("acme")
        assert [(u.day, u.requests, dict(u.errors)) for u in found] == [
            (stored[0], 3, {"NOT_FOUND": 3}),
            (stored[1], 2, {"NOT_FOUND": 2}),
            (stored[2], 1, {"NOT_FOUND": 1}),
        ]
        assert found[1:] == usage.days("acme", stored[1], today)  # the same records a ranged read answers
        assert usage.all_days("nobody") == []

    def test_delete_workspace_deletes_its_days_only(self, usage: UsageStore, workspace: Callable[[str], None]) -> None:
        for namespace in ("acme", "acme-eu", "shop"):
            workspace(namespace)
        usage.add_batch(
            {
                ("acme", DAY): counts(requests=1, e_not_found=1),
                ("acme", date(2026, 3, 15)): counts(requests=2),
                ("acme-eu", DAY): counts(requests=3),
                ("shop", DAY): counts(requests=4),
            }
        )
        assert usage.delete_workspace("acme") == 2
        assert usage.all_days("acme") == [] and usage.days("acme", DAY, date(2026, 3, 15)) == []
        assert [u.requests for u in usage.all_days("acme-eu")] == [3]
        assert [u.requests for u in usage.all_days("shop")] == [4]
        assert usage.delete_workspace("acme") == 0
        usage.add("acme", DAY, counts(requests=5))  # counting starts again from nothing, errors included
        assert [(u.requests, dict(u.errors)) for u in usage.all_days("acme")] == [(5, {})]

    def test_a_reachable_store_is_healthy(self, usage: UsageStore, workspace: Callable[[str], None]) -> None:
        workspace("acme")
        assert usage.healthy() is True
        usage.add("acme", DAY, counts(requests=1))
        assert usage.healthy() is True
        assert [u.requests for u in usage.days("acme", DAY, DAY)] == [1]  # asking changed no count

    def test_an_unreachable_store_is_unhealthy_without_raising(
        self, outage: Outage, caplog: pytest.LogCaptureFixture
    ) -> None:
        assert outage.usage.healthy() is True
        outage.cut()
        # Every logger, at INFO, the level the gateway logs at: the libraries' lines (a pool's reconnect
        # warnings) reach the same log as the gateway's own.
        with caplog.at_level(logging.INFO):
            caplog.clear()
            # Asked more than once: the first ask may only find a broken connection, a later one waits for a
            # new one. Each is an answer, never an error, and a prompt one.
            for _ in range(3):
                started = time.monotonic()
                assert outage.usage.healthy() is False
                assert time.monotonic() - started < outage.answers_within
            lines = [record.getMessage() for record in caplog.records]
        assert not naming(lines, outage.names)
