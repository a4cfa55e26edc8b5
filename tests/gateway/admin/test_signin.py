"""Sign-in as admin operations, on both account stores: codes from a real SMTP server on loopback, sessions,
sign-out, the user's own workspace, the audit rows they write (and do not write), and pruning."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from gateway import admin
from gateway.accounts.audit import AuditEntry
from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.secrets import SecretBox
from gateway.accounts.signin import Session, SignInCode
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.accounts.store import AccountStore
from gateway.accounts.tokens import TokenSigner
from gateway.accounts.users import Membership
from gateway.admin import AdminContext, Invalid, SignInSetup
from gateway.admin.signin import CODE_KEPT_FOR, CODE_LIFETIME, IDLE_TIMEOUT, LIMIT_WINDOW, MAX_AGE, session_digest
from gateway.cache.memory_results import MemoryResultStore
from gateway.errors import CodeExpired, CodeInvalid, CodeLocked, MailUnavailable, SignInLimited
from gateway.mail import SmtpMailer
from gateway.netguard import NetGuard
from gateway.settings import Settings
from loopback.ports import free_port
from tests.gateway.dashboard.support import Clock
from tests.gateway.mail.smtp_server import HOST, SmtpServer

pytestmark = pytest.mark.anyio

CLIENT = "203.0.113.9"


@dataclasses.dataclass
class Desk:
    ctx: AdminContext
    setup: SignInSetup
    store: AccountStore
    smtp: SmtpServer
    clock: Clock

    async def code(self, email: str) -> str:
        before = sum(1 for m in self.smtp.inbox.messages if str(m["To"]).lower() == email.lower())
        await admin.request_code(self.ctx, self.setup, email, CLIENT)
        return await asyncio.to_thread(self.smtp.code_for, email, before + 1)

    async def sign_in(self, email: str, replacing: str | None = None) -> admin.SignedIn:
        return await admin.sign_in(self.ctx, self.setup, email, await self.code(email), replacing=replacing)

    def settings_with(self, **changes: object) -> Settings:
        return self.ctx.settings.replace(**changes)

    def rows(self, namespace: str = "") -> list[AuditEntry]:
        return list(reversed(self.store.list_audit(namespace, 500).entries))


@pytest.fixture(params=["memory", "sqlite"])
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desk]:
    store: AccountStore = MemoryAccountStore() if request.param == "memory" else SqliteAccountStore(tmp_path / "a.db")
    settings = Settings(data_dir=str(tmp_path), signin_codes_per_client=5)
    box = SecretBox(Fernet.generate_key())
    ctx = AdminContext(store, settings, box, TokenSigner(box), MemoryResultStore(), lambda workspace: None, NetGuard())
    clock = Clock()
    with SmtpServer() as smtp:
        mailer = SmtpMailer(HOST, smtp.port, sender="imgate <no-reply@example.com>", security="none", timeout=5)
        yield Desk(ctx, SignInSetup.over(ctx, mailer, clock), store, smtp, clock)
    store.close()


async def test_a_first_sign_in_creates_the_user_and_a_second_finds_it(desk: Desk) -> None:
    first = await desk.sign_in("Ana@Example.com")
    assert first.new_user and first.user.email == "ana@example.com" and first.user.last_sign_in_at is not None
    desk.clock.advance(60)
    second = await desk.sign_in("ana@example.com")
    assert not second.new_user and second.user.user_id == first.user.user_id
    assert second.session_id != first.session_id
    current = await admin.current_user(desk.ctx, desk.setup, second.session_id)
    assert current is not None and current.user.user_id == first.user.user_id and current.memberships == []
    # The store keeps the session's hash only.
    assert desk.store.signins.get_session(session_digest(second.session_id)) is not None
    assert desk.store.signins.get_session(second.session_id) is None


async def test_sign_in_is_audited_as_the_user_and_never_holds_a_code_or_session_id(desk: Desk) -> None:
    code = await desk.code("ana@example.com")
    signed = await admin.sign_in(desk.ctx, desk.setup, "ana@example.com", code)
    user_ctx = desk.ctx.acting_as("user:ana@example.com")
    await admin.sign_out(user_ctx, desk.setup, signed.session_id)
    again = await desk.sign_in("ana@example.com")
    await admin.sign_out_everywhere(user_ctx, desk.setup, again.user)
    rows = desk.rows()
    assert [(row.actor, row.operation, row.status) for row in rows] == [
        ("user:ana@example.com", "signin", 200),
        ("user:ana@example.com", "signin.signout", 200),
        ("user:ana@example.com", "signin", 200),
        ("user:ana@example.com", "signin.signout_everywhere", 200),
    ]
    written = json.dumps([dataclasses.asdict(row) for row in rows])
    for secret in (code, signed.session_id, again.session_id, session_digest(signed.session_id)):
        assert secret not in written


async def test_asking_for_codes_and_failed_tries_write_no_audit_row(desk: Desk) -> None:
    # Nobody is known yet: a row would let anyone fill the log, or name someone else's address.
    code = await desk.code("victim@example.com")
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    with pytest.raises(CodeInvalid):
        await admin.sign_in(desk.ctx, desk.setup, "victim@example.com", wrong)
    with pytest.raises(Invalid) as bad:
        await admin.sign_in(desk.ctx, desk.setup, "victim@example.com", "12")
    assert bad.value.field == "code"
    assert desk.rows() == [] and desk.store.get_user_by_email("victim@example.com") is None


async def test_codes_expire_are_used_once_and_lock_after_five_tries(desk: Desk) -> None:
    code = await desk.code("ana@example.com")
    desk.clock.advance(CODE_LIFETIME)
    with pytest.raises(CodeExpired):
        await admin.sign_in(desk.ctx, desk.setup, "ana@example.com", code)
    code = await desk.code("ana@example.com")
    for _ in range(5):
        with pytest.raises(CodeInvalid):
            await admin.sign_in(desk.ctx, desk.setup, "ana@example.com", f"{(int(code) + 1) % 10**8:08d}")
    with pytest.raises(CodeLocked):
        await admin.sign_in(desk.ctx, desk.setup, "ana@example.com", code)
    code = await desk.code("ana@example.com")
    await admin.sign_in(desk.ctx, desk.setup, "ana@example.com", code)
    with pytest.raises(CodeExpired):
        await admin.sign_in(desk.ctx, desk.setup, "ana@example.com", code)


async def test_one_code_racing_itself_opens_one_session(desk: Desk) -> None:
    code = await desk.code("ana@example.com")
    results = await asyncio.gather(
        *(admin.sign_in(desk.ctx, desk.setup, "ana@example.com", code) for _ in range(4)), return_exceptions=True
    )
    opened = [result for result in results if isinstance(result, admin.SignedIn)]
    assert len(opened) == 1
    assert all(isinstance(result, CodeExpired | CodeLocked) for result in results if result not in opened)


async def test_the_limits_and_a_refusing_mail_server(desk: Desk) -> None:
    for _ in range(3):
        await admin.request_code(desk.ctx, desk.setup, "ana@example.com", CLIENT)
    with pytest.raises(SignInLimited) as limited:
        await admin.request_code(desk.ctx, desk.setup, "ana@example.com", CLIENT)
    assert int(limited.value.headers["Retry-After"]) > 0
    with pytest.raises(Invalid) as bad:
        await admin.request_code(desk.ctx, desk.setup, "not an address", CLIENT)
    assert bad.value.field == "email" and "not an address" not in bad.value.message
    nowhere = SmtpMailer(HOST, free_port(HOST), sender="no-reply@example.com", security="none", timeout=2)
    broken = dataclasses.replace(desk.setup, mailer=nowhere)
    with pytest.raises(MailUnavailable) as refused:
        await admin.request_code(desk.ctx, broken, "bo@example.com", "198.51.100.1")
    assert HOST not in refused.value.message


async def test_signing_in_again_ends_the_session_it_replaces(desk: Desk) -> None:
    old = await desk.sign_in("ana@example.com")
    new = await desk.sign_in("ana@example.com", replacing=old.session_id)
    assert await admin.current_user(desk.ctx, desk.setup, old.session_id) is None
    assert await admin.current_user(desk.ctx, desk.setup, new.session_id) is not None


async def test_sessions_end_idle_absolute_and_on_sign_out(desk: Desk) -> None:
    one, two, three = [await desk.sign_in("ana@example.com") for _ in range(3)]
    user_ctx = desk.ctx.acting_as("user:ana@example.com")
    assert await admin.sign_out(user_ctx, desk.setup, one.session_id)
    assert not await admin.sign_out(user_ctx, desk.setup, one.session_id)  # ended already
    assert await admin.current_user(desk.ctx, desk.setup, one.session_id) is None
    assert await admin.sign_out_everywhere(user_ctx, desk.setup, two.user) == 2
    for signed in (two, three):
        assert await admin.current_user(desk.ctx, desk.setup, signed.session_id) is None
    desk.clock.advance(LIMIT_WINDOW + 1)  # 3 codes per address per window
    idle = await desk.sign_in("ana@example.com")
    desk.clock.advance(IDLE_TIMEOUT)
    assert await admin.current_user(desk.ctx, desk.setup, idle.session_id) is None
    for junk in ("", "x" * 101, "not-a-session"):
        assert await admin.current_user(desk.ctx, desk.setup, junk) is None


async def test_the_users_own_workspace_and_memberships(desk: Desk) -> None:
    signed = await desk.sign_in("ana@example.com")
    user_ctx = desk.ctx.acting_as("user:ana@example.com")
    await admin.create_owned_workspace(user_ctx, "acme", signed.user)
    await admin.create_owned_workspace(user_ctx, "globex", signed.user)
    memberships = await admin.memberships_of(desk.ctx, signed.user)
    assert sorted((m.namespace, m.role) for m in memberships) == [("acme", "owner"), ("globex", "owner")]
    current = await admin.current_user(desk.ctx, desk.setup, signed.session_id)
    assert current is not None and sorted(m.namespace for m in current.memberships) == ["acme", "globex"]
    assert [(row.actor, row.operation) for row in desk.rows("acme")] == [
        ("user:ana@example.com", "workspace.create"),
        ("user:ana@example.com", "member.add"),
    ]
    workspace = desk.store.get_workspace("acme")
    assert workspace is not None and workspace.allowed_origins == ("*",)
    # src= of any host would make it an open proxy: off until its owner allows sources.
    assert workspace.allowed_sources == ()
    with pytest.raises(admin.Conflict):
        await admin.create_owned_workspace(user_ctx, "acme", signed.user)


def _code(n: int, created: float) -> SignInCode:
    return SignInCode(f"sic_{n:020x}", "ana@example.com", f"{n:064x}", CLIENT, created, created + CODE_LIFETIME)


async def test_prune_deletes_dead_codes_and_sessions_only(desk: Desk) -> None:
    now = desk.clock.now
    signins = desk.store.signins
    signins.add_code(_code(1, now - CODE_KEPT_FOR - CODE_LIFETIME - 1))  # expired more than a day ago
    signins.add_code(_code(2, now - CODE_KEPT_FOR))  # expired less than a day ago: kept for the limits
    signins.add_code(_code(3, now))
    user = desk.store.create_user("ana@example.com")
    old, revoked, live = (f"{n:064x}" for n in (7, 8, 9))
    signins.add_session(Session(old, user.user_id, now - MAX_AGE - 1, now - 10))  # past the absolute age
    signins.add_session(Session(revoked, user.user_id, now - 3600, now - 3600))
    signins.revoke_session(revoked, now - 60)  # dead, but kept as long as a live one would be
    signins.add_session(Session(live, user.user_id, now - 3600, now - 60))
    pruned = await admin.prune_signins(desk.ctx, now)
    assert (pruned.codes, pruned.sessions) == (1, 1)
    assert await admin.prune_signins(desk.ctx, now) == admin.PrunedSignIns(0, 0)
    assert signins.count_codes(since=0) == 2 and signins.get_session(live) is not None
    later = await admin.prune_signins(desk.ctx, now + MAX_AGE)
    assert (later.codes, later.sessions) == (2, 2) and signins.count_codes(since=0) == 0
    assert [(row.actor, row.operation) for row in desk.rows()] == [("cli", "signin.prune")] * 3


async def test_asking_for_a_code_and_signing_in_prune_on_the_way(desk: Desk) -> None:
    now = desk.clock.now
    signins = desk.store.signins
    signins.add_code(_code(1, now - CODE_KEPT_FOR - CODE_LIFETIME - 1))
    user = desk.store.create_user("old@example.com")
    ancient = f"{7:064x}"
    signins.add_session(Session(ancient, user.user_id, now - MAX_AGE - 1, now - 10))
    code = await desk.code("ana@example.com")
    assert signins.count_codes(since=0) == 1  # the dead one went when a new one was asked for
    assert signins.get_session(ancient) is not None
    await admin.sign_in(desk.ctx, desk.setup, "ana@example.com", code)
    assert signins.get_session(ancient) is None  # a sign-in forgets sessions past the absolute age


async def test_parallel_requests_never_get_more_than_three_codes_per_address(desk: Desk) -> None:
    asked = await asyncio.gather(
        *(admin.request_code(desk.ctx, desk.setup, "ana@example.com", f"198.51.100.{n}") for n in range(10)),
        return_exceptions=True,
    )
    assert sum(1 for answer in asked if answer == "ana@example.com") == 3
    assert all(isinstance(answer, SignInLimited) for answer in asked if answer != "ana@example.com")
    assert desk.store.signins.count_codes(since=0, email="ana@example.com") == 3


async def test_invite_only_sign_up_mails_codes_to_members_only(desk: Desk) -> None:
    invite = dataclasses.replace(desk.ctx, settings=desk.settings_with(signup="invite"))
    await admin.create_workspace(desk.ctx, "acme")
    await admin.add_member(desk.ctx, "acme", "ana@example.com", "member")
    # The same answer for a stranger, but no code is stored or mailed.
    assert await admin.request_code(invite, desk.setup, "eve@example.com", CLIENT) == "eve@example.com"
    assert desk.store.signins.count_codes(since=0, email="eve@example.com") == 0
    assert await admin.request_code(invite, desk.setup, "ana@example.com", CLIENT) == "ana@example.com"
    code = await asyncio.to_thread(desk.smtp.code_for, "ana@example.com", 1)
    signed = await admin.sign_in(invite, desk.setup, "ana@example.com", code)
    assert signed.user.email == "ana@example.com"
    assert not any(str(m["To"]).lower() == "eve@example.com" for m in desk.smtp.inbox.messages)


async def test_a_user_owns_at_most_max_owned_workspaces(desk: Desk) -> None:
    signed = await desk.sign_in("ana@example.com")
    capped = dataclasses.replace(desk.ctx, settings=desk.settings_with(max_owned_workspaces=2))
    user_ctx = capped.as_person("ana@example.com", {})
    await admin.create_owned_workspace(user_ctx, "one", signed.user)
    await admin.create_owned_workspace(user_ctx, "two", signed.user)
    with pytest.raises(admin.Forbidden, match="2"):
        await admin.create_owned_workspace(user_ctx, "three", signed.user)
    assert desk.store.get_workspace("three") is None


class _NoMembers(MemoryAccountStore):
    """A store that loses its connection when a member is added (after the workspace was created)."""

    def add_member(self, namespace: str, user_id: str, role: str = "member") -> Membership:
        raise ConnectionError("the database went away")


async def test_no_workspace_is_left_without_its_owner_when_adding_them_fails(tmp_path: Path) -> None:
    store = _NoMembers()
    box = SecretBox(Fernet.generate_key())
    ctx = AdminContext(
        store,
        Settings(data_dir=str(tmp_path)),
        box,
        TokenSigner(box),
        MemoryResultStore(),
        lambda workspace: None,
        NetGuard(),
    )
    user = store.create_user("ana@example.com")
    with pytest.raises(ConnectionError):
        await admin.create_owned_workspace(ctx.as_person(user.email, {}), "acme", user)
    assert store.get_workspace("acme") is None


# Digests as sign-in stored them before ``TokenSigner`` (a fixed gateway key, an address, a code): codes mailed
# before an upgrade must still sign in after it.
PINNED_KEY = base64.urlsafe_b64encode(b"imgate-tokens-test-key-32-bytes!")
PINNED_DIGESTS = {
    ("ann@example.com", "12345678"): "8155e46d60b42bad2ebee392f80c6cbc5fe23f4fee00309169fad54730a64509",
    ("zoë@example.com", "00000001"): "ddfa665f30a70ad21f22188a150997c0ffae69aa684b8adc2b3ad1bf55df1586",
}


async def test_a_code_stored_before_still_signs_in(desk: Desk) -> None:
    box = SecretBox(PINNED_KEY)
    ctx = dataclasses.replace(desk.ctx, secrets=box, tokens=TokenSigner(box))
    setup = SignInSetup.over(ctx, desk.setup.mailer, desk.clock)
    for (email, code), digest in PINNED_DIGESTS.items():
        assert setup.digest(email, code) == digest
    now = desk.clock()
    digest = PINNED_DIGESTS["ann@example.com", "12345678"]
    record = SignInCode(f"sic_{'0' * 20}", "ann@example.com", digest, CLIENT, now, now + CODE_LIFETIME)
    assert desk.store.signins.add_code_within(record, since=now - LIMIT_WINDOW, per_email=3, per_client=5)
    with pytest.raises(CodeInvalid):
        await admin.sign_in(ctx, setup, "ann@example.com", "12345679")
    with pytest.raises(CodeInvalid):  # the right code, checked by a gateway with another key
        await admin.sign_in(desk.ctx, desk.setup, "ann@example.com", "12345678")
    signed = await admin.sign_in(ctx, setup, "Ann@Example.com", "1234-5678")
    assert signed.user.email == "ann@example.com"
