"""``UsageHooks``: the request hook that counts each workspace request in memory, per UTC day.

``record`` runs on the event loop for every answer, hits from the fast front included, so it does no I/O and
takes no lock: it adds to a dict the flusher (``gateway.usage.flusher``) swaps out on the same loop. Only
namespaces that resolved to a workspace are counted (the tenancy cache says so without loading anything), so
requests for made-up namespaces cannot grow the dict or reach the store.

What counts as what (the README's "Limits and usage" states it for customers):

- every answer is a request, errors and 304s included; a preflight too (it costs a worker);
- ``hits_memory`` / ``hits_store``: answered from the memory tier or the result store (304s included);
- ``renders``: misses that ran a transform (or passed an original through); ``captures``: misses that ran a
  browser; a request that waited for an identical render in flight ("coalesced") is neither;
- ``bytes_out``: body bytes sent (none for HEAD and 304); ``errors``: by error code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

from gateway.accounts.usage import UsageCounts
from gateway.cache.keys import Kind
from gateway.delivery.hooks import Outcome, RecordOnly

_DAY_SECONDS = 86400
# A bound on what one flush interval may gather (workspaces x days); past it a request is still answered but
# not counted, and the flusher logs that it happened.
MAX_PENDING = 50_000

Pending = dict[tuple[str, date], UsageCounts]


class UsageHooks(RecordOnly):
    def __init__(self, known: Callable[[str], bool], clock: Callable[[], float] = time.time) -> None:
        self._known = known  # ``Tenancy.known``: resolved to a workspace, never a load
        self._clock = clock
        self._pending: Pending = {}
        self._day_number = -1
        self._day = date(1970, 1, 1)
        self.dropped = 0  # requests not counted because ``MAX_PENDING`` was reached

    def record(self, outcome: Outcome) -> None:
        if not self._known(outcome.namespace):
            return
        entry = (outcome.namespace, self._today())
        counts = self._pending.get(entry)
        if counts is None:
            if len(self._pending) >= MAX_PENDING:
                self.dropped += 1
                return
            counts = self._pending[entry] = UsageCounts()
        counts.requests += 1
        counts.bytes_out += outcome.bytes_out
        tier = outcome.tier
        if tier == "memory":
            counts.hits_memory += 1
        elif tier == "store":
            counts.hits_store += 1
        elif tier == "miss":
            if outcome.kind is Kind.CAPTURE:
                counts.captures += 1
            else:
                counts.renders += 1
        if outcome.status == 304:
            counts.not_modified += 1
        if outcome.code is not None:
            counts.errors[outcome.code] = counts.errors.get(outcome.code, 0) + 1

    def take(self) -> Pending:
        """What was counted since the last call, handed to the flusher; counting starts again from nothing."""
        pending, self._pending = self._pending, {}
        return pending

    def give_back(self, pending: Pending) -> None:
        """A flush failed: its counts go back in, to be added by the next one."""
        for entry, counts in pending.items():
            mine = self._pending.get(entry)
            if mine is None:
                self._pending[entry] = counts
            else:
                mine.merge(counts)

    def _today(self) -> date:
        # One date object per day: a request computes an integer division, not a calendar conversion.
        number = int(self._clock()) // _DAY_SECONDS
        if number != self._day_number:
            self._day = date.fromordinal(date(1970, 1, 1).toordinal() + number)
            self._day_number = number
        return self._day
