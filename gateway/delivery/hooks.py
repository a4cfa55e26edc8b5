"""The request path's two hook points, where rate limits, usage counters and the audit line plug in.

``RequestHooks.admit(tenant)`` runs once per GET or HEAD of a known workspace whose CORS gate passed, before
the request costs anything (the fast path calls it once the hit is found in memory, which costs nothing
either); preflights, refused origins and unknown workspaces are answered without it. It refuses by raising a
``GatewayError`` (``RateLimited`` with ``Retry-After``), which is answered with the workspace's CORS headers so
a page can read it. What it returns is added to the response's headers, errors included
(``RateLimit``/``RateLimit-Policy``), so a limited workspace can show them on every answer.

``RequestHooks.record(outcome)`` runs once per request to a workspace path, every answer included (errors,
preflights, unknown workspaces), after its response was sent: the usage counters and the audit line read the
``Outcome``. It runs on the event loop for every hit, so it must not block (count in memory, flush elsewhere);
an exception it raises is logged and goes no further.

The hit fast path and the full path call both the same way. ``gateway.services`` wires ``ChainedHooks``
over the hooks each feature builds (``NoHooks`` when there are none).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from gateway.cache.keys import Kind
from gateway.tenancy import Tenant
from gateway.web.cors import Headers

log = logging.getLogger("imgate")


class Outcome:
    """What one workspace request came to. Never the URL, key, query or any header value: the audit line
    must not carry them."""

    __slots__ = ("bytes_out", "code", "content_type", "kind", "namespace", "seconds", "status", "tier")

    def __init__(
        self,
        namespace: str,
        status: int,
        tier: str | None,
        code: str | None,
        kind: Kind | None,
        bytes_out: int,
        seconds: float,
        content_type: str | None = None,
    ) -> None:
        self.namespace = namespace  # as requested: it may name no workspace (a 404)
        self.status = status
        self.tier = tier  # "memory", "store", "miss" (a render), "coalesced"; None for errors and preflights
        self.code = code  # the error code, for errors
        self.kind = kind  # the source kind, once the request was planned
        self.bytes_out = bytes_out  # body bytes sent (0 for HEAD and 304)
        self.seconds = seconds  # from the request's arrival to its answer being ready
        self.content_type = content_type  # of an image answer (its format), else None


class RequestHooks(Protocol):
    def admit(self, tenant: Tenant) -> Headers:
        """Before the request's work: raise a ``GatewayError`` to refuse; return headers to add (or ())."""
        ...

    def record(self, outcome: Outcome) -> None:
        """After the response was sent. Must neither block nor raise."""
        ...


class RecordOnly:
    """A hook that only records: it admits everything, so a chain never asks it (a hit asks the admitting
    hooks alone). A subclass that defines ``admit`` after all is asked again."""

    def admit(self, tenant: Tenant) -> Headers:
        return ()

    def record(self, outcome: Outcome) -> None:
        raise NotImplementedError


class NoHooks:
    """Admits everything, records nothing."""

    def admit(self, tenant: Tenant) -> Headers:
        return ()

    def record(self, outcome: Outcome) -> None:
        return None


class ChainedHooks:
    """Several hooks as one: admitted only when every hook admits (in order; the first refusal wins), their
    headers added together; every hook records, and one that raises does not keep the others from it."""

    def __init__(self, hooks: Sequence[RequestHooks]) -> None:
        self._hooks = tuple(hooks)
        self._admitting = tuple(hook for hook in hooks if type(hook).admit is not RecordOnly.admit)

    def admit(self, tenant: Tenant) -> Headers:
        if len(self._admitting) == 1:
            return self._admitting[0].admit(tenant)
        headers: list[tuple[bytes, bytes]] = []
        for hook in self._admitting:
            headers.extend(hook.admit(tenant))
        return tuple(headers)

    def record(self, outcome: Outcome) -> None:
        for hook in self._hooks:
            try:
                hook.record(outcome)
            except Exception:
                log.exception("a record hook failed")


def chain(hooks: Sequence[RequestHooks]) -> RequestHooks:
    return hooks[0] if len(hooks) == 1 else ChainedHooks(hooks) if hooks else NoHooks()
