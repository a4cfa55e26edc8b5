"""The sign-in store contract (codes and sessions), run against every account store's ``signins``."""

from __future__ import annotations

import hashlib
import threading

import pytest

from gateway.accounts.signin import Session, SignInCode, SignInStore
from gateway.accounts.store import AccountStore


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _code(n: int, email: str = "ana@example.com", client: str = "203.0.113.7", at: float = 1000.0) -> SignInCode:
    return SignInCode(f"sic_{n:020x}", email, _digest(f"code{n}"), client, at, at + 600)


def _session(n: int, user_id: str = "usr_" + "a" * 20, at: float = 1000.0) -> Session:
    return Session(_digest(f"session{n}"), user_id, at, at)


class SignInStoreContract:
    @pytest.fixture
    def signins(self, store: AccountStore) -> SignInStore:
        return store.signins

    def test_newest_code_is_the_last_issued_to_the_address(self, signins: SignInStore) -> None:
        assert signins.newest_code("ana@example.com") is None
        signins.add_code(_code(1, at=1000))
        signins.add_code(_code(2, at=1001))
        signins.add_code(_code(3, email="bo@example.com", at=1002))
        newest = signins.newest_code("ana@example.com")
        assert newest is not None and newest.code_id == _code(2).code_id
        assert newest == _code(2, at=1001)

    def test_a_code_id_is_stored_once(self, signins: SignInStore) -> None:
        signins.add_code(_code(1))
        with pytest.raises(ValueError):
            signins.add_code(_code(1))

    def test_counts_by_email_client_and_time(self, signins: SignInStore) -> None:
        signins.add_code(_code(1, at=1000))
        signins.add_code(_code(2, at=2000))
        signins.add_code(_code(3, email="bo@example.com", client="198.51.100.1", at=2000))
        assert signins.count_codes(since=1500, email="ana@example.com") == 1
        assert signins.count_codes(since=0, email="ana@example.com") == 2
        assert signins.count_codes(since=0, client="203.0.113.7") == 2
        assert signins.count_codes(since=1500, client="198.51.100.1") == 1
        assert signins.count_codes(since=1500) == 2

    def test_attempts_are_capped(self, signins: SignInStore) -> None:
        signins.add_code(_code(1))
        assert [signins.claim_attempt(_code(1).code_id, 5) for _ in range(6)] == [True] * 5 + [False]
        stored = signins.newest_code("ana@example.com")
        assert stored is not None and stored.attempts == 5
        assert not signins.claim_attempt("sic_" + "f" * 20, 5)

    def test_parallel_attempts_never_pass_the_cap(self, signins: SignInStore) -> None:
        signins.add_code(_code(1))
        granted: list[bool] = []
        threads = [
            threading.Thread(target=lambda: granted.append(signins.claim_attempt(_code(1).code_id, 5)))
            for _ in range(20)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert granted.count(True) == 5

    def test_add_within_limits_counts_by_address_client_and_time(self, signins: SignInStore) -> None:
        def add(n: int, **kw: object) -> bool:
            return signins.add_code_within(_code(n, **kw), since=1500, per_email=2, per_client=3)  # type: ignore[arg-type]

        signins.add_code(_code(1, at=1000))  # before the window: not counted
        assert add(2, at=2000) and add(3, at=2001)
        assert not add(4, at=2002)  # the address has 2 in the window
        assert signins.count_codes(since=0, email="ana@example.com") == 3
        assert add(5, email="bo@example.com", at=2003)
        assert not add(6, email="cy@example.com", at=2004)  # the client has 3 in the window
        assert add(7, email="cy@example.com", client="198.51.100.1", at=2005)
        with pytest.raises(ValueError):
            signins.add_code_within(
                _code(7, email="dd@example.com", client="x", at=2006), since=0, per_email=9, per_client=9
            )

    def test_parallel_requests_never_pass_the_limit(self, signins: SignInStore) -> None:
        stored: list[bool] = []
        start = threading.Barrier(12)

        def ask(n: int) -> None:
            start.wait()
            stored.append(signins.add_code_within(_code(n, at=2000 + n), since=0, per_email=3, per_client=50))

        threads = [threading.Thread(target=ask, args=(n,)) for n in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert stored.count(True) == 3
        assert signins.count_codes(since=0, email="ana@example.com") == 3

    def test_a_code_is_used_once(self, signins: SignInStore) -> None:
        signins.add_code(_code(1))
        assert signins.use_code(_code(1).code_id, 1100)
        assert not signins.use_code(_code(1).code_id, 1101)
        stored = signins.newest_code("ana@example.com")
        assert stored is not None and stored.used_at == 1100
        assert not signins.claim_attempt(_code(1).code_id, 5)  # a used code takes no more attempts

    def test_prune_codes_deletes_expired_ones(self, signins: SignInStore) -> None:
        signins.add_code(_code(1, at=1000))  # expires 1600
        signins.add_code(_code(2, at=5000))
        assert signins.prune_codes(2000) == 1
        assert signins.count_codes(since=0) == 1

    def test_sessions_live_until_revoked(self, signins: SignInStore) -> None:
        signins.add_session(_session(1))
        assert signins.get_session(_session(1).digest) == _session(1)
        signins.touch_session(_session(1).digest, 1500)
        touched = signins.get_session(_session(1).digest)
        assert touched is not None and touched.last_seen_at == 1500
        assert signins.revoke_session(_session(1).digest, 1600)
        assert not signins.revoke_session(_session(1).digest, 1601)
        assert signins.get_session(_session(1).digest) is None
        with pytest.raises(ValueError):
            signins.add_session(_session(1))

    def test_revoke_every_session_of_one_user(self, signins: SignInStore) -> None:
        other = "usr_" + "b" * 20
        signins.add_session(_session(1))
        signins.add_session(_session(2))
        signins.add_session(_session(3, user_id=other))
        assert signins.revoke_user_sessions("usr_" + "a" * 20, 2000) == 2
        assert signins.get_session(_session(1).digest) is None
        assert signins.get_session(_session(2).digest) is None
        assert signins.get_session(_session(3).digest) is not None
        assert signins.revoke_user_sessions("usr_" + "a" * 20, 2001) == 0

    def test_prune_sessions(self, signins: SignInStore) -> None:
        signins.add_session(_session(1, at=1000))
        signins.add_session(_session(2, at=5000))
        signins.add_session(_session(3, at=5000))
        signins.revoke_session(_session(3).digest, 5001)
        assert signins.prune_sessions(2000) == 1
        assert signins.get_session(_session(2).digest) is not None
        assert signins.prune_sessions(6000) == 2

    def test_records_refuse_plain_secrets(self) -> None:
        with pytest.raises(ValueError):
            SignInCode("sic_" + "0" * 20, "ana@example.com", "12345678", "", 1.0, 2.0)
        with pytest.raises(ValueError):
            Session("not-a-digest", "usr_" + "a" * 20, 1.0, 1.0)
