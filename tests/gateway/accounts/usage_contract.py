"""The ``UsageStore`` contract: one suite every usage store runs (SQLite, memory, Redis).

A test module subclasses ``UsageStoreContract`` and provides ``usage`` (a new, empty store) and ``workspace``
(a callable that makes a namespace known, for the stores that drop counts of unknown namespaces).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

import pytest

from gateway.accounts.usage import DailyUsage, UsageCounts, UsageStore, UsageTotals

DAY = date(2026, 3, 14)


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
