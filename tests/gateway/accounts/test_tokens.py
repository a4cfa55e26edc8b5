"""The gateway's own tokens: one key per purpose, fixed outputs, constant-time checks that never raise."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools

import pytest
from cryptography.fernet import Fernet

from gateway.accounts.secrets import SecretBox
from gateway.accounts.tokens import Purpose, TokenSigner

# A fixed gateway key, so that the tokens below are the ones every earlier version issued.
KEY = base64.urlsafe_b64encode(b"imgate-tokens-test-key-32-bytes!")
# Message, purpose and token as the code before TokenSigner computed them (each module hand-wrote its HMAC).
ISSUED = [
    (
        Purpose.RESULT_LINK,
        "job_0123456789abcdef0123.1700003600",
        "5a2dd641244f8b208f17a1eb844b674284ab5cd2971e38928ecadbf149809ea7",
    ),
    (
        Purpose.SIGNIN_CODE,
        "ann@example.com\n12345678",
        "8155e46d60b42bad2ebee392f80c6cbc5fe23f4fee00309169fad54730a64509",
    ),
    (Purpose.CSRF, "csrf\nZx9-session-id", "2b45e88079f7cf00785a8df6ed7ffd809f2a18bbc4629898be73839aa00dfceb"),
    (Purpose.CSRF, "csrf\nsé", "460367cce4ae58dba9da92a93d86a9ade43e9a95523dd1761898c8b2d971fa43"),
]


def test_purposes_are_the_key_infos_tokens_in_peoples_hands_were_made_with() -> None:
    # Renaming one makes every token issued for it stop verifying: the values are fixed.
    assert {purpose.name: purpose.value for purpose in Purpose} == {
        "DELETION_RECEIPT": "imgate deletion receipts v1",
        "RESULT_LINK": "imgate capture results v1",
        "SIGNIN_CODE": "dashboard-signin-code",
        "CSRF": "dashboard-csrf",
    }


@pytest.mark.parametrize(("purpose", "message", "token"), ISSUED)
def test_tokens_issued_before_still_sign_and_verify_the_same(purpose: Purpose, message: str, token: str) -> None:
    tokens = TokenSigner(SecretBox(KEY))
    assert tokens.sign(purpose, message) == token
    assert tokens.verify(purpose, message, token)


def test_a_token_is_hmac_sha256_under_the_purposes_derived_key_never_the_gateway_key() -> None:
    box = SecretBox(KEY)
    tokens = TokenSigner(box)
    for purpose in Purpose:
        expected = hmac.new(box.derive_key(purpose.value), b"message", hashlib.sha256).hexdigest()
        assert tokens.sign(purpose, "message") == expected
        raw = base64.urlsafe_b64decode(KEY)
        assert tokens.sign(purpose, "message") != hmac.new(raw, b"message", hashlib.sha256).hexdigest()


@pytest.mark.parametrize(("made_for", "checked_for"), list(itertools.permutations(Purpose, 2)))
def test_a_token_for_one_purpose_never_verifies_for_another(made_for: Purpose, checked_for: Purpose) -> None:
    tokens = TokenSigner(SecretBox(KEY))
    token = tokens.sign(made_for, "job_1.1700003600")
    assert tokens.verify(made_for, "job_1.1700003600", token)
    assert not tokens.verify(checked_for, "job_1.1700003600", token)
    assert tokens.sign(checked_for, "job_1.1700003600") != token


def test_only_the_exact_message_and_signature_under_the_same_gateway_key_verify() -> None:
    tokens = TokenSigner(SecretBox(KEY))
    token = tokens.sign(Purpose.RESULT_LINK, "job_1.100")
    assert not tokens.verify(Purpose.RESULT_LINK, "job_1.1000", token)
    assert not tokens.verify(Purpose.RESULT_LINK, "job_1.100", token[:-1])
    assert not tokens.verify(Purpose.RESULT_LINK, "job_1.100", token + "0")
    assert not tokens.verify(Purpose.RESULT_LINK, "job_1.100", token.upper())
    assert not tokens.verify(Purpose.RESULT_LINK, "job_1.100", "")
    elsewhere = TokenSigner(SecretBox(Fernet.generate_key()))
    assert not elsewhere.verify(Purpose.RESULT_LINK, "job_1.100", token)
    # One signer serves every purpose, each key derived once and kept.
    assert tokens.verify(Purpose.RESULT_LINK, "job_1.100", token)


@pytest.mark.parametrize("signature", ["é" * 64, "\udcff" * 64, "0" * 63 + "\x00", "ｆ" * 64])
def test_a_signature_that_is_not_ascii_is_refused_not_raised(signature: str) -> None:
    assert not TokenSigner(SecretBox(KEY)).verify(Purpose.CSRF, "csrf\nabc", signature)


def test_a_message_nothing_could_have_signed_is_refused_not_raised() -> None:
    tokens = TokenSigner(SecretBox(KEY))
    with pytest.raises(UnicodeEncodeError):
        tokens.sign(Purpose.CSRF, "csrf\n\udcff")
    assert not tokens.verify(Purpose.CSRF, "csrf\n\udcff", "0" * 64)


def test_the_signer_shows_no_key() -> None:
    tokens = TokenSigner(SecretBox(KEY))
    tokens.sign(Purpose.CSRF, "x")
    assert repr(tokens) == "TokenSigner(<keys hidden>)"
