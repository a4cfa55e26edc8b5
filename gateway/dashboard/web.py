"""The dashboard's HTTP vocabulary: templates, security headers, forms, the signed-in caller, error pages.

Every page goes through ``page``: it finds the session, checks the CSRF token of every POST before anything
else, and turns a refusal (``GatewayError``, the admin layer's ``AdminError``) into a page that shows its
stable code and message with the right status. Every answer carries the same headers (``secured``): a strict
Content-Security-Policy with no inline script or style, ``X-Frame-Options: DENY``, ``Referrer-Policy``,
``nosniff`` and ``Cache-Control: no-store`` (pages show secrets once and personal data always).
"""

from __future__ import annotations

import datetime
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import jinja2
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Message

from gateway.accounts.signin import Session
from gateway.accounts.users import Membership, User
from gateway.admin import AdminContext, AdminError
from gateway.admin.errors import http_error
from gateway.admin.signin import current_user
from gateway.dashboard.runtime import DashboardRuntime
from gateway.dashboard.sessions import COOKIE, COOKIE_MAX_AGE, COOKIE_PATH, FORM_COOKIE
from gateway.errors import (
    CsrfFailed,
    GatewayError,
    Internal,
    NotFound,
    ValidationError,
)
from gateway.web.bodies import read_body

log = logging.getLogger("imgate.dashboard")

PREFIX = "/_/dashboard"
MAX_FORM_BYTES = 64 * 1024
# The mark upload form: an image of at most 2 MiB (the admin layer's cap) and a few fields.
MAX_UPLOAD_BYTES = 3 * 1024 * 1024
_HERE = Path(__file__).parent
TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(at: float | None) -> str:
    if not at:
        return "never"
    return datetime.datetime.fromtimestamp(at, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _seconds(n: int) -> str:
    if n == 0:
        return "no time (deliver, keep nothing)"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if n % size == 0:
            count = n // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{n} seconds"


def _limit(value: object, name: str) -> str:
    """A plan limit as people read it: yes/no, sizes in GiB/MiB, counts with thousands separators."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and "bytes" in name:
        for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
            if value >= size:
                return f"{value / size:,.1f}".removesuffix(".0") + f" {unit}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


TEMPLATES.filters["when"] = _when
TEMPLATES.filters["limit"] = _limit
TEMPLATES.filters["seconds"] = _seconds
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def secured(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def over_tls(request: Request, runtime: DashboardRuntime) -> bool:
    """Did the browser talk TLS? The socket's scheme, or what a trusted proxy in front says (Caddy terminates
    TLS and talks plain HTTP to the gateway: without its X-Forwarded-Proto no cookie would be Secure)."""
    # Every line of the header, joined as one list: a client-written line must not hide the proxy's own.
    lines = request.headers.getlist("x-forwarded-proto")
    return runtime.hosts.https(request.scope, ", ".join(lines) if lines else None)


def public_origin(request: Request, runtime: DashboardRuntime) -> str:
    """Where the gateway's image URLs live, for the snippets a page shows: the first of ``public_hosts`` (never a
    Host the request made up), ``https`` when the browser talked TLS (to us or to the proxy in front), and the
    port the browser used, so ``make run``'s ``127.0.0.1:8080`` URLs work as shown."""
    host = runtime.ctx.settings.public_hosts[0]
    shown = f"[{host}]" if ":" in host else host
    port = request.url.port
    https = over_tls(request, runtime)
    if port is not None and port != (443 if https else 80) and request.url.scheme == ("https" if https else "http"):
        shown = f"{shown}:{port}"
    return f"{'https' if https else 'http'}://{shown}"


def client_of(request: Request, runtime: DashboardRuntime) -> str:
    address = runtime.proxies.client_address(request.scope)
    return str(address) if address is not None else "unknown"


# The admin layer's refusal as the gateway error the API answers with: one mapping for both adapters.
admin_error = http_error


@dataclass(slots=True)
class Viewer:
    """The signed-in person: their session, user record and memberships."""

    session_id: str
    session: Session
    user: User
    memberships: list[Membership]

    def role_in(self, namespace: str) -> str | None:
        return next((m.role for m in self.memberships if m.namespace == namespace), None)


