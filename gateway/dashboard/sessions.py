"""The dashboard's session cookie and its CSRF tokens.

The session itself (its lifetime, idle expiry, what the store keeps) is the admin layer's
(``gateway.admin.signin``); here is how a browser carries it: the id in a cookie (HttpOnly, SameSite=Lax,
Secure whenever the request came over TLS, path ``/_/dashboard``) that lives as long as a session can.

CSRF tokens are HMACs of what the form is bound to: the session id once signed in, and before that a random
value in a short-lived cookie of its own (the sign-in forms). Nothing is stored for them; they are checked in
constant time on every POST (``gateway.accounts.tokens``, ``Purpose.CSRF``). SameSite=Lax already keeps other
sites' POSTs from carrying the cookie; the token is the second lock, for browsers and proxies that get SameSite
wrong.
"""

from __future__ import annotations

from gateway.accounts.tokens import Purpose, TokenSigner
from gateway.admin.signin import MAX_AGE

COOKIE = "imgate_session"
FORM_COOKIE = "imgate_form"
COOKIE_PATH = "/_/dashboard"
COOKIE_MAX_AGE = int(MAX_AGE)


class CsrfTokens:
    __slots__ = ("_tokens",)

    def __init__(self, tokens: TokenSigner) -> None:
        # The process's signer (``ctx.tokens``), shared with the gateway's other tokens.
        self._tokens = tokens

    def token(self, binding: str) -> str:
        return self._tokens.sign(Purpose.CSRF, _message(binding))

    def ok(self, binding: str, given: str) -> bool:
        return bool(binding) and self._tokens.verify(Purpose.CSRF, _message(binding), given)


def _message(binding: str) -> str:
    # The key is CSRF's alone, so the prefix adds nothing; it is in every token issued, and forms open in
    # browsers must stay good.
    return f"csrf\n{binding}"
