"""The ``Limiter`` protocol: one token bucket per workspace, taken from on every request.

A bucket holds at most ``burst`` tokens and refills at ``rate`` tokens a second; a request takes one, and a
request that finds none is refused. ``acquire`` is called on the event loop for every cache hit, so an
implementation decides from memory it owns and does any I/O rarely (leases of several tokens) or in the
background; it never raises.
"""

from __future__ import annotations

from typing import Literal, NamedTuple, Protocol

Health = Literal["ok", "degraded"]


class Decision(NamedTuple):
    """A tuple, not a dataclass: one is made per request, and a frozen dataclass costs several times more."""

    admitted: bool
    # Tokens left in the workspace's bucket as far as this process knows (the RateLimit field's ``r``), >= 0.
    remaining: int
    # Seconds until the next token (refused) or until the bucket is full again (admitted), >= 0.
    wait: float


class Limiter(Protocol):
    def acquire(self, namespace: str, rate: int, burst: int) -> Decision:
        """Take one token from the workspace's bucket, or refuse."""
        ...

    def health(self) -> Health:
        """Is "ok", or "degraded" while a shared backend is unreachable and the node decides alone."""
        ...

    async def aclose(self) -> None: ...


def lease_size(rate: int, burst: int) -> int:
    """Tokens a process takes from the shared bucket at once: 1/20 of a second's worth (at least one).

    Small enough that the tokens held by the other processes leave the shared limit within 5% of one
    second's rate per process; large enough that the shared bucket is touched ~20 times a second per busy
    process, not once per request.
    """
    return max(1, min(burst, rate // 20))
