"""Sealing storage credentials at rest, and the key that seals them."""

from __future__ import annotations

import base64
import stat
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from gateway.accounts.secrets import SecretBox, load_or_create_key
from gateway.errors import Internal

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_seal_then_open_round_trips_and_hides_the_plaintext() -> None:
    box = SecretBox(Fernet.generate_key())
    token = box.seal(SECRET)
    assert SECRET not in token
    assert SECRET.encode() not in token.encode()
    assert box.open(token) == SECRET
    # Fernet tokens carry a random IV: sealing twice gives two tokens, so equal secrets do not show.
    assert box.seal(SECRET) != token
    assert box.open(box.seal("")) == ""
    assert box.open(box.seal("ünïcode ✓")) == "ünïcode ✓"


def test_another_key_cannot_open_and_says_so_safely() -> None:
    key = Fernet.generate_key()
    token = SecretBox(key).seal(SECRET)
    other = Fernet.generate_key()
    with pytest.raises(Internal) as caught:
        SecretBox(other).open(token)
    message = caught.value.message
    assert (
        SECRET not in message and token not in message and key.decode() not in message and other.decode() not in message
    )


def test_tampered_tokens_are_refused() -> None:
    box = SecretBox(Fernet.generate_key())
    token = box.seal(SECRET)
    flipped = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    for bad in (flipped, token[:-4], "", "not a token", "ünïcode"):
        with pytest.raises(Internal):
            box.open(bad)


def test_rotation_opens_old_tokens_and_reseals_with_the_new_key() -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    old_token = SecretBox(old).seal(SECRET)
    rotating = SecretBox(new, previous=[old])
    assert rotating.open(old_token) == SECRET
    resealed = rotating.reseal(old_token)
    assert SecretBox(new).open(resealed) == SECRET
    with pytest.raises(Internal):
        SecretBox(old).open(resealed)


def test_repr_hides_the_key() -> None:
    key = Fernet.generate_key()
    assert key.decode() not in repr(SecretBox(key))


def test_bad_keys_are_refused_without_echoing_them() -> None:
    for bad in (b"short-key", b"x" * 44):
        with pytest.raises(ValueError) as caught:
            SecretBox(bad)
        assert bad.decode() not in str(caught.value)
    with pytest.raises(ValueError):
        SecretBox(b"")


def test_configured_key_wins(tmp_path: Path) -> None:
    configured = Fernet.generate_key().decode()
    key, created = load_or_create_key(tmp_path / "secret.key", configured)
    assert (key, created) == (configured.encode(), False)
    assert not (tmp_path / "secret.key").exists()
    with pytest.raises(ValueError) as caught:
        load_or_create_key(tmp_path / "secret.key", "not-a-fernet-key")
    assert "not-a-fernet-key" not in str(caught.value)


def test_development_key_is_created_once_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret.key"
    key, created = load_or_create_key(path, None)
    assert created
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = SecretBox(key).seal(SECRET)
    again, created_again = load_or_create_key(path, "")
    assert (again, created_again) == (key, False)
    assert SecretBox(again).open(token) == SECRET
    assert [p.name for p in path.parent.iterdir()] == ["secret.key"]  # no temporary file left


def test_workers_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret.key"
    results: list[tuple[bytes, bool]] = []
    barrier = threading.Barrier(6)

    def start_worker() -> None:
        barrier.wait()
        results.append(load_or_create_key(path, None))

    threads = [threading.Thread(target=start_worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({key for key, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert path.read_bytes().strip() == results[0][0]


def test_derived_keys_are_per_purpose_and_per_secret_key() -> None:
    key = Fernet.generate_key()
    box = SecretBox(key)
    receipts = box.derive_key("imgate deletion receipts v1")
    assert receipts == SecretBox(key).derive_key("imgate deletion receipts v1") and len(receipts) == 32
    assert receipts != box.derive_key("imgate something else v1")
    assert receipts != SecretBox(Fernet.generate_key()).derive_key("imgate deletion receipts v1")
    assert key not in receipts and base64.urlsafe_b64decode(key) != receipts
