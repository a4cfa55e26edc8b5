"""``WorkspacePolicy``: a workspace's three allowlists, compiled once per workspace version.

It is immutable and hashable, so the tenancy cache can hold it beside the workspace and every request
reuses it; compiling is where a bad pattern is caught (``InvalidPattern``, a ``ValueError`` naming the list
and the pattern, for the CLI and the dashboard to show). Matching never raises.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gateway.policy.hosts import InvalidPattern
from gateway.policy.origins import OriginAllowlist
from gateway.policy.sources import SourceAllowlist
from gateway.policy.urls import SourceURL


@dataclass(frozen=True, slots=True)
class WorkspacePolicy:
    origins: OriginAllowlist
    sources: SourceAllowlist
    # The source matcher again, as a third list: hosts and *.domains, and a port or scheme where the owner
    # names one (a staging site on :8443); an empty list allows nothing.
    capture_domains: SourceAllowlist

    @classmethod
    def compile(
        cls,
        allowed_origins: Iterable[str],
        allowed_sources: Iterable[str],
        allowed_capture_domains: Iterable[str],
    ) -> WorkspacePolicy:
        try:
            origins = OriginAllowlist.compile(allowed_origins)
        except InvalidPattern as exc:
            raise InvalidPattern(exc.pattern, f"allowed origins: {exc.reason}") from exc
        try:
            sources = SourceAllowlist.compile(allowed_sources)
        except InvalidPattern as exc:
            raise InvalidPattern(exc.pattern, f"allowed sources: {exc.reason}") from exc
        try:
            capture_domains = SourceAllowlist.compile(allowed_capture_domains)
        except InvalidPattern as exc:
            raise InvalidPattern(exc.pattern, f"allowed capture domains: {exc.reason}") from exc
        return cls(origins=origins, sources=sources, capture_domains=capture_domains)

    @property
    def any_origin(self) -> bool:
        """True when every origin is allowed, so CORS answers do not depend on the ``Origin`` header."""
        return self.origins.any_origin

    def origin_allowed(self, origin: str) -> bool:
        """``origin`` is the raw ``Origin`` header; ``null`` and unparsable values pass only under ``*``."""
        return self.origins.allows(origin)

    def source_allowed(self, url: SourceURL) -> bool:
        return self.sources.allows(url)

    def capture_allowed(self, url: SourceURL) -> bool:
        """Without a port in the pattern, only the scheme's default port is allowed (as for sources)."""
        return self.capture_domains.allows(url)
