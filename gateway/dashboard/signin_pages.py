"""Signing in and out, and the first workspace of a new account.

GET  /_/dashboard/                     signed out: the email form; signed in: the first workspace (or welcome)
POST /_/dashboard/signin               send a code; the code form
POST /_/dashboard/signin/code          check it; a new session; on to the dashboard
GET  /_/dashboard/welcome              a new account names its first workspace
POST /_/dashboard/signout              end this session
POST /_/dashboard/signout/everywhere   end every session of this user
"""

from __future__ import annotations

import logging

from starlette.responses import Response

from gateway.accounts.store import UserExists
from gateway.accounts.users import User
from gateway.dashboard.web import PREFIX, Call, client_of, see_other
from gateway.errors import CodeExpired, CodeInvalid, CodeLocked, GatewayError, MailUnavailable, SignInLimited
from gateway.mail import MailError

log = logging.getLogger("imgate.dashboard")


async def home(call: Call) -> Response:
    if call.viewer is None:
        return call.render("signin.html")
    if not call.viewer.memberships:
        return see_other(f"{PREFIX}/welcome")
    return see_other(f"{PREFIX}/w/{call.viewer.memberships[0].namespace}")


async def send_code(call: Call) -> Response:
    email = call.field("email")
    try:
        normal = await call.runtime.signin.send_code(email, client_of(call.request, call.runtime))
    except MailError:
        log.warning("a sign-in code could not be mailed")
        error = MailUnavailable()
        return call.render("signin.html", status=error.status, error=error, email=email)
    except SignInLimited as exc:
        response = call.render("signin.html", status=exc.status, error=exc, email=email)
        response.headers.update(exc.headers)
        return response
    except GatewayError as exc:
        return call.render("signin.html", status=exc.status, error=exc, email=email)
    # The same page whether or not the address has an account.
    return call.render("code.html", email=normal)


def _user_for(call: Call, email: str) -> User:
    store = call.runtime.ctx.store
    user = store.get_user_by_email(email)
    if user is None:
        try:
            user = store.create_user(email)
        except UserExists:
            user = store.get_user_by_email(email)
            if user is None:
                raise
    return store.touch_sign_in(user.user_id)


async def check_code(call: Call) -> Response:
    email = call.field("email")
    try:
        normal = await call.runtime.signin.check_code(email, call.field("code"))
    except (CodeInvalid, CodeLocked, CodeExpired) as exc:
        return call.render("code.html", status=exc.status, error=exc, email=email)
    except GatewayError as exc:
        return call.render("code.html", status=exc.status, error=exc, email=email)
    user = await call.runtime.ctx.call(_user_for, call, normal)
    if call.viewer is not None:
        # Signing in again in a signed-in browser: the old session ends, a new id is issued (no fixation).
        await call.runtime.sessions.close(call.viewer.session_id)
    session_id = await call.runtime.sessions.open(user.user_id)
    return call.start_session(see_other(f"{PREFIX}/"), session_id)


async def welcome(call: Call) -> Response:
    return call.render("welcome.html", namespace=call.field("namespace"))


async def sign_out(call: Call) -> Response:
    await call.runtime.sessions.close(call.me.session_id)
    response = see_other(f"{PREFIX}/")
    response.delete_cookie("imgate_session", path="/_/dashboard")
    return response


async def sign_out_everywhere(call: Call) -> Response:
    await call.runtime.sessions.close_all(call.me.user.user_id)
    response = see_other(f"{PREFIX}/")
    response.delete_cookie("imgate_session", path="/_/dashboard")
    return response
