"""Custom domains: add (the answer lists the DNS records to create), list, show, check now, remove; HSTS.

A domain is served at ``https://{hostname}/{key}`` once it is verified; until then requests to it are 404 and
Caddy's on-demand TLS is refused a certificate for it. The models are here rather than in ``models.py``: no
other route shows a domain.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gateway.admin.domains import (
    DomainView,
    add_domain,
    check_domain,
    list_domains,
    remove_domain,
    set_domain_hsts,
    show_domain,
)
from gateway.routes.api.endpoint import ApiCall, Endpoint
from gateway.routes.api.models import RequestBody, ResponseBody
from gateway.routes.api.workspaces import WORKSPACE

DOMAINS = f"{WORKSPACE}/domains"
_TAG = "domains"


class DomainCreate(RequestBody):
    hostname: str = Field(min_length=1, max_length=300, description="e.g. img.customer.com (IDNA names as typed)")


class DnsRecordOut(ResponseBody):
    type: Literal["CNAME", "TXT"]
    name: str
    value: str


class DomainOut(ResponseBody):
    hostname: str = Field(description="Normalised: lower case, no trailing dot, internationalised labels in ASCII.")
    state: Literal["pending", "verified", "failed", "removed"] = Field(
        description="Only a verified domain is served; failed after repeated re-checks found the records wrong."
    )
    reason: str = Field(description="Why the last check did not verify, in words for people; empty once it did.")
    token: str = Field(description="What the TXT record holds, for domains that cannot have a CNAME (apex).")
    created_at: float
    checked_at: float | None
    failures: int = Field(description="Checks in a row that found the records wrong.")
    records: list[DnsRecordOut] = Field(description="Create either record at your DNS provider.")


class DomainList(ResponseBody):
    domains: list[DomainOut]


class DomainSettings(RequestBody):
    hsts: bool = Field(description="Answer with Strict-Transport-Security on the custom domains (HTTPS only).")


class DomainSettingsOut(ResponseBody):
    hsts: bool


def domain_out(view: DomainView) -> DomainOut:
    return DomainOut.model_validate(view.as_dict())


async def list_custom_domains(call: ApiCall) -> DomainList:
    return DomainList(domains=[domain_out(view) for view in await list_domains(call.ctx, call.namespace)])


async def add_custom_domain(call: ApiCall) -> DomainOut:
    return domain_out(await add_domain(call.ctx, call.namespace, call.body(DomainCreate).hostname))


async def show_custom_domain(call: ApiCall) -> DomainOut:
    return domain_out(await show_domain(call.ctx, call.namespace, call.params["hostname"]))


async def check_custom_domain(call: ApiCall) -> DomainOut:
    return domain_out(await check_domain(call.ctx, call.namespace, call.params["hostname"]))


async def remove_custom_domain(call: ApiCall) -> DomainOut:
    return domain_out(await remove_domain(call.ctx, call.namespace, call.params["hostname"]))


async def set_custom_domain_settings(call: ApiCall) -> DomainSettingsOut:
    return DomainSettingsOut(hsts=await set_domain_hsts(call.ctx, call.namespace, call.body(DomainSettings).hsts))


_ONE = f"{DOMAINS}/{{hostname}}"
_NO_SUCH = {404: "The workspace holds no such domain (or it was removed)."}

ENDPOINTS = (
    Endpoint("GET", DOMAINS, "List the workspace's custom domains", list_custom_domains, _TAG, response=DomainList),
    Endpoint(
        "POST",
        DOMAINS,
        "Add a custom domain; the answer lists the DNS records to create",
        add_custom_domain,
        _TAG,
        scope="write",
        body=DomainCreate,
        response=DomainOut,
        status=201,
        description="The domain is pending until a check verifies it: a CNAME to the gateway's target, or the "
        "TXT record _imgate-challenge.{hostname} holding the token. The gateway re-checks pending domains by "
        "itself; POST …/check checks at once.",
        errors={409: "Another workspace holds that hostname."},
    ),
    Endpoint(
        "PUT",
        f"{DOMAINS}/settings",
        "Whether custom domains answer with Strict-Transport-Security",
        set_custom_domain_settings,
        _TAG,
        scope="write",
        body=DomainSettings,
        response=DomainSettingsOut,
        description="Off by default: HSTS binds the hostname to HTTPS in browsers for two years.",
    ),
    Endpoint("GET", _ONE, "One custom domain", show_custom_domain, _TAG, response=DomainOut, errors=_NO_SUCH),
    Endpoint(
        "POST",
        f"{_ONE}/check",
        "Check a custom domain's DNS records now",
        check_custom_domain,
        _TAG,
        scope="write",
        response=DomainOut,
        description="A DNS timeout or SERVFAIL is no error: the domain keeps its state and the reason says so.",
        errors=_NO_SUCH,
    ),
    Endpoint(
        "DELETE",
        _ONE,
        "Remove a custom domain",
        remove_custom_domain,
        _TAG,
        scope="write",
        response=DomainOut,
        description="It stops being served, and gets no new certificate, within the gateway's tenancy TTL.",
        errors=_NO_SUCH,
    ),
)
