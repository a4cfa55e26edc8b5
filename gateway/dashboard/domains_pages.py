"""A workspace's custom domains: list with states and reasons, add (the DNS records to create, each copyable),
check now, remove after a confirmation, and the workspace's HSTS switch; the plan's domain limit beside them.

A thin adapter over ``gateway.admin.domains``: what it refuses (a bad hostname, one over the plan's limit, a
hostname another workspace holds) is shown on the page with its stable code and the admin layer's message.
Changes answer 303 back to the page with a fixed notice name (never the typed hostname); the domain a change
was about is the URL's fragment, so the browser scrolls to its records.
"""

from __future__ import annotations

from starlette.responses import Response

from gateway.admin import AdminError
from gateway.admin.domains import (
    DomainView,
    add_domain,
    check_domain,
    list_domains,
    remove_domain,
    set_domain_hsts,
    show_domain,
)
from gateway.admin.workspaces import load
from gateway.dashboard import charts
from gateway.dashboard.web import PREFIX, Call, admin_error, see_other
from gateway.dashboard.workspace_pages import ns_of, workspace_page

NOTICES = {
    "added": "Domain added. Create one of its DNS records below, then check it.",
    "verified": "Checked: the domain is verified. Its images are served within seconds.",
    "unverified": "Checked: the DNS records were not found yet. The reason is shown with the domain.",
    "removed": "Domain removed. Its images stop being served within seconds; no new certificate is issued for it.",
    "hsts-on": "HSTS switched on for this workspace's custom domains.",
    "hsts-off": "HSTS switched off for this workspace's custom domains.",
}


def _here(namespace: str, notice: str, hostname: str = "") -> Response:
    # The hostname is stored normalised (ASCII letters, digits, dots, hyphens): safe as a fragment as it is.
    fragment = f"#domain-{hostname}" if hostname else ""
    return see_other(f"{PREFIX}/w/{namespace}/domains?notice={notice}{fragment}")


async def domains(call: Call, *, error: Exception | None = None, hostname: str = "", status: int = 200) -> Response:
    namespace = ns_of(call)
    workspace = await load(call.ctx, namespace)
    listed = await list_domains(call.ctx, namespace)
    limit = workspace.limits().custom_domains
    return workspace_page(
        call,
        "domains.html",
        namespace,
        status,
        notice=NOTICES.get(call.request.query_params.get("notice", "")),
        error=error,
        domains=listed,
        plan=workspace.plan,
        limit=limit,
        meter=charts.meter("Custom domains", len(listed), limit) if limit else None,
        hsts=workspace.custom_domain_hsts,
        hostname=hostname,
    )


async def add(call: Call) -> Response:
    namespace = ns_of(call)
    typed = call.field("hostname")
    try:
        view = await add_domain(call.ctx, namespace, typed)
    except AdminError as exc:
        error = admin_error(exc)
        return await domains(call, error=error, hostname=typed.strip(), status=error.status)
    return _here(namespace, "added", view.hostname)


async def check(call: Call) -> Response:
    namespace = ns_of(call)
    view = await check_domain(call.ctx, namespace, call.field("hostname"))
    return _here(namespace, "verified" if view.state == "verified" else "unverified", view.hostname)


async def confirm_remove(call: Call) -> Response:
    namespace = ns_of(call)
    view: DomainView = await show_domain(call.ctx, namespace, call.request.query_params.get("hostname", ""))
    return workspace_page(call, "domain_remove.html", namespace, domain=view)


async def remove(call: Call) -> Response:
    namespace = ns_of(call)
    await remove_domain(call.ctx, namespace, call.field("hostname"))
    return _here(namespace, "removed")


async def switch_hsts(call: Call) -> Response:
    namespace = ns_of(call)
    enabled = await set_domain_hsts(call.ctx, namespace, call.field("enabled") == "on")
    return _here(namespace, "hsts-on" if enabled else "hsts-off")