@dataclass(slots=True)
class Call:
    request: Request
    runtime: DashboardRuntime
    viewer: Viewer | None
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    csrf: str = ""
    # A cookie to set for the anonymous forms' CSRF binding (first visit of the sign-in page).
    form_binding: str = ""
    new_form_binding: bool = False

    @property
    def ctx(self) -> AdminContext:
        """The admin context acting as the signed-in user (``user:<email>`` in audit rows) with their roles: what
        an owner or a member may do is the admin layer's rule, its ``Forbidden`` a 403 page."""
        if self.viewer is None:
            raise RuntimeError("no one is signed in")
        roles = {membership.namespace: membership.role for membership in self.viewer.memberships}
        return self.runtime.ctx.as_person(self.viewer.user.email, roles)

    @property
    def me(self) -> Viewer:
        if self.viewer is None:
            raise RuntimeError("no one is signed in")
        return self.viewer

    def member_of(self, namespace: str) -> str:
        """``namespace`` if the viewer may see it; 404 otherwise (a stranger learns nothing of its existence).
        What they may do in it is checked by the admin layer (``gateway.admin.roles``)."""
        if self.me.role_in(namespace) is None:
            raise NotFound("no such workspace")
        return namespace

    def render(self, template: str, status: int = 200, **values: Any) -> Response:
        for name in ("current", "notice", "error", "active"):
            values.setdefault(name, None)
        body = TEMPLATES.get_template(template).render(csrf=self.csrf, viewer=self.viewer, prefix=PREFIX, **values)
        response = HTMLResponse(body, status_code=status)
        if self.new_form_binding:
            response.set_cookie(
                FORM_COOKIE,
                self.form_binding,
                max_age=3600,
                path=COOKIE_PATH,
                httponly=True,
                samesite="lax",
                secure=over_tls(self.request, self.runtime),
            )
        return response

    def field(self, name: str) -> str:
        return self.form.get(name, "")

    def start_session(self, response: Response, session_id: str) -> Response:
        response.set_cookie(
            COOKIE,
            session_id,
            max_age=COOKIE_MAX_AGE,
            path=COOKIE_PATH,
            httponly=True,
            samesite="lax",
            secure=over_tls(self.request, self.runtime),
        )
        response.delete_cookie(FORM_COOKIE, path=COOKIE_PATH)
        return response


def see_other(path: str) -> Response:
    """POST, then redirect, then GET: a reload never posts twice. The location is a path, never a host."""
    if not path.startswith(PREFIX + "/") and path != PREFIX:
        raise ValueError("the dashboard redirects inside itself only")
    return Response(status_code=303, headers={"Location": path})


async def read_form(request: Request) -> tuple[dict[str, str], dict[str, bytes]]:
    """A posted form: its fields (the last value of a repeated one wins) and its uploaded files' bytes.

    ``application/x-www-form-urlencoded`` up to 64 KiB, or ``multipart/form-data`` (the upload form) up to
    ``MAX_UPLOAD_BYTES``; the whole body is read under its cap before anything parses it.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise ValidationError("forms are posted as application/x-www-form-urlencoded or multipart/form-data")
    cap = MAX_FORM_BYTES if kind == "application/x-www-form-urlencoded" else MAX_UPLOAD_BYTES
    body = await read_body(request, cap, "the form is too large")
    if kind == "multipart/form-data":
        return await _multipart(request, body)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise ValidationError("the form could not be read") from None
    return {name: value for name, value in pairs}, {}


async def _multipart(request: Request, body: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    try:
        async with Request(request.scope, replay).form(max_files=1, max_fields=50) as form:
            for name, value in form.multi_items():
                if isinstance(value, str):
                    fields[name] = value
                else:
                    files[name] = await value.read()
    except (HTTPException, ValueError):
        raise ValidationError("the form could not be read") from None
    return fields, files


async def _viewer(request: Request, runtime: DashboardRuntime) -> Viewer | None:
    session_id = request.cookies.get(COOKIE, "")
    found = await current_user(runtime.ctx, runtime.signin, session_id) if session_id else None
    if found is None:
        return None
    return Viewer(session_id, found.session, found.user, list(found.memberships))


Handler = Callable[[Call], Awaitable[Response]]


def page(handler: Handler, *, signed_in: bool = True) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint from a dashboard handler (see the module docstring)."""

    async def endpoint(request: Request) -> Response:
        runtime = DashboardRuntime.of(request.app)
        call = Call(request, runtime, None)
        try:
            if runtime.hosts.custom_domain(request.scope, request.headers.get("host")) is not None:
                # Never reached through FastHits (it sends custom domains to the image route); kept so the
                # dashboard cannot be served on a customer's domain if the app is mounted some other way.
                raise NotFound()
            call.viewer = await _viewer(request, runtime)
            if call.viewer is not None:
                call.csrf = runtime.csrf.token(call.viewer.session_id)
            else:
                call.form_binding = request.cookies.get(FORM_COOKIE, "")
                if not call.form_binding or len(call.form_binding) > 100:
                    call.form_binding, call.new_form_binding = secrets.token_urlsafe(24), True
                call.csrf = runtime.csrf.token("form\n" + call.form_binding)
            if request.method == "POST":
                # The token is checked before the form's content is looked at, and before anything changes.
                call.form, call.files = await read_form(request)
                binding = call.viewer.session_id if call.viewer is not None else "form\n" + call.form_binding
                if call.new_form_binding or not runtime.csrf.ok(binding, call.field("csrf")):
                    raise CsrfFailed()
            if signed_in and call.viewer is None:
                if request.method == "GET":
                    return secured(see_other(PREFIX + "/"))
                raise CsrfFailed("you were signed out; sign in again")
            response = await handler(call)
        except AdminError as exc:
            response = error_page(call, admin_error(exc))
        except GatewayError as exc:
            response = error_page(call, exc)
        except Exception:
            log.exception("dashboard page failed")
            response = error_page(call, Internal())
        return secured(response)

    return endpoint


def error_page(call: Call, error: GatewayError) -> Response:
    response = call.render("error.html", status=error.status, error=error)
    for name, value in error.headers.items():
        response.headers[name] = value
    return response
