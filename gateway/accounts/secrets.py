"""Customer storage credentials at rest: sealed with Fernet (AES-128-CBC + HMAC-SHA256, timestamped).

The account store keeps only ``SecretBox.seal(secret)``; the plain secret exists in memory while a
source is built from it. The key comes from the ``secret_key`` setting; without one, a development
key is generated once into ``var/secret.key`` (mode 0600) and the caller warns that it should be
configured: losing that file makes every stored credential unreadable.

Rotation: ``SecretBox(new_key, previous=[old_key])`` opens tokens sealed with either key and seals
with the new one; ``reseal`` re-encrypts a stored token under the new key.

``derive_key(purpose)`` gives other uses of the gateway's key (signing deletion receipts) a key of their own,
by HKDF-SHA256 with the purpose as its info: a signature made for one purpose is worthless for another, and
nothing signed ever reveals the Fernet key. Derived keys come from the current key only, so rotating
``secret_key`` invalidates what was signed before.

Nothing here logs, and no error message holds a key, a token or a plain secret.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gateway.errors import Internal


class SecretBox:
    def __init__(self, key: bytes, previous: Sequence[bytes] = ()) -> None:
        self._fernet = MultiFernet([_fernet(key), *(_fernet(old) for old in previous)])
        self._key = base64.urlsafe_b64decode(key)

    def derive_key(self, purpose: str, length: int = 32) -> bytes:
        """A key for ``purpose`` only (``"imgate deletion receipts v1"``), derived from the current key."""
        hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose.encode("utf-8"))
        return hkdf.derive(self._key)

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def open(self, token: str) -> str:
        """The plain secret; ``Internal`` when the token was sealed with another key or altered."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise Internal(
                "a stored storage credential cannot be decrypted: the secret_key setting has changed"
            ) from None

    def reseal(self, token: str) -> str:
        """``token`` sealed again with the current key (for key rotation)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError):
            raise Internal("a stored storage credential cannot be decrypted for rotation") from None


def _fernet(key: bytes) -> Fernet:
    try:
        return Fernet(key)
    except (ValueError, TypeError):
        # Fernet's own message is fine, but never let a caller format the key into one.
        raise ValueError("secret key: expected 32 url-safe base64-encoded bytes (Fernet.generate_key())") from None


def load_or_create_key(path: Path, configured: str | None) -> tuple[bytes, bool]:
    """The Fernet key and whether it was just generated (the caller then logs a warning).

    A configured key wins; else the key in ``path``; else a new key is written to ``path`` with mode
    0600. Several workers may start at once: the file appears atomically and exactly one of them
    creates it, the others read it.
    """
    if configured:
        key = configured.strip().encode("ascii")
        _fernet(key)
        return key, False
    existing = _read_key(path)
    if existing is not None:
        return existing, False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Fernet.generate_key()
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(key + b"\n")
            file.flush()
            os.fsync(file.fileno())
        # link() refuses to replace: whoever links first owns the key, everyone else reads theirs.
        os.link(temp, path)
    except FileExistsError:
        winner = _read_key(path)
        if winner is None:
            raise
        return winner, False
    finally:
        temp.unlink(missing_ok=True)
    return key, True


def _read_key(path: Path) -> bytes | None:
    try:
        key = path.read_bytes().strip()
    except FileNotFoundError:
        return None
    _fernet(key)
    return key
