"""The dashboard's session cookie and its CSRF tokens.

The session itself (its lifetime, idle expiry, what the store keeps) is the admin layer's
(``gateway.admin.signin``); here is how a browser carries it: the id in a cookie (HttpOnly, SameSite=Lax,
Secure whenever the request came over TLS, path ``/_/dashboard``) that lives as long as a session can.

CSRF tokens are HMACs of what the form is bound to: the session id once signed in, and before that a random
value in a short-lived cookie of its own (the sign-in forms). Nothing is stored for them; they are checked with
``hmac.compare_digest`` on every POST. SameSite=Lax already keeps other sites' POSTs from carrying the cookie;
the token is the second lock, for browsers and proxies that get SameSite wrong.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from gateway.admin.signin import MAX_AGE

COOKIE = "imgate_session"
FORM_COOKIE = "imgate_form"
COOKIE_PATH = "/_/dashboard"
COOKIE_MAX_AGE = int(MAX_AGE)


@dataclass(frozen=True, slots=True)
class CsrfTokens:
    # HMAC key of CSRF tokens (derived from the gateway's secret key).
    key: bytes

    def token(self, binding: str) -> str:
        return hmac.new(self.key, f"csrf\n{binding}".encode(), hashlib.sha256).hexdigest()

    def ok(self, binding: str, given: str) -> bool:
        return bool(binding) and hmac.compare_digest(self.token(binding).encode(), given.encode())
