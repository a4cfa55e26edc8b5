"""Sign-in codes and sessions in this process's memory (``MemoryAccountStore.signins``): unit tests, demos."""

from __future__ import annotations

import dataclasses
import threading

from gateway.accounts.signin import Session, SignInCode


class MemorySignInStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # In insertion order, so the newest code of an address is the last one seen.
        self._codes: dict[str, SignInCode] = {}
        self._sessions: dict[str, Session] = {}

    def add_code(self, code: SignInCode) -> None:
        with self._lock:
            if code.code_id in self._codes:
                raise ValueError("a sign-in code with that id is stored already")
            self._codes[code.code_id] = code

    def newest_code(self, email: str) -> SignInCode | None:
        with self._lock:
            return next((code for code in reversed(self._codes.values()) if code.email == email), None)

    def count_codes(self, *, since: float, email: str | None = None, client: str | None = None) -> int:
        with self._lock:
            return sum(
                1
                for code in self._codes.values()
                if code.created_at >= since
                and (email is None or code.email == email)
                and (client is None or code.client == client)
            )

    def add_code_within(self, code: SignInCode, *, since: float, per_email: int, per_client: int) -> bool:
        with self._lock:
            recent = [c for c in self._codes.values() if c.created_at >= since]
            if sum(c.email == code.email for c in recent) >= per_email:
                return False
            if sum(c.client == code.client for c in recent) >= per_client:
                return False
            if code.code_id in self._codes:
                raise ValueError("a sign-in code with that id is stored already")
            self._codes[code.code_id] = code
            return True

    def claim_attempt(self, code_id: str, max_attempts: int) -> bool:
        with self._lock:
            code = self._codes.get(code_id)
            if code is None or code.used_at is not None or code.attempts >= max_attempts:
                return False
            self._codes[code_id] = dataclasses.replace(code, attempts=code.attempts + 1)
            return True

    def use_code(self, code_id: str, at: float) -> bool:
        with self._lock:
            code = self._codes.get(code_id)
            if code is None or code.used_at is not None:
                return False
            self._codes[code_id] = dataclasses.replace(code, used_at=at)
            return True

    def prune_codes(self, before: float) -> int:
        with self._lock:
            gone = [code_id for code_id, code in self._codes.items() if code.expires_at < before]
            for code_id in gone:
                del self._codes[code_id]
            return len(gone)

    def add_session(self, session: Session) -> None:
        with self._lock:
            if session.digest in self._sessions:
                raise ValueError("a session with that id is stored already")
            self._sessions[session.digest] = session

    def get_session(self, digest: str) -> Session | None:
        with self._lock:
            session = self._sessions.get(digest)
        return session if session is not None and session.revoked_at is None else None

    def touch_session(self, digest: str, at: float) -> None:
        with self._lock:
            session = self._sessions.get(digest)
            if session is not None:
                self._sessions[digest] = dataclasses.replace(session, last_seen_at=at)

    def revoke_session(self, digest: str, at: float) -> bool:
        with self._lock:
            session = self._sessions.get(digest)
            if session is None or session.revoked_at is not None:
                return False
            self._sessions[digest] = dataclasses.replace(session, revoked_at=at)
            return True

    def revoke_user_sessions(self, user_id: str, at: float) -> int:
        with self._lock:
            live = [s for s in self._sessions.values() if s.user_id == user_id and s.revoked_at is None]
            for session in live:
                self._sessions[session.digest] = dataclasses.replace(session, revoked_at=at)
            return len(live)

    def prune_sessions(self, before: float) -> int:
        with self._lock:
            gone = [
                digest
                for digest, s in self._sessions.items()
                if s.created_at < before or (s.revoked_at is not None and s.revoked_at < before)
            ]
            for digest in gone:
                del self._sessions[digest]
            return len(gone)
