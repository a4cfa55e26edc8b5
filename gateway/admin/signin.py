"""Signing in by an emailed one-time code, the sessions a code opens, signing out, and pruning both.

The dashboard is the adapter (its cookies and CSRF tokens are its own); every rule lives here. Codes:

- a code is 8 random digits, valid 10 minutes, good for one sign-in, and only the newest code of an address
  counts (asking again replaces it) - ``CODE_EXPIRED`` otherwise;
- each try spends one of the code's 5 attempts before the comparison, so parallel guesses share the budget; a
  code whose attempts are spent is dead even when the 6th try is right - ``CODE_LOCKED``; a wrong one is
  ``CODE_INVALID``;
- at most 3 codes per address and ``signin_codes_per_client`` per client address in 15 minutes -
  ``SIGNIN_LIMITED`` with ``Retry-After`` (counted and stored in one store call, so parallel requests cannot
  get past the limit together);
- codes are stored as HMAC-SHA256 under a key derived from the gateway's secret key and compared in constant
  time (``gateway.accounts.tokens``); a leaked database does not give codes away, even with 10^8 hashes tried.

Asking for a code answers the same whether or not the address has an account: a first sign-in creates one, so
every well-formed address gets a code. With ``signup = "invite"`` only an address that is a member of some
workspace already gets one; the answer to any other is the same, and no code is made or mailed.

Workspaces made here (``create_owned_workspace``) are made with their owner in one step (the workspace goes
again if the owner cannot be added), at most ``max_owned_workspaces`` per user, and with ``src=`` sources off:
fetching from any host on the internet for anyone is an open proxy the owner has to choose.

Sessions: a random 256-bit id (the caller's cookie) of which the store keeps only the SHA-256. A session ends
when its owner signs out (that one) or signs out everywhere (all of theirs), after 12 hours without a request
(idle), and 14 days after sign-in whatever happens (absolute). Every sign-in makes a new id, so an id planted
before sign-in (fixation) never becomes a signed-in one.

Audit: a sign-in, a sign-out and a prune each record one row under no workspace, acting as the user who signed
in (``user:<email>``) or the caller. Asking for a code and a failed try record nothing, like an API call
without a valid key: nobody is known yet, and the row would let anyone fill the log (or name someone else's
address). Rows never hold a code, a session id or any address but the actor's own.

Dead codes and sessions are deleted on the way: asking for a code prunes codes, a sign-in prunes sessions, and
``prune_signins`` (``imgate signin prune``) does both for a gateway nobody signs in to. The clock is part of
``SignInSetup``, so tests expire codes and sessions without sleeping.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.accounts.signin import Session, SignInCode, SignInStore
from gateway.accounts.store import AccountStore, UserExists
from gateway.accounts.tokens import Purpose, TokenSigner
from gateway.accounts.users import InvalidEmail, Membership, User, normalise_email
from gateway.admin.audit import audit_call
from gateway.admin.context import AdminContext
from gateway.admin.errors import Forbidden, Invalid
from gateway.admin.members import add_member
from gateway.admin.workspaces import WorkspaceChanges, create_workspace, remove
from gateway.errors import CodeExpired, CodeInvalid, CodeLocked, MailUnavailable, SignInLimited
from gateway.mail import Mail, Mailer, MailError

log = logging.getLogger("imgate.signin")

Clock = Callable[[], float]

CODE_DIGITS = 8
CODE_LIFETIME = 600.0
MAX_ATTEMPTS = 5
LIMIT_WINDOW = 900.0
CODES_PER_EMAIL = 3
# Codes are worth nothing once expired; a day's worth is kept for the limits and for looking into abuse.
CODE_KEPT_FOR = 86400.0
IDLE_TIMEOUT = 12 * 3600.0
MAX_AGE = 14 * 86400.0
# last_seen_at is written at most this often per session: idle expiry needs minutes, not every request.
TOUCH_EVERY = 60.0
_MAX_SESSION_ID = 100


def _code_message(email: str, code: str) -> str:
    # The address is part of the message: a code is good for the address it was sent to only.
    return f"{email}\n{code}"


@dataclass(frozen=True, slots=True)
class SignInSetup:
    """What sign-in needs besides the admin context: the mailer of the codes, their signer, the clock."""

    mailer: Mailer
    # Signs code digests (``Purpose.SIGNIN_CODE``, a key derived from the gateway's secret key): ``ctx.tokens``.
    tokens: TokenSigner
    codes_per_client: int
    clock: Clock = time.time

    @classmethod
    def over(cls, ctx: AdminContext, mailer: Mailer, clock: Clock = time.time) -> SignInSetup:
        return cls(mailer, ctx.tokens, ctx.settings.signin_codes_per_client, clock)

    def digest(self, email: str, code: str) -> str:
        """What the store keeps of a code sent to ``email``."""
        return self.tokens.sign(Purpose.SIGNIN_CODE, _code_message(email, code))

    def code_matches(self, email: str, code: str, digest: str) -> bool:
        return self.tokens.verify(Purpose.SIGNIN_CODE, _code_message(email, code), digest)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session. ``session_id`` goes into the caller's cookie and nowhere else (the store has its hash)."""

    session_id: str
    user: User
    # The address had no account before this sign-in.
    new_user: bool


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """Who a live session belongs to, with their memberships (the workspaces they may see)."""

    session: Session
    user: User
    memberships: list[Membership]


