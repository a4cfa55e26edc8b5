"""Custom domains of a workspace: add (answers the DNS records to create), list, show, check now, remove; HSTS.

A domain is added ``pending`` with its verification token; it is served once a check verifies it (the check
on demand here, or the gateway's periodic re-check, ``gateway.domains.recheck``). What is refused, and why:

- a hostname that is no plain DNS name, an IP literal, the gateway's own host or CNAME target, or a bare public
  suffix (``gateway.domains.normalise``): ``Invalid`` naming ``hostname``;
- more domains than the plan's ``custom_domains`` (the free plan has none): ``Invalid`` naming the limit;
- a hostname another workspace holds verified: ``Conflict`` (the other workspace is never named). A pending
  or failed claim of another workspace blocks nobody: each claim has its own token, and the first whose DNS
  proof is found wins the name (``gateway.accounts.domains``).

A removed domain stops being served within ``tenancy_ttl`` and Caddy's ask refuses it from then on, so no new
certificate is issued for it; its record stays as history and the hostname is free for anyone to add again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from gateway.accounts.domains import REMOVED, Domain, DomainLimitReached, DomainTaken
from gateway.accounts.store import WorkspaceMissing
from gateway.admin.audit import audited
from gateway.admin.context import AdminContext
from gateway.admin.errors import Conflict, Invalid, NotFound
from gateway.admin.workspaces import load, save
from gateway.domains.normalise import InvalidDomain, normalise_domain
from gateway.domains.recheck import domain_checker
from gateway.domains.verify import challenge_name, domain_cname_target


@dataclass(frozen=True, slots=True)
class DnsRecord:
    """One record the customer creates at their DNS provider (either one verifies the domain)."""

    type: str
    name: str
    value: str

    def as_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class DomainView:
    hostname: str
    state: str
    reason: str
    token: str
    created_at: float
    checked_at: float | None
    failures: int
    records: tuple[DnsRecord, ...]

    @classmethod
    def of(cls, domain: Domain, cname_target: str) -> DomainView:
        # Both carry the claim's token: a record must say which workspace may have the name, not only that it
        # points at the gateway (the CNAME for a subdomain, the TXT record for an apex domain).
        records = [DnsRecord("TXT", challenge_name(domain.hostname), domain.token)]
        if cname_target:
            records.insert(0, DnsRecord("CNAME", domain.hostname, domain_cname_target(cname_target, domain.token)))
        return cls(
            domain.hostname,
            domain.state,
            domain.reason,
            domain.token,
            domain.created_at,
            domain.checked_at or None,
            domain.failures,
            tuple(records),
        )

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["records"] = [record.as_dict() for record in self.records]
        return data


def _view(ctx: AdminContext, domain: Domain) -> DomainView:
    return DomainView.of(domain, ctx.settings.cname_target)


def checked_hostname(ctx: AdminContext, hostname: str) -> str:
    reserved = (*ctx.settings.public_hosts, ctx.settings.cname_target)
    try:
        return normalise_domain(hostname, reserved)
    except InvalidDomain as exc:
        raise Invalid(f"hostname: {exc}", "hostname") from None


async def _held(ctx: AdminContext, namespace: str, hostname: str) -> Domain:
    await load(ctx, namespace)
    host = checked_hostname(ctx, hostname)
    domain = await ctx.call(ctx.store.domains.get, namespace, host)
    if domain is None or domain.state == REMOVED:
        raise NotFound(f"no custom domain {host} in {namespace}")
    return domain


@audited("domain.add")
async def add_domain(ctx: AdminContext, namespace: str, hostname: str) -> DomainView:
    """Bind ``hostname`` to the workspace, ``pending`` until a check verifies it."""
    workspace = await load(ctx, namespace)
    host = checked_hostname(ctx, hostname)
    limit = workspace.limits().custom_domains
    if limit == 0:
        raise Invalid(f"custom domains: the {workspace.plan} plan includes none", "custom_domains")
    try:
        domain = await ctx.call(ctx.store.domains.add, Domain(host, namespace), limit)
    except DomainTaken as exc:
        raise Conflict(str(exc)) from None
    except DomainLimitReached as exc:
        raise Invalid(f"custom domains: {exc}", "custom_domains") from None
    except WorkspaceMissing:
        raise NotFound(f"no workspace {namespace}") from None
    return _view(ctx, domain)


async def list_domains(ctx: AdminContext, namespace: str) -> list[DomainView]:
    await load(ctx, namespace)
    return [_view(ctx, domain) for domain in await ctx.call(ctx.store.domains.in_workspace, namespace)]


async def show_domain(ctx: AdminContext, namespace: str, hostname: str) -> DomainView:
    return _view(ctx, await _held(ctx, namespace, hostname))


@audited("domain.check")
async def check_domain(ctx: AdminContext, namespace: str, hostname: str) -> DomainView:
    """Check the DNS records now and store the result (a timeout or SERVFAIL is a reason, never an error)."""
    domain = await _held(ctx, namespace, hostname)
    checked = await domain_checker(ctx.settings, ctx.store.domains).check(domain)
    return _view(ctx, checked)


@audited("domain.remove")
async def remove_domain(ctx: AdminContext, namespace: str, hostname: str) -> DomainView:
    domain = await _held(ctx, namespace, hostname)
    removed = await ctx.call(ctx.store.domains.remove, namespace, domain.hostname)
    if removed is None:
        raise NotFound(f"no custom domain {domain.hostname} in {namespace}")
    return _view(ctx, removed)


@audited("domain.hsts")
async def set_domain_hsts(ctx: AdminContext, namespace: str, enabled: bool) -> bool:
    """Whether the workspace's custom domains answer with Strict-Transport-Security over HTTPS."""
    workspace = await load(ctx, namespace)
    if workspace.custom_domain_hsts != enabled:
        workspace = await save(ctx, dataclasses.replace(workspace, custom_domain_hsts=enabled))
    return workspace.custom_domain_hsts
