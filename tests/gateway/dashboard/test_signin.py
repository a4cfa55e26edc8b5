"""Sign-in by emailed code over HTTP: codes read from a real SMTP server, every refusal with its stable code."""

from __future__ import annotations

import pytest

from gateway.admin.signin import CODE_LIFETIME
from gateway.dashboard.runtime import DashboardRuntime
from gateway.mail import SmtpMailer
from loopback.ports import free_port
from tests.gateway.dashboard.support import DASH, Dash, csrf_of, error_code
from tests.gateway.mail.smtp_server import HOST

pytestmark = pytest.mark.anyio


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**8:08d}"


async def test_first_sign_in_creates_the_user_and_a_workspace_without_src(dash: Dash) -> None:
    answer = await dash.sign_in("Ana@Example.com")
    assert answer.headers["location"] == f"{DASH}/"
    home = await dash.client.get(f"{DASH}/")
    assert (home.status_code, home.headers["location"]) == (303, f"{DASH}/welcome")
    csrf = csrf_of((await dash.client.get(f"{DASH}/welcome")).text)
    created = await dash.client.post(f"{DASH}/workspaces", data={"csrf": csrf, "namespace": "acme"})
    assert created.headers["location"] == f"{DASH}/w/acme?notice=created"
    user = dash.store.get_user_by_email("ana@example.com")
    assert user is not None and user.last_sign_in_at is not None
    [membership] = dash.store.list_memberships(user.user_id)
    assert (membership.namespace, membership.role) == ("acme", "owner")
    workspace = dash.store.get_workspace("acme")
    # Its own origin's URLs work at once; src= of any host (an open proxy) stays off until the owner allows it.
    assert workspace is not None and workspace.allowed_origins == ("*",) and workspace.allowed_sources == ()
    actors = {row.actor for row in dash.store.list_audit("acme").entries}
    assert actors == {"user:ana@example.com"}
    overview = await dash.client.get(f"{DASH}/w/acme")
    assert overview.status_code == 200 and "acme" in overview.text


async def test_the_code_is_8_digits_and_stored_only_as_an_hmac(dash: Dash) -> None:
    await dash.ask_code("ana@example.com")
    code = dash.smtp.code_for("ana@example.com")
    assert len(code) == 8 and code.isdigit()
    stored = dash.store.signins.newest_code("ana@example.com")
    assert stored is not None and code not in stored.digest and len(stored.digest) == 64
    assert stored.expires_at - stored.created_at == CODE_LIFETIME


async def test_the_same_answer_whether_or_not_the_address_has_an_account(dash: Dash) -> None:
    await dash.sign_up("known@example.com", "known")
    other = dash.browser()
    known = await dash.ask_code("known@example.com", other)
    unknown = await dash.ask_code("nobody@example.com", other)
    assert known.status_code == unknown.status_code == 200
    same = known.text.replace("known@example.com", "X").replace(csrf_of(known.text), "T")
    assert same == unknown.text.replace("nobody@example.com", "X").replace(csrf_of(unknown.text), "T")
    assert dash.sent("nobody@example.com") == 1  # a first sign-in needs its code as well


async def test_a_code_works_once(dash: Dash) -> None:
    await dash.ask_code("ana@example.com")
    code = dash.smtp.code_for("ana@example.com")
    assert (await dash.send_code("ana@example.com", code)).status_code == 303
    again = await dash.send_code("ana@example.com", code, dash.browser())
    assert again.status_code == 401 and error_code(again) == "CODE_EXPIRED"
    assert "imgate_session" not in again.headers.get("set-cookie", "")


async def test_the_sixth_attempt_is_refused_even_with_the_right_code(dash: Dash) -> None:
    await dash.ask_code("ana@example.com")
    code = dash.smtp.code_for("ana@example.com")
    for _ in range(5):
        wrong = await dash.send_code("ana@example.com", _wrong(code))
        assert wrong.status_code == 401 and error_code(wrong) == "CODE_INVALID"
    sixth = await dash.send_code("ana@example.com", code)
    assert sixth.status_code == 401 and error_code(sixth) == "CODE_LOCKED"


