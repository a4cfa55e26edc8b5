"""Sign-in codes and sessions in the DynamoDB account table (``DynamoAccountStore.signins``).

A code is ``CODE#<id>``, with index items under ``CODES#<email>`` and ``CODESFROM#<client>`` (for the newest
code and the send limits; ``add_code_within`` counts and stores under both lock items), a session
``SESSION#<digest>`` (``gsi1`` by user, for signing out everywhere). The two checks that must hold across
nodes are single conditional updates: ``claim_attempt`` (attempts below the cap, not used) and ``use_code``
(not used yet).

Both carry a TTL so DynamoDB removes them on its own: a code a day after it expires (``newest_code`` still
answers an expired code, which the sign-in service refuses with its own message), a session ``SESSION_TTL``
after it was last seen. TTLs count from the wall clock, as DynamoDB's sweeper does, whatever time the caller
passes; the prune methods delete by the records' own times as in the other stores.
"""

from __future__ import annotations

import json
import time
from typing import Any

from gateway.accounts.dynamodb_table import Item, Table, n, num, padded, put_action, s, text
from gateway.accounts.signin import Session, SignInCode

CODE_GRACE = 86400.0
SESSION_TTL = 400 * 86400.0


def _code(item: Item) -> SignInCode:
    doc: dict[str, Any] = json.loads(text(item, "doc"))
    return SignInCode(**doc, attempts=int(num(item, "attempts") or 0), used_at=num(item, "used_at"))


def _session(item: Item) -> Session:
    return Session(
        digest=text(item, "PK").removeprefix("SESSION#"),
        user_id=text(item, "G1PK").removeprefix("SESSIONS#"),
        created_at=num(item, "created_at") or 0.0,
        last_seen_at=num(item, "last_seen_at") or 0.0,
        revoked_at=num(item, "revoked_at"),
    )


def session_item(session: Session) -> Item:
    item: Item = {
        "PK": s(f"SESSION#{session.digest}"),
        "SK": s("SESSION"),
        "G1PK": s(f"SESSIONS#{session.user_id}"),
        "G1SK": s(session.digest),
        "created_at": n(session.created_at),
        "last_seen_at": n(session.last_seen_at),
        "ttl": n(int(time.time() + SESSION_TTL)),
    }
    if session.revoked_at is not None:
        item["revoked_at"] = n(session.revoked_at)
    return item


class DynamoSignInStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def _code_actions(self, code: SignInCode) -> list[Item]:
        doc = {
            "code_id": code.code_id,
            "email": code.email,
            "digest": code.digest,
            "client": code.client,
            "created_at": code.created_at,
            "expires_at": code.expires_at,
        }
        ttl = n(int(time.time() + (code.expires_at - code.created_at) + CODE_GRACE))
        # The insertion time breaks ties between codes created at the same ``created_at``.
        order = f"{padded(code.created_at)}#{time.time_ns():020d}"
        item: Item = {
            "PK": s(f"CODE#{code.code_id}"),
            "SK": s("CODE"),
            "doc": s(json.dumps(doc)),
            "created_at": n(code.created_at),
            "expires_at": n(code.expires_at),
            "attempts": n(code.attempts),
            "ttl": ttl,
        }
        if code.used_at is not None:
            item["used_at"] = n(code.used_at)
        # Index items of the address and of the client, in partitions of their own: counting and the newest
        # code are strongly consistent queries (a global index could miss a code another node just stored).
        pointer = {"code_id": s(code.code_id), "created_at": n(code.created_at), "ttl": ttl}
        return [
            put_action(item, "attribute_not_exists(PK)"),
            put_action({"PK": s(f"CODES#{code.email}"), "SK": s(order), **pointer}),
            put_action({"PK": s(f"CODESFROM#{code.client}"), "SK": s(order), **pointer}),
        ]

    def add_code(self, code: SignInCode) -> None:
        if not self._table.transact(self._code_actions(code)):
            raise ValueError("a sign-in code with that id is stored already")

    def add_code_within(self, code: SignInCode, *, since: float, per_email: int, per_client: int) -> bool:
        # Always the address's lock first, then the client's, so two requests never wait on each other in a cycle.
        with self._table.lock(f"CODES#{code.email}"), self._table.lock(f"CODESFROM#{code.client}"):
            if self.count_codes(since=since, email=code.email) >= per_email:
                return False
            if self.count_codes(since=since, client=code.client) >= per_client:
                return False
            self.add_code(code)
        return True

    def newest_code(self, email: str) -> SignInCode | None:
        newest = next(self._table.query(f"CODES#{email}", forward=False), None)
        if newest is None:
            return None
        item = self._table.get(f"CODE#{text(newest, 'code_id')}", "CODE")
        return _code(item) if item else None

    def count_codes(self, *, since: float, email: str | None = None, client: str | None = None) -> int:
        if email is not None:
            items = self._table.query(f"CODES#{email}", between=(padded(since), "~"))
            if client is not None:
                wanted = {
                    text(item, "SK") for item in self._table.query(f"CODESFROM#{client}", between=(padded(since), "~"))
                }
                items = (item for item in items if text(item, "SK") in wanted)
        elif client is not None:
            items = self._table.query(f"CODESFROM#{client}", between=(padded(since), "~"))
        else:
            items = self._table.scan("CODE#")
        return sum(1 for item in items if (num(item, "created_at") or 0.0) >= since)

    def claim_attempt(self, code_id: str, max_attempts: int) -> bool:
        changed = self._table.update(
            f"CODE#{code_id}",
            "CODE",
            "ADD attempts :one",
            condition="attribute_exists(PK) AND attribute_not_exists(used_at) AND attempts < :max",
            values={":one": n(1), ":max": n(max_attempts)},
        )
        return changed is not None

    def use_code(self, code_id: str, at: float) -> bool:
        changed = self._table.update(
            f"CODE#{code_id}",
            "CODE",
            "SET used_at = :at",
            condition="attribute_exists(PK) AND attribute_not_exists(used_at)",
            values={":at": n(at)},
        )
        return changed is not None

    def prune_codes(self, before: float) -> int:
        old = {
            text(item, "PK").removeprefix("CODE#")
            for item in self._table.scan("CODE#")
            if text(item, "SK") == "CODE" and (num(item, "expires_at") or 0.0) < before
        }
        index = [
            (text(item, "PK"), text(item, "SK")) for item in self._table.scan("CODES") if text(item, "code_id") in old
        ]
        self._table.delete_all([(f"CODE#{code_id}", "CODE") for code_id in old] + index)
        return len(old)

    def add_session(self, session: Session) -> None:
        if not self._table.put(session_item(session), "attribute_not_exists(PK)"):
            raise ValueError("a session with that id is stored already")

    def get_session(self, digest: str) -> Session | None:
        item = self._table.get(f"SESSION#{digest}", "SESSION")
        if item is None or "revoked_at" in item:
            return None
        return _session(item)

    def touch_session(self, digest: str, at: float) -> None:
        self._table.update(
            f"SESSION#{digest}",
            "SESSION",
            "SET last_seen_at = :at, #ttl = :ttl",
            condition="attribute_exists(PK)",
            values={":at": n(at), ":ttl": n(int(time.time() + SESSION_TTL))},
            names={"#ttl": "ttl"},
        )

    def revoke_session(self, digest: str, at: float) -> bool:
        changed = self._table.update(
            f"SESSION#{digest}",
            "SESSION",
            "SET revoked_at = :at",
            condition="attribute_exists(PK) AND attribute_not_exists(revoked_at)",
            values={":at": n(at)},
        )
        return changed is not None

    def revoke_user_sessions(self, user_id: str, at: float) -> int:
        revoked = 0
        for item in list(self._table.query(f"SESSIONS#{user_id}", index="gsi1")):
            revoked += self.revoke_session(text(item, "G1SK"), at)
        return revoked

    def prune_sessions(self, before: float) -> int:
        old = [
            text(item, "PK")
            for item in self._table.scan("SESSION#")
            if (num(item, "created_at") or 0.0) < before
            or ((revoked := num(item, "revoked_at")) is not None and revoked < before)
        ]
        self._table.delete_all([(pk, "SESSION") for pk in old])
        return len(old)
