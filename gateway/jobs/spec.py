"""What a capture job asks for: ``JobSpec`` (kept as JSON on the job) and ``JobAuth`` (sealed, never shown).

``JobSpec`` holds no secret: it is what the job document may show. ``JobAuth`` is the job's ``auth`` (cookies,
localStorage, and a ``NetworkAuth``: extra headers and basic credentials with the ``CaptureScope`` they may go
to), sealed with the gateway key into the job's ``auth_sealed`` at submit and opened only by the worker that
runs it; the store deletes the sealed text when the job ends. Jobs sealed before the network value was one
object (its parts at the top level) open the same.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from gateway.accounts.secrets import SecretBox
from gateway.capture import CaptureOptions, parse_capture_options
from gateway.capture.inject import PageSetup
from gateway.capture.interception import NetworkAuth
from gateway.errors import Internal
from gateway.jobs.blocking import blocking_rules
from gateway.jobs.scope import CaptureScope
from gateway.settings import CaptureSettings

IMAGE_FORMATS = ("png", "jpeg", "webp", "avif")
FORMATS = (*IMAGE_FORMATS, "pdf")
# The output format as the URL API's ``fm`` names it.
FM = {"png": "png", "jpeg": "jpg", "webp": "webp", "avif": "avif"}
CONTENT_TYPES = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "avif": "image/avif",
    "pdf": "application/pdf",
}


@dataclass(frozen=True, slots=True)
class JobSpec:
    url: str
    format: str
    # Capture options as ``CaptureOptions.pairs()``, and the URL API's transform parameters (``fm`` included).
    capture: tuple[tuple[str, str], ...]
    transform: tuple[tuple[str, str], ...]
    retention: int
    webhook_url: str | None = None
    # A stylesheet added to the page before the capture.
    css: str = ""
    block_ads: bool = False
    block_cookie_banners: bool = False
    # wait "networkidle": the capture waits for the page's network-idle mark (gateway.capture.inject).
    network_idle: bool = False
    # actions: (kind, selector, text) steps run in the page before the capture (gateway.capture.inject).
    actions: tuple[tuple[str, str, str], ...] = ()

    @property
    def pdf(self) -> bool:
        return self.format == "pdf"

    def options(self, settings: CaptureSettings) -> CaptureOptions:
        return parse_capture_options(self.capture, settings)

    def to_json(self) -> str:
        return json.dumps(
            {
                "url": self.url,
                "format": self.format,
                "capture": [list(pair) for pair in self.capture],
                "transform": [list(pair) for pair in self.transform],
                "retention": self.retention,
                "webhook_url": self.webhook_url,
                "css": self.css,
                "block_ads": self.block_ads,
                "block_cookie_banners": self.block_cookie_banners,
                "network_idle": self.network_idle,
                "actions": [list(step) for step in self.actions],
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> JobSpec:
        data = json.loads(text)
        return cls(
            url=data["url"],
            format=data["format"],
            capture=tuple((str(n), str(v)) for n, v in data["capture"]),
            transform=tuple((str(n), str(v)) for n, v in data["transform"]),
            retention=int(data["retention"]),
            webhook_url=data.get("webhook_url"),
            css=str(data.get("css", "")),
            block_ads=bool(data.get("block_ads", False)),
            block_cookie_banners=bool(data.get("block_cookie_banners", False)),
            network_idle=bool(data.get("network_idle", False)),
            actions=tuple((str(k), str(s), str(t)) for k, s, t in data.get("actions", [])),
        )


@dataclass(frozen=True, slots=True)
class JobAuth:
    # DevTools Network.CookieParam objects, already checked against the workspace's capture domains.
    cookies: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)
    local_storage: Mapping[str, str] = field(default_factory=dict, repr=False)
    # Extra request headers and basic credentials; ``admits`` is always a ``CaptureScope`` here.
    network: NetworkAuth = field(default_factory=NetworkAuth, repr=False)

    def __bool__(self) -> bool:
        return bool(self.cookies or self.local_storage or self.network)

    def __repr__(self) -> str:
        return "JobAuth(<hidden>)"

    @property
    def scope(self) -> CaptureScope:
        admits = self.network.admits
        return admits if isinstance(admits, CaptureScope) else CaptureScope()

    def as_of(self, allowed: tuple[str, ...], disabled: tuple[str, ...]) -> JobAuth:
        """The same auth, its headers and credentials narrowed to the workspace's capture domains as they are now."""
        if not self.network:
            return self
        return replace(self, network=replace(self.network, admits=self.scope.as_of(allowed, disabled)))

    def seal(self, secrets: SecretBox) -> str:
        network, scope = self.network, self.scope
        if network and not isinstance(network.admits, CaptureScope):
            raise TypeError("a job's headers and credentials are sealed with a CaptureScope only")
        plain = json.dumps(
            {
                "cookies": [dict(c) for c in self.cookies],
                "local_storage": dict(self.local_storage),
                "network": {
                    "headers": [list(pair) for pair in network.headers],
                    "basic": list(network.basic) if network.basic is not None else None,
                    "allowed": list(scope.allowed),
                    "disabled": list(scope.disabled),
                    "plain_http": scope.plain_http,
                },
            }
        )
        return secrets.seal(plain)

    @classmethod
    def open(cls, secrets: SecretBox, sealed: str) -> JobAuth:
        """``Internal`` (the job fails, nothing of it logged) when the opened text is not an auth this reads."""
        plain = secrets.open(sealed)
        try:
            data = json.loads(plain)
            return cls(tuple(data["cookies"]), dict(data["local_storage"]), _network(data))
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            raise Internal("a capture job's sealed auth could not be read") from None

    def page_setup(self, url: str, spec: JobSpec) -> PageSetup:
        parts = urlsplit(url)
        default = 443 if parts.scheme == "https" else 80
        port = f":{parts.port}" if parts.port and parts.port != default else ""
        blocked, hiding = blocking_rules(spec.block_ads, spec.block_cookie_banners)
        css = "\n".join(text for text in (hiding, spec.css) if text)
        origin = f"{parts.scheme}://{parts.hostname}{port}"
        return PageSetup(
            self.cookies, self.local_storage, origin, css, blocked, spec.network_idle, spec.actions, self.network
        )


def _network(data: Mapping[str, Any]) -> NetworkAuth:
    # Sealed before the network value was one object: its parts at the top level, under their old names.
    old = "network" not in data
    network: Mapping[str, Any] = data if old else data["network"]
    basic = network.get("basic")
    scope = CaptureScope(
        tuple(str(text) for text in network.get("allowed_domains" if old else "allowed", [])),
        tuple(str(text) for text in network.get("disabled_domains" if old else "disabled", [])),
        bool(network.get("plain_http", False)),
    )
    return NetworkAuth(
        tuple((str(name), str(value)) for name, value in network.get("headers", [])),
        (str(basic[0]), str(basic[1])) if basic else None,
        scope,
    )
