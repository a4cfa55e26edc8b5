"""Sign-in by an emailed one-time code: asking for a code, and checking one.

The rules, each a refusal with its own stable code (``gateway.errors``):

- a code is 8 random digits, valid 10 minutes, good for one sign-in, and only the newest code of an address
  counts (asking again replaces it) - ``CODE_EXPIRED`` otherwise;
- each try spends one of the code's 5 attempts before the comparison, so parallel guesses share the budget; a
  code whose attempts are spent is dead even when the 6th try is right - ``CODE_LOCKED``; a wrong one is
  ``CODE_INVALID``;
- at most 3 codes per address and ``signin_codes_per_client`` per client address in 15 minutes -
  ``SIGNIN_LIMITED`` with ``Retry-After``;
- codes are stored as HMAC-SHA256 under a key derived from the gateway's secret key and compared with
  ``hmac.compare_digest``; a leaked database does not give codes away, even with 10^8 hashes tried.

Asking for a code answers the same whether or not the address has an account: a first sign-in creates one, so
every well-formed address gets a code. The clock is injectable, so tests expire codes without sleeping.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from gateway.accounts.signin import SignInCode, SignInStore
from gateway.accounts.users import InvalidEmail, normalise_email
from gateway.errors import CodeExpired, CodeInvalid, CodeLocked, SignInLimited, ValidationError
from gateway.mail import Mail, Mailer

log = logging.getLogger("imgate.dashboard")

Clock = Callable[[], float]
_T = TypeVar("_T")

CODE_DIGITS = 8
CODE_LIFETIME = 600.0
MAX_ATTEMPTS = 5
LIMIT_WINDOW = 900.0
CODES_PER_EMAIL = 3


def checked_email(text: str) -> str:
    try:
        return normalise_email(text)
    except InvalidEmail as exc:
        raise ValidationError(f"email: {exc}") from None


def _typed_code(text: str) -> str | None:
    """The digits of what was typed (spaces and dashes are how people copy codes), or ``None``."""
    digits = "".join(char for char in text if char not in " -\t")
    return digits if len(digits) == CODE_DIGITS and digits.isascii() and digits.isdigit() else None


@dataclass(frozen=True, slots=True)
class SignInService:
    codes: SignInStore
    mailer: Mailer
    # HMAC key for code digests (derived from the gateway's secret key).
    key: bytes
    codes_per_client: int
    clock: Clock = time.time

    def _digest(self, email: str, code: str) -> str:
        # The address is part of the message: a code is good for the address it was sent to only.
        return hmac.new(self.key, f"{email}\n{code}".encode(), hashlib.sha256).hexdigest()

    async def send_code(self, email_text: str, client: str) -> str:
        """Send a new code to the address; answers its normal form."""
        email = checked_email(email_text)
        now = self.clock()
        since = now - LIMIT_WINDOW
        by_email = await _blocking(lambda: self.codes.count_codes(since=since, email=email))
        by_client = await _blocking(lambda: self.codes.count_codes(since=since, client=client))
        if by_email >= CODES_PER_EMAIL or by_client >= self.codes_per_client:
            retry = str(math.ceil(LIMIT_WINDOW / 3))
            raise SignInLimited(
                "too many sign-in codes were asked for; wait a few minutes, then ask again",
                headers={"Retry-After": retry},
            )
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        record = SignInCode(
            code_id=f"sic_{secrets.token_hex(10)}",
            email=email,
            digest=self._digest(email, code),
            client=client,
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
        await _blocking(lambda: self.codes.add_code(record))
        # Codes are worth nothing once expired; a day's worth is kept for the limits and for looking into abuse.
        await _blocking(lambda: self.codes.prune_codes(now - 86400))
        await self.mailer.send(
            Mail(
                email,
                f"imgate sign-in code {code}",
                f"Your imgate sign-in code is {code}\n\n"
                "It works once, for 10 minutes. If you did not ask for it, ignore this email: "
                "nobody can sign in without the code.\n",
            )
        )
        return email

    async def check_code(self, email_text: str, typed: str) -> str:
        """The address's normal form if ``typed`` is its newest live code (which is used up); else a refusal."""
        email = checked_email(email_text)
        code = _typed_code(typed)
        if code is None:
            raise ValidationError(f"code: the code is {CODE_DIGITS} digits")
        record = await _blocking(lambda: self.codes.newest_code(email))
        now = self.clock()
        if record is None or record.used_at is not None or now >= record.expires_at:
            raise CodeExpired()
        if not await _blocking(lambda: self.codes.claim_attempt(record.code_id, MAX_ATTEMPTS)):
            # Unused and unexpired, so its attempts are spent (or it was used a moment ago: both are dead).
            raise CodeLocked()
        if not hmac.compare_digest(self._digest(email, code), record.digest):
            raise CodeInvalid()
        if not await _blocking(lambda: self.codes.use_code(record.code_id, now)):
            raise CodeExpired()  # the same code, used by a request racing this one
        return email


async def _blocking(fn: Callable[[], _T]) -> _T:
    """A store call in a worker thread: the SQLite store blocks, and the event loop also serves images."""
    return await asyncio.to_thread(fn)
