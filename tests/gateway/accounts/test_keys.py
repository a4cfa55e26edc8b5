"""API key material: shape, randomness, digests, scopes, the stored record, and issuing past collisions."""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.accounts.keys import (
    KEY_PREFIX,
    PREFIX_LENGTH,
    SECRET_LENGTH,
    ApiKey,
    digest,
    digests_match,
    issue_api_key,
    looks_like_secret,
    new_api_key,
    new_key_id,
    scope_allows,
)
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.accounts.store import KeyPrefixTaken


def test_a_new_key_is_prefix_and_base62_of_32_random_bytes() -> None:
    secret, prefix, hashed = new_api_key()
    assert re.fullmatch(r"imk_live_[0-9A-Za-z]{43}", secret)
    assert len(secret) == SECRET_LENGTH == 52
    assert prefix == secret[:PREFIX_LENGTH] and prefix.startswith(KEY_PREFIX) and len(prefix) == 12
    assert hashed == hashlib.sha256(secret.encode()).hexdigest() == digest(secret)
    assert looks_like_secret(secret) and not looks_like_secret(prefix)


def test_keys_do_not_repeat_and_use_the_whole_alphabet() -> None:
    secrets_ = [new_api_key()[0] for _ in range(300)]
    assert len(set(secrets_)) == 300
    # 300 x 43 characters of base62: every symbol shows up (a broken encoder would use a few).
    assert len({char for secret in secrets_ for char in secret[len(KEY_PREFIX) :]}) == 62
    # The encoded number carries 256 bits: the last characters vary as much as the first ones.
    assert len({secret[-1] for secret in secrets_}) > 40 and len({secret[9] for secret in secrets_}) > 30


@pytest.mark.parametrize(
    "text",
    ["", "imk_live_", "imk_live_abc", "imk_test_" + "a" * 43, "imk_live_" + "a" * 42, "imk_live_" + "a" * 42 + "-"],
)
def test_what_is_not_a_secret(text: str) -> None:
    assert not looks_like_secret(text)


def test_constant_time_comparison_of_digests() -> None:
    hashed = digest("imk_live_x")
    assert digests_match(hashed, hashed) and digests_match(digest("imk_live_x"), hashed)
    assert not digests_match(digest("imk_live_y"), hashed)
    assert not digests_match("", hashed)
    assert not digests_match("é" * 64, hashed)  # non-ASCII input is a mismatch, not a TypeError


@given(st.text())
def test_any_text_has_a_digest(text: str) -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", digest(text))


def test_write_implies_read() -> None:
    assert scope_allows("write", "read") and scope_allows("write", "write") and scope_allows("read", "read")
    assert not scope_allows("read", "write")


def _record(**changes: object) -> ApiKey:
    _, prefix, hashed = new_api_key()
    values: dict[str, object] = {
        "key_id": new_key_id(),
        "namespace": "acme",
        "name": "Production",
        "scope": "read",
        "prefix": prefix,
        "sha256": hashed,
    }
    values.update(changes)
    return ApiKey(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"key_id": "k1"}, "key id"),
        ({"namespace": "A"}, "namespace"),
        ({"name": ""}, "key name"),
        ({"name": " Production"}, "key name"),
        ({"name": "x" * 65}, "key name"),
        ({"name": "Pro\nduction"}, "key name"),
        ({"scope": "admin"}, "scope"),
        ({"prefix": "imk_live_ab"}, "prefix"),
        ({"prefix": "sk_live_abcd"}, "prefix"),
        ({"sha256": "imk_live_" + "a" * 43}, "sha256"),
        ({"sha256": "A" * 64}, "sha256"),
    ],
)
def test_key_records_validate_themselves(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _record(**changes)


def test_a_revoked_key_allows_nothing() -> None:
    key = _record(scope="write")
    assert key.allows("read") and key.allows("write") and not key.revoked
    assert not _record(scope="write", revoked_at=5.0).allows("read")
    assert not _record(scope="read").allows("write")


class _CollidingStore(MemoryAccountStore):
    """Refuses the first few keys as if their prefixes were taken (3 random characters do collide)."""

    def __init__(self, collisions: int) -> None:
        super().__init__()
        self.collisions = collisions
        self.prefixes: list[str] = []

    def create_api_key(self, key: ApiKey, at: float | None = None) -> ApiKey:
        self.prefixes.append(key.prefix)
        if self.collisions:
            self.collisions -= 1
            raise KeyPrefixTaken(key.namespace, key.prefix)
        return super().create_api_key(key, at)


def test_issuing_draws_a_new_key_when_the_prefix_is_taken() -> None:
    store = _CollidingStore(collisions=3)
    store.create_workspace(Workspace(namespace="acme"))
    secret, key = issue_api_key(store, "acme", "Production", "write")
    assert len(store.prefixes) == 4 and key.prefix == store.prefixes[-1] == secret[:12]
    assert store.find_api_key(digest(secret)) == key


def test_issuing_gives_up_rather_than_loop_for_ever() -> None:
    store = _CollidingStore(collisions=1000)
    store.create_workspace(Workspace(namespace="acme"))
    with pytest.raises(RuntimeError, match="prefix"):
        issue_api_key(store, "acme", "Production")
    assert len(store.prefixes) == 8 and store.list_api_keys("acme") == []


def test_issuing_refuses_bad_input_before_storing() -> None:
    store = MemoryAccountStore()
    store.create_workspace(Workspace(namespace="acme"))
    with pytest.raises(ValueError, match="scope"):
        issue_api_key(store, "acme", "Production", "admin")
    with pytest.raises(ValueError, match="key name"):
        issue_api_key(store, "acme", "")
    assert store.list_api_keys("acme") == []
