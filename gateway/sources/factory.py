"""Workspace origin settings -> a live ``Source``. The only place that knows every kind of origin."""

from __future__ import annotations

from pathlib import Path

from gateway.accounts.models import Workspace
from gateway.netguard import NetGuard
from gateway.settings import Settings
from gateway.sources.base import FetchLimits, Source


class SourceFactory:
    def __init__(self, settings: Settings, guard: NetGuard, unseal: object | None = None) -> None:
        self._settings = settings
        self._guard = guard
        self._unseal = unseal
        self.limits = FetchLimits(
            max_bytes=settings.max_source_bytes,
            connect_timeout=settings.origin_connect_timeout,
            total_timeout=settings.origin_timeout,
        )

    def build(self, workspace: Workspace) -> Source | None:
        kind, origin = workspace.origin_kind, workspace.origin
        if kind == "local":
            from gateway.sources.local import LocalSource

            return LocalSource(Path(origin["root"]), self.limits)
        if kind == "http":
            from gateway.sources.http import HttpSource

            return HttpSource(origin["base_url"], self.limits, self._guard)
        return None