async def test_four_wrong_tries_then_the_right_code_signs_in(dash: Dash) -> None:
    await dash.ask_code("ana@example.com")
    code = dash.smtp.code_for("ana@example.com")
    for _ in range(4):
        await dash.send_code("ana@example.com", _wrong(code))
    assert (await dash.send_code("ana@example.com", f"{code[:4]} {code[4:]}")).status_code == 303


async def test_a_code_expires_after_10_minutes(dash: Dash) -> None:
    await dash.ask_code("ana@example.com")
    code = dash.smtp.code_for("ana@example.com")
    dash.clock.advance(CODE_LIFETIME + 1)
    late = await dash.send_code("ana@example.com", code)
    assert late.status_code == 401 and error_code(late) == "CODE_EXPIRED"


async def test_only_the_newest_code_counts(dash: Dash) -> None:
    await dash.ask_code("ana@example.com")
    first = dash.smtp.code_for("ana@example.com", 1)
    await dash.ask_code("ana@example.com")
    second = dash.smtp.code_for("ana@example.com", 2)
    if first != second:
        assert error_code(await dash.send_code("ana@example.com", first)) == "CODE_INVALID"
    assert (await dash.send_code("ana@example.com", second)).status_code == 303


async def test_a_code_is_for_its_own_address_only(dash: Dash) -> None:
    await dash.ask_code("ana@example.com")
    await dash.ask_code("eve@example.com")
    ana = dash.smtp.code_for("ana@example.com")
    refused = await dash.send_code("eve@example.com", ana)
    if ana != dash.smtp.code_for("eve@example.com"):
        assert error_code(refused) == "CODE_INVALID"


async def test_three_codes_per_address_per_15_minutes(dash: Dash) -> None:
    for _ in range(3):
        assert (await dash.ask_code("ana@example.com")).status_code == 200
    fourth = await dash.ask_code("ana@example.com")
    assert fourth.status_code == 429 and error_code(fourth) == "SIGNIN_LIMITED"
    assert int(fourth.headers["retry-after"]) > 0
    assert dash.sent("ana@example.com") == 3
    dash.clock.advance(15 * 60 + 1)
    assert (await dash.ask_code("ana@example.com")).status_code == 200


async def test_a_client_address_may_ask_for_a_few_codes_only(dash: Dash) -> None:
    for n in range(6):  # signin_codes_per_client = 6 in this setup
        assert (await dash.ask_code(f"user{n}@example.com")).status_code == 200
    seventh = await dash.ask_code("user7@example.com")
    assert seventh.status_code == 429 and error_code(seventh) == "SIGNIN_LIMITED"
    assert dash.sent("user7@example.com") == 0


async def test_bad_input_is_a_clear_400(dash: Dash) -> None:
    bad_email = await dash.ask_code("not an address")
    assert bad_email.status_code == 400 and error_code(bad_email) == "VALIDATION_ERROR"
    await dash.ask_code("ana@example.com")
    short = await dash.send_code("ana@example.com", "1234")
    assert short.status_code == 400 and error_code(short) == "VALIDATION_ERROR"
    stored = dash.store.signins.newest_code("ana@example.com")
    assert stored is not None and stored.attempts == 0  # a malformed code spends no attempt


async def test_a_mail_server_that_refuses_is_a_clear_503(dash: Dash) -> None:
    app = dash.transport.app
    current = DashboardRuntime.of(app)
    nowhere = SmtpMailer(HOST, free_port(HOST), sender="no-reply@example.com", security="none", timeout=2)
    DashboardRuntime.install(app, DashboardRuntime.over(current.ctx, nowhere, dash.clock))
    refused = await dash.ask_code("ana@example.com")
    assert refused.status_code == 503 and error_code(refused) == "MAIL_UNAVAILABLE"
    assert "127.0.0.1" not in refused.text
