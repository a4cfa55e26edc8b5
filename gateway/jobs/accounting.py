"""``JobAccounting``: capture jobs and their result downloads counted as the image path counts its requests,
through the same ``RequestHooks.record`` (usage counters, the monthly quotas' local counts, metrics and the
access log), so a workspace's usage shows its API captures and the bytes their results sent.

What each records (an ``Outcome`` of the job's workspace, never its URL):

- a completed job: a capture miss (``tier = "miss"``, kind ``cap``), as a ``?capture=`` miss is, with no bytes
  out (nothing was sent yet) and the time from its claim to its end;
- a failed job: an error with its code;
- a result download: the bytes it sent (``tier`` None: neither a hit nor a render).

The hooks name a namespace only once it resolved to a workspace in this process (``Tenancy.known``), so the
workspace is resolved first; that is one cached lookup, and a workspace deleted meanwhile is simply not counted.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from gateway.delivery.hooks import Outcome, RequestHooks

log = logging.getLogger("imgate.jobs")


class JobAccounting:
    def __init__(self, resolve: Callable[[str], Awaitable[object]], hooks: RequestHooks) -> None:
        self._resolve = resolve  # ``Tenancy.get``
        self._hooks = hooks

    async def record(self, outcome: Outcome) -> None:
        """Never raises: counting must not fail a job or a download."""
        try:
            await self._resolve(outcome.namespace)
            self._hooks.record(outcome)
        except Exception:
            log.exception("a capture job could not be counted")