@dataclass(frozen=True, slots=True)
class PrunedSignIns:
    codes: int
    sessions: int


def session_digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def checked_email(text: str) -> str:
    try:
        return normalise_email(text)
    except InvalidEmail as exc:
        raise Invalid(f"email: {exc}", "email") from None


def _typed_code(text: str) -> str | None:
    """The digits of what was typed (spaces and dashes are how people copy codes), or ``None``."""
    digits = "".join(char for char in text if char not in " -\t")
    return digits if len(digits) == CODE_DIGITS and digits.isascii() and digits.isdigit() else None


# -- codes ------------------------------------------------------------------------------------------------------


async def request_code(ctx: AdminContext, setup: SignInSetup, email: str, client: str) -> str:
    """Mail a new code to the address; answers its normal form. ``client`` is the asker's address, as text."""
    normal = checked_email(email)
    codes = ctx.store.signins
    now = setup.clock()
    if ctx.settings.signup == "invite" and not await ctx.call(_invited, ctx.store, normal):
        # The same answer as a code sent: the form must not tell who has an account.
        log.info("a sign-in code was asked for by an address that is not invited (signup = invite)")
        return normal
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    record = SignInCode(
        code_id=f"sic_{secrets.token_hex(10)}",
        email=normal,
        digest=setup.digest(normal, code),
        client=client,
        created_at=now,
        expires_at=now + CODE_LIFETIME,
    )
    stored = await ctx.call(
        lambda: codes.add_code_within(
            record, since=now - LIMIT_WINDOW, per_email=CODES_PER_EMAIL, per_client=setup.codes_per_client
        )
    )
    if not stored:
        raise SignInLimited(
            "too many sign-in codes were asked for; wait a few minutes, then ask again",
            headers={"Retry-After": str(math.ceil(LIMIT_WINDOW / 3))},
        )
    await ctx.call(codes.prune_codes, now - CODE_KEPT_FOR)
    mail = Mail(
        normal,
        f"imgate sign-in code {code}",
        f"Your imgate sign-in code is {code}\n\n"
        "It works once, for 10 minutes. If you did not ask for it, ignore this email: "
        "nobody can sign in without the code.\n",
    )
    try:
        await setup.mailer.send(mail)
    except MailError:
        log.warning("a sign-in code could not be mailed")
        raise MailUnavailable() from None
    return normal


def _invited(store: AccountStore, email: str) -> bool:
    """Whether the address belongs to a member of some workspace (``signup = "invite"``)."""
    user = store.get_user_by_email(email)
    return user is not None and bool(store.list_memberships(user.user_id))


async def _check_code(ctx: AdminContext, setup: SignInSetup, email: str, typed: str) -> str:
    """The address's normal form if ``typed`` is its newest live code (which is used up); else a refusal."""
    normal = checked_email(email)
    code = _typed_code(typed)
    if code is None:
        raise Invalid(f"code: the code is {CODE_DIGITS} digits", "code")
    codes = ctx.store.signins
    record = await ctx.call(codes.newest_code, normal)
    now = setup.clock()
    if record is None or record.used_at is not None or now >= record.expires_at:
        raise CodeExpired()
    if not await ctx.call(codes.claim_attempt, record.code_id, MAX_ATTEMPTS):
        # Unused and unexpired, so its attempts are spent (or it was used a moment ago: both are dead).
        raise CodeLocked()
    if not setup.code_matches(normal, code, record.digest):
        raise CodeInvalid()
    if not await ctx.call(codes.use_code, record.code_id, now):
        raise CodeExpired()  # the same code, used by a request racing this one
    return normal


# -- signing in and out -----------------------------------------------------------------------------------------


def _user_signing_in(store: AccountStore, email: str) -> tuple[User, bool]:
    """The user of this address (created on a first sign-in), its sign-in time set; and whether it is new."""
    user, new = store.get_user_by_email(email), False
    if user is None:
        try:
            user, new = store.create_user(email), True
        except UserExists:  # created by a sign-in racing this one
            user = store.get_user_by_email(email)
            if user is None:
                raise
    return store.touch_sign_in(user.user_id), new


