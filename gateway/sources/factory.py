"""Workspace origin settings -> a live ``Source``. The only place that knows every kind of origin."""

from __future__ import annotations

import logging
from pathlib import Path

from gateway.accounts.models import Workspace
from gateway.accounts.secrets import SecretBox
from gateway.errors import GatewayError, OriginError
from gateway.netguard import NetGuard
from gateway.settings import Settings
from gateway.sources.base import FetchLimits, Original, Source

log = logging.getLogger("imgate.sources")


class MisconfiguredSource:
    """Stands in for an origin whose stored settings cannot be used: every fetch is a safe 502."""

    def __init__(self, namespace: str, reason: str) -> None:
        self._namespace = namespace
        self._reason = reason

    def identity(self, key: str) -> str:
        return f"misconfigured:{self._namespace}:{key}"

    async def fetch(self, key: str) -> Original:
        raise OriginError(f"the workspace's origin is misconfigured: {self._reason}")

    async def aclose(self) -> None:
        return None


class SourceFactory:
    def __init__(self, settings: Settings, guard: NetGuard, secrets: SecretBox) -> None:
        self._settings = settings
        self._guard = guard
        self._secrets = secrets
        self.limits = FetchLimits(
            max_bytes=settings.max_source_bytes,
            connect_timeout=settings.origin_connect_timeout,
            total_timeout=settings.origin_timeout,
        )

    def build(self, workspace: Workspace) -> Source | None:
        try:
            return self._build(workspace)
        except (KeyError, ValueError, GatewayError) as exc:
            # Never the exception's text, in the answer or the log: it may quote a setting's value (a URL with
            # credentials), so the log gives only the exception's type.
            log.error("workspace %s: unusable origin settings: %s", workspace.namespace, type(exc).__name__)
            return MisconfiguredSource(workspace.namespace, "check it with `imgate workspace check`")

    def _build(self, workspace: Workspace) -> Source | None:
        kind, origin = workspace.origin_kind, workspace.origin
        if kind == "local":
            from gateway.sources.local import LocalSource

            return LocalSource(Path(origin["root"]), self.limits)
        if kind == "http":
            from gateway.sources.http import HttpSource

            return HttpSource(origin["base_url"], self.limits, self._guard)
        if kind == "s3":
            from gateway.sources.s3 import S3OriginSettings, S3Source

            secret = self._secrets.open(workspace.origin_secret_sealed) if workspace.origin_secret_sealed else None
            s3 = S3OriginSettings.from_origin(origin, secret)
            if s3.access_key_id is None and not self._settings.s3_default_credentials:
                return MisconfiguredSource(workspace.namespace, "the bucket origin has no credentials")
            return S3Source(s3, self.limits, self._guard)
        return None
