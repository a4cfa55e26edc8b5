"""The gateway's own signed tokens: HMAC-SHA256 under a key of one purpose, checked in constant time.

Every token the gateway hands out and later takes back - deletion receipts, sign-in code digests, result links,
dashboard CSRF tokens - is ``HMAC-SHA256(key, message)`` as 64 hex digits, where the key is
``SecretBox.derive_key(purpose)`` (HKDF with the purpose as its info). So a token made for one purpose never
verifies for another, and no token reveals the gateway's key::

    tokens = TokenSigner(secrets)
    sig = tokens.sign(Purpose.RESULT_LINK, "job_1.1700003600")
    tokens.verify(Purpose.RESULT_LINK, "job_1.1700003600", sig)  # True
    tokens.verify(Purpose.CSRF, "job_1.1700003600", sig)  # False

A process builds one signer, next to its ``SecretBox`` (``build_services``, ``AdminContext.build``), and hands it
to every user (``ctx.tokens``), so each purpose's key is derived once per process, not once per call.

A purpose's text is in every token made for it: renaming one makes every token already issued (receipts people
keep, links in mails, open dashboard forms) stop verifying. That is why they are all listed here, once: add new
purposes, never rename one.

Formats another party computes stay with their schemes: URL signatures (``gateway.policy.signing``) and webhook
signatures (``gateway.jobs.webhooks``) are keyed by the customer's secret and built as the customer's code does.
"""

from __future__ import annotations

import hmac
from enum import StrEnum

from gateway.accounts.secrets import SecretBox


class Purpose(StrEnum):
    """What a token is for; the value is the key's HKDF info, fixed by tokens already in people's hands."""

    DELETION_RECEIPT = "imgate deletion receipts v1"
    RESULT_LINK = "imgate capture results v1"
    SIGNIN_CODE = "dashboard-signin-code"
    CSRF = "dashboard-csrf"


class TokenSigner:
    """Signs and verifies the gateway's own tokens with keys derived from one ``SecretBox``."""

    __slots__ = ("_keys", "_secrets")

    def __init__(self, secrets: SecretBox) -> None:
        self._secrets = secrets
        # Derived on first use: most users sign for a single purpose.
        self._keys: dict[Purpose, bytes] = {}

    def sign(self, purpose: Purpose, message: str) -> str:
        """64 lower-case hex digits: HMAC-SHA256 of the UTF-8 ``message`` under ``purpose``'s key."""
        return hmac.digest(self._key(purpose), message.encode("utf-8"), "sha256").hex()

    def verify(self, purpose: Purpose, message: str, signature: str) -> bool:
        """Whether ``signature`` is ``sign(purpose, message)``, in time that says nothing of where they differ."""
        try:
            expected = self.sign(purpose, message)
        except UnicodeEncodeError:  # a lone surrogate: no message ``sign`` could have signed
            return False
        # "replace": a character outside ASCII is never a hex digit, so such a signature is merely wrong.
        return hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace"))

    def signs_with(self, secrets: SecretBox) -> bool:
        """Whether this signer's keys come from ``secrets`` itself (not merely from the same key)."""
        return secrets is self._secrets

    def _key(self, purpose: Purpose) -> bytes:
        key = self._keys.get(purpose)
        if key is None:
            # Two threads racing here derive the same key; either write is right.
            key = self._keys[purpose] = self._secrets.derive_key(purpose.value)
        return key

    def __repr__(self) -> str:
        return "TokenSigner(<keys hidden>)"
