"""The dashboard, ``/_/dashboard/``: server-rendered pages over ``gateway.admin``, never a second implementation.

    sessions.py          the session cookie; CSRF tokens (codes and sessions: ``gateway.admin.signin``)
    runtime.py           the admin context, sign-in setup (mailer, clock) and CSRF key of the gateway process
    web.py               templates, security headers, forms, the signed-in caller, error pages (``page``)
    signin_pages.py      sign-in, sign-out, the first workspace
    workspace_pages.py   workspaces, overview, members, API keys, audit, purge and delete
    settings_pages.py    origin (and its check), allowlists, capture retention, plan and limits
    domains_pages.py     custom domains: add (the DNS records to create), check, remove, HSTS; the plan's limit
    signing_pages.py     signed image URLs: required or not, secrets (rotate, shown once; import; remove), snippets
    shaping_pages.py     URL shaping: presets, default parameters, allowed widths, the imgix migration mode
    builder_pages.py     the URL builder: controls, the gateway's own output as preview, snippets
    usage_pages.py       the last 30 days as SVG charts (charts.py) and tables; this month against the plan
    marks_pages.py       mark presets (text, or an image in the origin), their preview, auto-apply rules
    templates/, static/  Jinja2 templates (autoescaped) and the one stylesheet and script, served from here

Only GET shows and only POST changes; every POST carries a CSRF token. No inline script or style anywhere, so
the Content-Security-Policy allows none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.dashboard import (
    builder_pages,
    domains_pages,
    marks_pages,
    settings_pages,
    shaping_pages,
    signin_pages,
    signing_pages,
    usage_pages,
    workspace_pages,
)
from gateway.dashboard.web import PREFIX, Call, page, secured
from gateway.errors import NotFound

_STATIC = Path(__file__).parent / "static"
_STATIC_TYPES = {"dashboard.css": "text/css; charset=utf-8", "dashboard.js": "text/javascript; charset=utf-8"}


async def _static(request: Request) -> Response:
    name = request.path_params["name"]
    kind = _STATIC_TYPES.get(name)
    if kind is None:
        return secured(Response("not found", status_code=404, media_type="text/plain"))
    response = Response((_STATIC / name).read_bytes(), media_type=kind)
    response.headers["Cache-Control"] = "public, max-age=300"
    return secured(response)


async def _not_found(call: Call) -> Response:
    raise NotFound("there is no such page")


def dashboard_routes() -> list[BaseRoute]:
    """One mount at ``/_/dashboard``, to be placed before the catch-all ``/_/…`` 404."""
    ws = "/w/{ns}"
    get, post = ["GET", "HEAD"], ["POST"]
    inner: list[BaseRoute] = [
        Route("/", page(signin_pages.home, signed_in=False), methods=get),
        Route("/signin", page(signin_pages.send_code, signed_in=False), methods=post),
        Route("/signin/code", page(signin_pages.check_code, signed_in=False), methods=post),
        Route("/welcome", page(signin_pages.welcome), methods=get),
        Route("/signout", page(signin_pages.sign_out), methods=post),
        Route("/signout/everywhere", page(signin_pages.sign_out_everywhere), methods=post),
        Route("/workspaces", page(workspace_pages.workspaces), methods=get),
        Route("/workspaces", page(workspace_pages.create_workspace), methods=post),
        Route(ws, page(workspace_pages.overview), methods=get),
        Route(ws + "/members", page(workspace_pages.members), methods=get),
        Route(ws + "/members", page(workspace_pages.invite), methods=post),
        Route(ws + "/members/role", page(workspace_pages.change_role), methods=post),
        Route(ws + "/members/remove", page(workspace_pages.remove_member), methods=post),
        Route(ws + "/settings", page(settings_pages.settings), methods=get),
        Route(ws + "/settings/origin", page(settings_pages.save_origin), methods=post),
        Route(ws + "/settings/access", page(settings_pages.save_access), methods=post),
        Route(ws + "/settings/retention", page(settings_pages.save_retention), methods=post),
        Route(ws + "/settings/capture-domain", page(settings_pages.switch_capture_domain), methods=post),
        Route(ws + "/settings/check", page(settings_pages.check_origin), methods=post),
        Route(ws + "/domains", page(domains_pages.domains), methods=get),
        Route(ws + "/domains", page(domains_pages.add), methods=post),
        Route(ws + "/domains/check", page(domains_pages.check), methods=post),
        Route(ws + "/domains/remove", page(domains_pages.confirm_remove), methods=get),
        Route(ws + "/domains/remove", page(domains_pages.remove), methods=post),
        Route(ws + "/domains/hsts", page(domains_pages.switch_hsts), methods=post),
        Route(ws + "/signing", page(signing_pages.signing), methods=get),
        Route(ws + "/signing/mode", page(signing_pages.switch_mode), methods=post),
        Route(ws + "/signing/rotate", page(signing_pages.rotate), methods=post),
        Route(ws + "/signing/import", page(signing_pages.import_token), methods=post),
        Route(ws + "/signing/remove", page(signing_pages.confirm_remove), methods=get),
        Route(ws + "/signing/remove", page(signing_pages.remove), methods=post),
        Route(ws + "/shaping", page(shaping_pages.shaping), methods=get),
        Route(ws + "/shaping/presets", page(shaping_pages.save_preset), methods=post),
        Route(ws + "/shaping/presets/delete", page(shaping_pages.remove_preset), methods=post),
        Route(ws + "/shaping/defaults", page(shaping_pages.save_defaults), methods=post),
        Route(ws + "/shaping/widths", page(shaping_pages.save_widths), methods=post),
        Route(ws + "/shaping/imgix-compat", page(shaping_pages.switch_compat), methods=post),
        Route(ws + "/marks", page(marks_pages.marks), methods=get),
        Route(ws + "/marks", page(marks_pages.create), methods=post),
        Route(ws + "/marks/update", page(marks_pages.update), methods=post),
        Route(ws + "/marks/delete", page(marks_pages.delete), methods=post),
        Route(ws + "/rules", page(marks_pages.add_rule), methods=post),
        Route(ws + "/rules/move", page(marks_pages.move_rule), methods=post),
        Route(ws + "/rules/delete", page(marks_pages.delete_rule), methods=post),
        Route(ws + "/keys", page(workspace_pages.keys), methods=get),
        Route(ws + "/keys", page(workspace_pages.create_key), methods=post),
        Route(ws + "/keys/revoke", page(workspace_pages.confirm_revoke), methods=get),
        Route(ws + "/keys/revoke", page(workspace_pages.revoke_key), methods=post),
        Route(ws + "/usage", page(usage_pages.usage), methods=get),
        Route(ws + "/builder", page(builder_pages.builder), methods=get),
        Route(ws + "/audit", page(workspace_pages.audit), methods=get),
        Route(ws + "/danger", page(workspace_pages.danger), methods=get),
        Route(ws + "/purge", page(workspace_pages.purge), methods=post),
        Route(ws + "/delete", page(workspace_pages.delete), methods=post),
        Route("/static/{name}", _static, methods=get),
    ]
    # Unknown paths get the dashboard's own 404 page; a known path with another method is 405 (Allow).
    router = Router(routes=inner, default=_asgi(page(_not_found, signed_in=False)), redirect_slashes=False)
    return [Route(PREFIX, page(signin_pages.home, signed_in=False), methods=get), Mount(PREFIX, app=router)]


def _asgi(endpoint: Callable[[Request], Awaitable[Response]]) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await endpoint(Request(scope, receive))
        await response(scope, receive, send)

    return app


__all__ = ["PREFIX", "dashboard_routes"]
