"""Signing in and out, and the first workspace of a new account: forms over ``gateway.admin.signin``.

GET  /_/dashboard/                     signed out: the email form; signed in: the first workspace (or welcome)
POST /_/dashboard/signin               send a code; the code form
POST /_/dashboard/signin/code          check it; a new session; on to the dashboard
GET  /_/dashboard/welcome              a new account names its first workspace
POST /_/dashboard/signout              end this session
POST /_/dashboard/signout/everywhere   end every session of this user
"""

from __future__ import annotations

from starlette.responses import Response

from gateway.admin import AdminError
from gateway.admin import signin as admin_signin
from gateway.dashboard.sessions import COOKIE, COOKIE_PATH
from gateway.dashboard.web import PREFIX, Call, admin_error, client_of, see_other
from gateway.errors import GatewayError


def _refusal(exc: AdminError | GatewayError) -> GatewayError:
    return admin_error(exc) if isinstance(exc, AdminError) else exc


async def home(call: Call) -> Response:
    if call.viewer is None:
        return call.render("signin.html")
    if not call.viewer.memberships:
        return see_other(f"{PREFIX}/welcome")
    return see_other(f"{PREFIX}/w/{call.viewer.memberships[0].namespace}")


async def send_code(call: Call) -> Response:
    email = call.field("email")
    client = client_of(call.request, call.runtime)
    try:
        normal = await admin_signin.request_code(call.runtime.ctx, call.runtime.signin, email, client)
    except (AdminError, GatewayError) as exc:
        error = _refusal(exc)
        response = call.render("signin.html", status=error.status, error=error, email=email)
        response.headers.update(error.headers)  # Retry-After of SIGNIN_LIMITED
        return response
    # The same page whether or not the address has an account.
    return call.render("code.html", email=normal)


async def check_code(call: Call) -> Response:
    email = call.field("email")
    # Signing in again in a signed-in browser: the old session ends, a new id is issued (no fixation).
    replacing = call.viewer.session_id if call.viewer is not None else None
    try:
        signed_in = await admin_signin.sign_in(
            call.runtime.ctx, call.runtime.signin, email, call.field("code"), replacing=replacing
        )
    except (AdminError, GatewayError) as exc:
        error = _refusal(exc)
        return call.render("code.html", status=error.status, error=error, email=email)
    return call.start_session(see_other(f"{PREFIX}/"), signed_in.session_id)


async def welcome(call: Call) -> Response:
    return call.render("welcome.html", namespace=call.field("namespace"))


def _signed_out() -> Response:
    response = see_other(f"{PREFIX}/")
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


async def sign_out(call: Call) -> Response:
    await admin_signin.sign_out(call.ctx, call.runtime.signin, call.me.session_id)
    return _signed_out()


async def sign_out_everywhere(call: Call) -> Response:
    await admin_signin.sign_out_everywhere(call.ctx, call.runtime.signin, call.me.user)
    return _signed_out()