async def sign_in(
    ctx: AdminContext, setup: SignInSetup, email: str, code: str, *, replacing: str | None = None
) -> SignedIn:
    """Check the code; on success the user (created on a first sign-in) and a new session.

    ``replacing``: the session id the caller had when it signed in again; it ends, so an id that was in the
    browser before the code was typed is never a signed-in one.
    """
    normal = await _check_code(ctx, setup, email, code)
    async with audit_call(ctx.acting_as(f"user:{normal}"), "", "signin"):
        user, new = await ctx.call(_user_signing_in, ctx.store, normal)
        if replacing:
            await _end_session(ctx, setup, replacing)
        session_id = await _open_session(ctx, setup, user.user_id)
    return SignedIn(session_id, user, new)


async def _open_session(ctx: AdminContext, setup: SignInSetup, user_id: str) -> str:
    session_id = secrets.token_urlsafe(32)
    now = setup.clock()
    await ctx.call(ctx.store.signins.add_session, Session(session_digest(session_id), user_id, now, now))
    # Sign-ins are rare: the moment to forget sessions that can no longer be used.
    await ctx.call(ctx.store.signins.prune_sessions, now - MAX_AGE)
    return session_id


async def _end_session(ctx: AdminContext, setup: SignInSetup, session_id: str) -> bool:
    if not session_id or len(session_id) > _MAX_SESSION_ID:
        return False
    return await ctx.call(ctx.store.signins.revoke_session, session_digest(session_id), setup.clock())


async def current_user(ctx: AdminContext, setup: SignInSetup, session_id: str) -> CurrentUser | None:
    """Who the live session of this id belongs to; ``None`` when unknown, revoked, idle too long or too old."""
    if not session_id or len(session_id) > _MAX_SESSION_ID:
        return None
    signins = ctx.store.signins
    digest = session_digest(session_id)
    session = await ctx.call(signins.get_session, digest)
    now = setup.clock()
    if session is None or now - session.last_seen_at >= IDLE_TIMEOUT or now - session.created_at >= MAX_AGE:
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        await ctx.call(signins.touch_session, digest, now)
    user = await ctx.call(ctx.store.get_user, session.user_id)
    if user is None:
        return None
    return CurrentUser(session, user, await memberships_of(ctx, user))


async def memberships_of(ctx: AdminContext, user: User) -> list[Membership]:
    """The workspaces the user belongs to, with the role in each."""
    return await ctx.call(ctx.store.list_memberships, user.user_id)


async def sign_out(ctx: AdminContext, setup: SignInSetup, session_id: str) -> bool:
    """End this session (``ctx`` acts as its user); ``False`` when it was not live."""
    async with audit_call(ctx, "", "signin.signout"):
        return await _end_session(ctx, setup, session_id)


async def sign_out_everywhere(ctx: AdminContext, setup: SignInSetup, user: User) -> int:
    """End every live session of the user (``ctx`` acts as them); how many."""
    async with audit_call(ctx, "", "signin.signout_everywhere"):
        return await ctx.call(ctx.store.signins.revoke_user_sessions, user.user_id, setup.clock())


async def create_owned_workspace(ctx: AdminContext, namespace: str, owner: User) -> None:
    """A new workspace with ``owner`` as its owner: a user's first, or another (see the module docstring).

    The owner is added by the operation itself (``as_operator``): nobody is an owner of a workspace that does
    not exist yet. If adding them fails, the workspace is removed again, so none is ever left without an owner.
    """
    owned = [m for m in await ctx.call(ctx.store.list_memberships, owner.user_id) if m.role == "owner"]
    cap = ctx.settings.max_owned_workspaces
    if len(owned) >= cap:
        raise Forbidden(f"you own {len(owned)} workspaces, the most one user may own here ({cap})")
    await create_workspace(ctx, namespace, WorkspaceChanges(allowed_sources=()))
    try:
        await add_member(ctx.as_operator(), namespace, owner.email, "owner")
    except BaseException:
        # BaseException: a cancelled request must not leave the owner-less workspace behind either.
        with contextlib.suppress(Exception):
            await remove(ctx, namespace)
        raise


# -- pruning ----------------------------------------------------------------------------------------------------


def _prune(signins: SignInStore, now: float) -> PrunedSignIns:
    return PrunedSignIns(signins.prune_codes(now - CODE_KEPT_FOR), signins.prune_sessions(now - MAX_AGE))


async def prune_signins(ctx: AdminContext, now: float | None = None) -> PrunedSignIns:
    """Delete codes a day past their expiry and sessions past the absolute age (or revoked that long ago)."""
    at = time.time() if now is None else now
    async with audit_call(ctx, "", "signin.prune"):
        return await ctx.call(_prune, ctx.store.signins, at)
