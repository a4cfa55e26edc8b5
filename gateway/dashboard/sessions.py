"""Dashboard sessions and CSRF tokens.

A session is a random 256-bit id in a cookie (HttpOnly, SameSite=Lax, Secure whenever the request came over
TLS, path ``/_/dashboard``); the store keeps only its SHA-256, so the table cannot be replayed as cookies. A
session ends when its owner signs out (that one) or signs out everywhere (all of theirs), after 12 hours without
a request (idle), and 14 days after sign-in whatever happens (absolute). Every sign-in makes a new id, so an id
planted in a browser before sign-in (fixation) never becomes a signed-in one.

CSRF tokens are HMACs of what the form is bound to: the session id once signed in, and before that a random
value in a short-lived cookie of its own (the sign-in forms). Nothing is stored for them; they are checked with
``hmac.compare_digest`` on every POST. SameSite=Lax already keeps other sites' POSTs from carrying the cookie;
the token is the second lock, for browsers and proxies that get SameSite wrong.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from gateway.accounts.signin import Session, SignInStore
from gateway.dashboard.signin import Clock

COOKIE = "imgate_session"
FORM_COOKIE = "imgate_form"
COOKIE_PATH = "/_/dashboard"
IDLE_TIMEOUT = 12 * 3600.0
MAX_AGE = 14 * 86400.0
# last_seen_at is written at most this often per session: idle expiry needs minutes, not every request.
TOUCH_EVERY = 60.0


def digest_of(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Sessions:
    store: SignInStore
    # HMAC key of CSRF tokens (derived from the gateway's secret key).
    key: bytes
    clock: Clock = time.time

    async def open(self, user_id: str) -> str:
        """A new session for the user; answers its id (for the cookie)."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        session = Session(digest_of(session_id), user_id, now, now)
        await asyncio.to_thread(self.store.add_session, session)
        # Sign-ins are rare: the moment to forget sessions that can no longer be used.
        await asyncio.to_thread(self.store.prune_sessions, now - MAX_AGE)
        return session_id

    async def current(self, session_id: str) -> Session | None:
        """The live session of this id, or ``None`` (unknown, revoked, idle too long, too old)."""
        if not session_id or len(session_id) > 100:
            return None
        digest = digest_of(session_id)
        session = await asyncio.to_thread(self.store.get_session, digest)
        now = self.clock()
        if session is None or now - session.last_seen_at >= IDLE_TIMEOUT or now - session.created_at >= MAX_AGE:
            return None
        if now - session.last_seen_at >= TOUCH_EVERY:
            await asyncio.to_thread(self.store.touch_session, digest, now)
        return session

    async def close(self, session_id: str) -> None:
        await asyncio.to_thread(self.store.revoke_session, digest_of(session_id), self.clock())

    async def close_all(self, user_id: str) -> int:
        return await asyncio.to_thread(self.store.revoke_user_sessions, user_id, self.clock())

    def csrf_token(self, binding: str) -> str:
        return hmac.new(self.key, f"csrf\n{binding}".encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, binding: str, given: str) -> bool:
        return bool(binding) and hmac.compare_digest(self.csrf_token(binding).encode(), given.encode())
