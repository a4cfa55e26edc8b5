"""Workspace gates: which origins may read a workspace's images, and which external URLs it may fetch.

There are no keys in image URLs, so these allowlists are a workspace's whole authorization model.

    hosts.py      normalise_host, HostPattern: host names and host patterns, shared by the others
    urls.py       parse_source_url -> SourceURL: the one parser of external URLs (src, capture, origin base
                  URLs); its normal form is what is matched, fetched and cached
    sources.py    SourcePattern, SourceAllowlist: allowed external sources for ?src=, and capture domains
    origins.py    parse_origin, OriginAllowlist: CORS allowed origins
    captures.py   capture_enabled, find_capture_domain: capture domains switched on and off
    workspace.py  WorkspacePolicy: the three lists compiled together, held by the tenancy cache

How the gateway answers (see also gateway/web/cors.py):

    InvalidSourceURL         400 VALIDATION_ERROR    malformed or ambiguous (userinfo, backslash, %2e, ...)
    not source_allowed       403 SOURCE_NOT_ALLOWED  well-formed, but no pattern names it
    not capture_allowed      403 DOMAIN_NOT_ALLOWED
    not capture_enabled      403 CAPTURE_DOMAIN_DISABLED  only when a new capture would be taken
    not origin_allowed       403 ORIGIN_NOT_ALLOWED  only for requests that carry an Origin header
    InvalidPattern           refused when a workspace's settings are saved (CLI, dashboard, API)
"""

from __future__ import annotations

from gateway.policy.captures import capture_enabled, find_capture_domain
from gateway.policy.hosts import HostPattern, InvalidHost, InvalidPattern, normalise_host
from gateway.policy.origins import InvalidOrigin, Origin, OriginAllowlist, parse_origin
from gateway.policy.sources import SourceAllowlist, SourcePattern
from gateway.policy.urls import InvalidSourceURL, SourceURL, parse_source_url
from gateway.policy.workspace import WorkspacePolicy

__all__ = [
    "HostPattern",
    "InvalidHost",
    "InvalidOrigin",
    "InvalidPattern",
    "InvalidSourceURL",
    "Origin",
    "OriginAllowlist",
    "SourceAllowlist",
    "SourcePattern",
    "SourceURL",
    "WorkspacePolicy",
    "capture_enabled",
    "find_capture_domain",
    "normalise_host",
    "parse_origin",
    "parse_source_url",
]
