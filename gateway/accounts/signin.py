"""Dashboard sign-in: one-time codes sent by email, and the sessions a correct code opens.

Neither record holds a secret that works if the store leaks: a code is stored as its HMAC (keyed by the
gateway's secret key, so eight digits cannot be found by hashing all 10^8 of them), a session as the SHA-256 of
its random id (the id itself lives only in the browser's cookie). The store keeps the counters the limits need
and makes the two checks that must hold under concurrent requests atomic:

- ``claim_attempt`` spends one of a code's attempts before it is compared, and refuses once they are spent, so
  parallel guesses cannot get past the limit between a read and a write;
- ``use_code`` marks a code used only if it was not, so one code opens at most one session;
- ``add_code_within`` counts an address's and a client's recent codes and stores a new one in one step, so
  parallel requests cannot all pass the count before any of them is stored.

Semantics every implementation keeps (``tests/gateway/accounts/signin_contract.py`` checks them): times are the
caller's (the sign-in service's clock, so tests can move it), codes and sessions are found by digest only,
``newest_code`` is the last code issued to an address whatever its state, a revoked session is never answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

_DIGEST = re.compile(r"[0-9a-f]{64}")
_CODE_ID = re.compile(r"sic_[0-9a-f]{20}")


def _check_digest(digest: str, what: str) -> None:
    if not _DIGEST.fullmatch(digest):
        raise ValueError(f"a {what} is stored as 64 lower-case hex digits (a SHA-256 digest)")


@dataclass(frozen=True, slots=True)
class SignInCode:
    code_id: str
    # The address in ``users.normalise_email`` form: the code is for this address only.
    email: str
    digest: str
    # The client address that asked for it (text), for the per-client send limit.
    client: str
    created_at: float
    expires_at: float
    attempts: int = 0
    used_at: float | None = None

    def __post_init__(self) -> None:
        if not _CODE_ID.fullmatch(self.code_id):
            raise ValueError("a sign-in code id looks like sic_ and 20 hex digits")
        _check_digest(self.digest, "sign-in code")
        if self.expires_at <= self.created_at:
            raise ValueError("a sign-in code expires after it is created")


@dataclass(frozen=True, slots=True)
class Session:
    # SHA-256 of the id in the cookie.
    digest: str
    user_id: str
    created_at: float
    last_seen_at: float
    revoked_at: float | None = None

    def __post_init__(self) -> None:
        _check_digest(self.digest, "session id")


class SignInStore(Protocol):
    # Codes.
    def add_code(self, code: SignInCode) -> None:
        """Store a new code; ``ValueError`` when its id is stored already."""
        ...

    def newest_code(self, email: str) -> SignInCode | None:
        """The code issued last to ``email`` (used, spent or expired included): only it can sign in."""
        ...

    def count_codes(self, *, since: float, email: str | None = None, client: str | None = None) -> int:
        """Codes created at ``since`` or later for ``email`` and/or asked for from ``client``."""
        ...

    def add_code_within(self, code: SignInCode, *, since: float, per_email: int, per_client: int) -> bool:
        """Store ``code`` only if fewer than ``per_email`` codes of its address and fewer than ``per_client`` of
        its client were created at ``since`` or later, atomically with the counting; whether it was stored."""
        ...

    def claim_attempt(self, code_id: str, max_attempts: int) -> bool:
        """Spend one attempt: ``True`` if the code is unused and had fewer than ``max_attempts``, else ``False``."""
        ...

    def use_code(self, code_id: str, at: float) -> bool:
        """Mark the code used: ``True`` the first time, ``False`` if it was used already (or is unknown)."""
        ...

    def prune_codes(self, before: float) -> int:
        """Delete codes that expired before ``before``; how many."""
        ...

    # Sessions.
    def add_session(self, session: Session) -> None:
        """Store a new session; ``ValueError`` when its digest is stored already."""
        ...

    def get_session(self, digest: str) -> Session | None:
        """The session, or ``None`` when there is none or it was revoked."""
        ...

    def touch_session(self, digest: str, at: float) -> None:
        """Set ``last_seen_at`` (idle expiry counts from it); unknown digests are ignored."""
        ...

    def revoke_session(self, digest: str, at: float) -> bool:
        """End one session (sign-out); ``False`` when it was not live."""
        ...

    def revoke_user_sessions(self, user_id: str, at: float) -> int:
        """End every live session of a user (sign out everywhere); how many."""
        ...

    def prune_sessions(self, before: float) -> int:
        """Delete sessions created before ``before`` (past any absolute expiry) or revoked before it."""
        ...
