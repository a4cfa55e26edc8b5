"""CSRF tokens: the ones in forms already open in browsers stay good, and a token is good for its binding only."""

from __future__ import annotations

import base64

import pytest
from cryptography.fernet import Fernet

from gateway.accounts.secrets import SecretBox
from gateway.accounts.tokens import Purpose, TokenSigner
from gateway.dashboard.sessions import CsrfTokens

# Tokens as the dashboard made them before ``TokenSigner`` (a fixed gateway key; a session id, a sign-in form's
# binding as ``gateway.dashboard.web`` writes it, and one that is not ASCII).
PINNED_KEY = base64.urlsafe_b64encode(b"imgate-tokens-test-key-32-bytes!")
PINNED = {
    "Zx9-session-id": "2b45e88079f7cf00785a8df6ed7ffd809f2a18bbc4629898be73839aa00dfceb",
    "form\nabc123": "6496c780fa618190f0c55499d2b5c972f383a8fa31bc0bfffc3146c82165dcf0",
    "sé": "460367cce4ae58dba9da92a93d86a9ade43e9a95523dd1761898c8b2d971fa43",
}


@pytest.mark.parametrize(("binding", "token"), PINNED.items())
def test_a_token_issued_before_is_made_and_accepted_the_same(binding: str, token: str) -> None:
    csrf = CsrfTokens(TokenSigner(SecretBox(PINNED_KEY)))
    assert csrf.token(binding) == token
    assert csrf.ok(binding, token)


def test_a_token_is_good_for_its_binding_and_gateway_key_only() -> None:
    csrf = CsrfTokens(TokenSigner(SecretBox(PINNED_KEY)))
    token = PINNED["Zx9-session-id"]
    assert not csrf.ok("Zx9-session-iD", token)
    assert not csrf.ok("Zx9-session-id", token[:-1])
    assert not csrf.ok("Zx9-session-id", "")
    assert not CsrfTokens(TokenSigner(SecretBox(Fernet.generate_key()))).ok("Zx9-session-id", token)
    # No binding (no session and no form cookie) is never good, not even with the token of "".
    assert not csrf.ok("", csrf.token(""))


@pytest.mark.parametrize("given", ["é" * 64, "\udcff", "\x00"])
def test_a_token_that_is_not_ascii_is_refused_not_raised(given: str) -> None:
    assert not CsrfTokens(TokenSigner(SecretBox(PINNED_KEY))).ok("Zx9-session-id", given)


def test_a_token_of_another_purpose_over_the_same_text_is_refused() -> None:
    tokens = TokenSigner(SecretBox(PINNED_KEY))
    for purpose in Purpose:
        if purpose is not Purpose.CSRF:
            assert not CsrfTokens(tokens).ok("Zx9-session-id", tokens.sign(purpose, "csrf\nZx9-session-id"))
