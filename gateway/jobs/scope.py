"""``CaptureScope``: which request URLs a capture job's extra headers and basic credentials may go to, the
``NetworkAuth.admits`` the jobs layer hands the capture (gateway/capture/interception.py asks it per request).

A URL is admitted when it passes the gateway's URL parser, is https (or http, when the job's own page is http
and the gateway and workspace allowed that), and an enabled capture domain of the workspace matches it: as the
workspace was at submit (sealed with the job) and, once the worker has read it again (``as_of``), as it is
now. So a domain switched off or removed while the job waited gets nothing, and one added meanwhile gets
nothing either: its owner had not allowed it when the job was submitted. Lists that no longer compile admit
nothing. Plain http (``plain_http``: the job's own page is http) is kept as sealed and not narrowed here: the
worker refuses an http job whose allowance (``http_allowed``) was withdrawn while it waited before any scope
is used, so there is nothing left to narrow.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from gateway.accounts.models import Workspace
from gateway.policy.captures import capture_enabled
from gateway.policy.hosts import InvalidPattern
from gateway.policy.urls import InvalidSourceURL, SourceURL, parse_source_url
from gateway.policy.workspace import WorkspacePolicy

# Compiled capture-domain lists, per list: a job's two lists are asked for every request its page makes.
_COMPILED_KEPT = 256


def http_allowed(gateway_allows: bool, workspace: Workspace) -> bool:
    """Whether the workspace's capture jobs may use plain http now: its own setting, within the gateway's
    ``capture_jobs_allow_http`` (the operator's ceiling). Asked at submit, when the job runs and before each
    webhook attempt."""
    return gateway_allows and workspace.capture_jobs_allow_http


def needs_http_allowance(url: str) -> bool:
    """Whether ``url`` (a job's page or webhook) may be used only while ``http_allowed``: any scheme but https,
    so that one nobody expected is refused rather than let through."""
    return urlsplit(url).scheme.lower() != "https"


@dataclass(frozen=True, slots=True)
class CaptureScope:
    # The workspace's capture domains and those switched off, as at submit.
    allowed: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()
    # Whether plain http may carry them: the job's page is http (which only an allowance lets through).
    plain_http: bool = False
    # The same two lists as the worker read them before the run; None until then.
    live: tuple[tuple[str, ...], tuple[str, ...]] | None = None

    def as_of(self, allowed: tuple[str, ...], disabled: tuple[str, ...]) -> CaptureScope:
        """This scope, narrowed to what the workspace's capture domains allow now as well."""
        return replace(self, live=(tuple(allowed), tuple(disabled)))

    def __call__(self, url: str) -> bool:
        try:
            parsed = parse_source_url(url.split("#", 1)[0])
        except InvalidSourceURL:
            return False
        if parsed.scheme != "https" and not (self.plain_http and parsed.scheme == "http"):
            return False
        lists = [(self.allowed, self.disabled)] if self.live is None else [(self.allowed, self.disabled), self.live]
        return all(_admitted(allowed, disabled, parsed) for allowed, disabled in lists)


def _admitted(allowed: tuple[str, ...], disabled: tuple[str, ...], url: SourceURL) -> bool:
    try:
        return _capture_domains(allowed).capture_allowed(url) and capture_enabled(allowed, disabled, url)
    except InvalidPattern:
        return False


@functools.lru_cache(maxsize=_COMPILED_KEPT)
def _capture_domains(allowed: tuple[str, ...]) -> WorkspacePolicy:
    return WorkspacePolicy.compile((), (), allowed)
