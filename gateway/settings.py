"""Typed settings: ``config/gateway.toml`` (every setting, documented, with its default), then ``IMGATE_*``.

Precedence, lowest first: the defaults below, the TOML file (``IMGATE_CONFIG`` names another one), then one
environment variable per setting: ``IMGATE_`` + the upper-cased name, and for a setting of a section
(``[capture]`` in the file, ``Settings.capture`` here) ``IMGATE_<SECTION>_<NAME>``, so ``[capture] pool_size``
is ``IMGATE_CAPTURE_POOL_SIZE``. An unknown key in the file, an ``IMGATE_*`` variable that names no setting
(other than the few in ``OTHER_VARIABLES``), or a value of the wrong type or range stops start-up with a
message naming the setting, so a typo never becomes a silent default.

``deny_networks`` and ``deny_hosts`` are the only settings a running gateway picks up without a restart:
``gateway.netguard`` re-reads them from ``Settings.config_file`` when it changes (see ``DenyList`` there).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gateway.policy.hosts import InvalidHost, is_ip_literal, normalise_host

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "config" / "gateway.toml"

ENV_PREFIX = "IMGATE_"
CONFIG_VARIABLE = "IMGATE_CONFIG"
ORIGIN_SECRET_VARIABLE = "IMGATE_ORIGIN_SECRET_ACCESS_KEY"  # noqa: S105 - the variable's name, not a secret
CAPTURE_TAG_VARIABLE = "IMGATE_CAPTURE_TAG"
# An existing URL signing secret (an imgix token) for `imgate signing rotate --import`, instead of a prompt.
SIGNING_SECRET_VARIABLE = "IMGATE_SIGNING_SECRET"  # noqa: S105 - the variable's name, not a secret
# Every IMGATE_* variable that is not a setting. Any other IMGATE_* name is refused like an unknown key.
OTHER_VARIABLES: Mapping[str, str] = {
    CONFIG_VARIABLE: "the settings file to read instead of config/gateway.toml",
    ORIGIN_SECRET_VARIABLE: "the bucket secret `imgate workspace create/update` seals, instead of a prompt",
    CAPTURE_TAG_VARIABLE: "marks the processes of one capture browser (gateway/capture/procs.py)",
    SIGNING_SECRET_VARIABLE: "the URL signing secret `imgate signing rotate --import` seals, instead of a prompt",
}


class SettingsError(ValueError):
    pass


def _positive(name: str, value: float) -> None:
    if value <= 0:
        raise SettingsError(f"setting {name!r} must be greater than 0, got {value!r}")


def _networks(name: str, texts: tuple[str, ...]) -> None:
    for text in texts:
        try:
            ipaddress.ip_network(text, strict=True)
        except ValueError as exc:
            raise SettingsError(f"setting {name!r}: {text!r} is not a CIDR network (address/prefix)") from exc


def deny_host_pattern(text: str) -> str:
    """The comparable form of one ``deny_hosts`` entry: an exact host, or ``*.domain`` for every subdomain.

    Unlike the allowlists, a wildcard may cover a single label (``*.internal``): refusing a whole private
    suffix is exactly what a deny list is for. Addresses belong in ``deny_networks``.
    """
    pattern = text.strip()
    wildcard = pattern.startswith("*.")
    base = pattern[2:] if wildcard else pattern
    if _is_address(base):
        raise SettingsError(f"setting 'deny_hosts': {text!r} is an address; list it in 'deny_networks'")
    try:
        if "*" in base:
            raise InvalidHost("'*' only as the first label")
        host = normalise_host(base)
    except InvalidHost as exc:
        raise SettingsError(
            f"setting 'deny_hosts': {text!r} is not a host name or a '*.domain' pattern ({exc})"
        ) from exc
    if is_ip_literal(host):
        raise SettingsError(f"setting 'deny_hosts': {text!r} is an address; list it in 'deny_networks'")
    return f"*.{host}" if wildcard else host


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


_NOT_A_SETTING = "imgate.not_a_setting"


@dataclass(frozen=True, slots=True)
class CaptureSettings:
    """The ``[capture]`` section: screenshots of web pages (gateway/capture/). Per worker process."""

    enabled: bool = True
    # Browsers kept running. Each serves one capture at a time; more browsers than ``max_concurrency``
    # are spares that take over at once while a crashed or recycled one restarts (~0.7 s).
    pool_size: int = 1
    max_concurrency: int = 1
    # Captures allowed to wait for a browser; one more is answered 503 OVERLOADED with Retry-After.
    max_queue: int = 8
    # Hard limit of one capture (navigation, waiting, screenshot), seconds. A queued capture waits at
    # most this long for a browser too, then gets OVERLOADED.
    timeout: float = 20.0
    max_full_height: int = 10_000
    max_delay_ms: int = 5_000
    # A browser is replaced after this many captures: a safety net against slow leaks in Chromium
    # itself, since every capture's state is already discarded with its browser context.
    recycle_after: int = 500
    launch_timeout: float = 30.0
    # A remote W3C WebDriver endpoint (a Selenium Grid hub ``http://grid:4444``, or a ChromeDriver serving
    # remotely) instead of a local ChromeDriver (gateway/capture/remote.py). May carry basic-auth credentials.
    grid_url: str = field(default="", repr=False)
    # Empty: found on PATH (``chromium``, then ``chromium-browser``, ``google-chrome``; ``chromedriver``).
    chromium_path: str = ""
    chromedriver_path: str = ""
    # The egress proxy every browser request goes through. With a grid, listen on an address the
    # nodes reach, name it in ``proxy_public_host`` and list the nodes' networks in ``proxy_clients``.
    proxy_listen_host: str = "127.0.0.1"
    proxy_public_host: str = ""
    proxy_port: int = 0
    proxy_clients: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    proxy_connect_timeout: float = 5.0
    proxy_idle_timeout: float = 30.0
    # Non-public networks the pages' own requests may reach, used by the egress proxy INSTEAD of the top-level
    # ``trusted_networks`` (development and tests only). The capture machinery (every worker's ChromeDriver,
    # DevTools and proxy ports, the gateway's own port) stays refused whatever this says.
    trusted_networks: tuple[str, ...] = ()
    # Workspaces whose plan has ``dedicated_browsers`` capture in pools of their own (gateway/capture/dedicated.py):
    # at most this many such pools run in one worker process; beyond it the least recently used idle one is
    # closed, and when every one is busy the capture is 503 OVERLOADED (never the shared pool).
    dedicated_pools: int = 4
    # Browsers of all those pools together in one worker process (~450 MB each); a plan asking for more than
    # this gets this many here.
    dedicated_browsers_max: int = 4
    # A capture job (not a ``?capture=`` URL) waits up to this many seconds for room when every dedicated pool
    # is busy, holding its job worker meanwhile, before it fails OVERLOADED.
    dedicated_job_wait: float = 60.0
    # A dedicated pool without a capture for this long (seconds) is closed; the next capture starts it again.
    dedicated_idle_timeout: float = 300.0

    def __post_init__(self) -> None:
        for name in (
            "pool_size",
            "max_concurrency",
            "dedicated_pools",
            "dedicated_browsers_max",
            "dedicated_idle_timeout",
            "timeout",
            "max_full_height",
            "recycle_after",
            "launch_timeout",
            "proxy_connect_timeout",
            "proxy_idle_timeout",
        ):
            _positive(f"capture.{name}", getattr(self, name))
        for name in ("max_queue", "max_delay_ms", "dedicated_job_wait"):
            if getattr(self, name) < 0:
                raise SettingsError(f"setting 'capture.{name}' must be 0 or more")
        if self.max_concurrency > self.pool_size:
            raise SettingsError(
                "setting 'capture.max_concurrency' cannot exceed 'capture.pool_size' (one capture per browser)"
            )
        if not 0 <= self.proxy_port <= 65535:
            raise SettingsError("setting 'capture.proxy_port' must be 0 (any free port) to 65535")
        _networks("capture.proxy_clients", self.proxy_clients)
        _networks("capture.trusted_networks", self.trusted_networks)
        if not self.proxy_listen_host:
            raise SettingsError("setting 'capture.proxy_listen_host' must be an address or a host name")
        if self.grid_url:
            _check_grid_url(self.grid_url, self.trusted_networks)
        if self.proxy_public_host:
            _check_public_host(self.proxy_public_host)
        elif _is_wildcard(self.proxy_listen_host):
            # Browsers would be told to use 0.0.0.0 or ::, which is no address of this machine to reach.
            raise SettingsError(
                "setting 'capture.proxy_public_host' is required when 'capture.proxy_listen_host' is "
                "a wildcard address: name the address the browsers reach the proxy at"
            )

    @property
    def proxy_host_for_browsers(self) -> str:
        """The host a browser (local, or on a grid node) uses to reach the egress proxy."""
        return self.proxy_public_host or self.proxy_listen_host


def _is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def _check_grid_url(url: str, trusted: tuple[str, ...]) -> None:
    # The value is never echoed: it may hold the grid's credentials.
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise SettingsError("setting 'capture.grid_url' must be an http or https URL of a WebDriver endpoint")
    # A page that reached the grid could drive its browsers. On this machine the machinery registry refuses
    # its port whatever is trusted; elsewhere only the egress rules do, so the pages must not be trusted with it.
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return
    if not address.is_loopback and any(address in ipaddress.ip_network(network) for network in trusted):
        raise SettingsError(
            "setting 'capture.trusted_networks' must not contain the address of 'capture.grid_url': "
            "captured pages could drive its browsers"
        )


def _check_public_host(host: str) -> None:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    if address is not None:
        if address.is_unspecified:
            raise SettingsError("setting 'capture.proxy_public_host' must be an address browsers can connect to")
        return
    try:
        normalise_host(host)
    except InvalidHost as exc:
        raise SettingsError("setting 'capture.proxy_public_host' must be a host name or an IP address") from exc


@dataclass(frozen=True, slots=True)
class Settings:
    # server
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 0
    public_url: str = ""
    # storage of the gateway's own state
    data_dir: str = "var"
    account_store: str = "sqlite"
    database: str = ""
    # The PostgreSQL account store (account_store = "postgres"): its DSN, and connections per process.
    database_url: str = field(default="", repr=False)
    database_pool_size: int = 4
    # The DynamoDB account store (account_store = "dynamodb"): table, region, endpoint of a DynamoDB-compatible
    # engine (empty = AWS's own), and whether the gateway creates the table when it is missing.
    dynamodb_table: str = "imgate-accounts"
    dynamodb_region: str = ""
    dynamodb_endpoint: str = ""
    dynamodb_create_table: bool = True
    secret_key: str = ""
    # tenancy
    tenancy_ttl: float = 5.0
    # Days audit rows are kept; older ones are pruned.
    audit_retention_days: int = 90
    # network
    trusted_networks: tuple[str, ...] = ()
    # Refused on top of the built-in rules, on every outbound path (origins, src=, bucket endpoints, the capture
    # egress proxy), even inside trusted_networks; re-read from the settings file while running.
    deny_networks: tuple[str, ...] = ()
    deny_hosts: tuple[str, ...] = ()
    origin_connect_timeout: float = 3.0
    origin_timeout: float = 15.0
    max_source_bytes: int = 50 * 1024 * 1024
    s3_default_credentials: bool = False
    # imaging
    max_source_pixels: int = 60_000_000
    max_output_side: int = 8192
    vips_concurrency: int = 1
    transform_threads: int = 2
    # JPEG scale-on-load: "fast" decodes at the full DCT factor the reduction reaches (as thumbor and imgproxy do;
    # same SSIM as thumbor's output), "fine" leaves the reduce kernel at least 2x (libvips' thumbnail; slower).
    scale_on_load: str = "fast"
    # Who decodes those scaled JPEGs: "turbo" (libjpeg-turbo directly: the same pixels, less CPU) or "libvips".
    jpeg_decoder: str = "turbo"
    # Misses of one original at once (a srcset) share one decode, up to this many MiB per decode; 0 = off.
    burst_decode_mb: int = 16
    transform_queue: int = 64
    # Seconds one transform may run before it is stopped (503 RENDER_TIMEOUT, nothing cached), and that one may
    # wait for a transform thread: a request that would wait longer is refused (503 OVERLOADED + Retry-After).
    transform_timeout: float = 10.0
    queue_timeout: float = 2.0
    # The slow encoders' output caps in pixels, frames summed (413 SOURCE_TOO_LARGE naming the cap).
    max_gif_pixels: int = 12_000_000
    max_gif_frame_pixels: int = 2_000_000
    max_avif_pixels: int = 4_194_304
    # auto=format answers AVIF only up to this many output pixels, and WebP above (AVIF encodes ~6x slower).
    max_auto_avif_pixels: int = 1_048_576
    max_lossless_pixels: int = 2_500_000
    max_animation_pixels: int = 40_000_000
    # caches
    memory_cache_mb: int = 256
    originals_cache_mb: int = 128
    originals_cache_ttl: float = 300.0
    result_store: str = "disk"
    result_store_dir: str = ""
    result_store_max_mb: int = 10240
    result_s3_bucket: str = ""
    result_s3_prefix: str = "imgate/"
    result_s3_endpoint: str = ""
    result_s3_region: str = "us-east-1"
    result_s3_access_key_id: str = ""
    result_s3_secret_access_key: str = field(default="", repr=False)
    result_s3_timeout: float = 0.5
    # management API (/_/api/v1) and billing webhook
    # Networks of reverse proxies whose forwarding headers are believed: X-Forwarded-For for the client address (the
    # API's IP allowlists, /_/metrics access, the dashboard's secure cookies, the sign-in code limit per client), and
    # X-Forwarded-Host and X-Forwarded-Proto for the Host and scheme (custom domains, HSTS), each read from the right.
    trusted_proxies: tuple[str, ...] = ()
    # Largest request body of the management API, in bytes (a mark image is uploaded as base64 in one).
    api_max_body_bytes: int = 4 * 1024 * 1024
    # Stripe's signing secret of the billing webhook (whsec_...); empty = POST /_/billing/stripe answers 404.
    stripe_webhook_secret: str = field(default="", repr=False)
    # dashboard (/_/dashboard/): how sign-in codes are mailed ("console" logs them; "smtp" sends them), and the cap on
    # codes one client address may ask for per 15 minutes. The SMTP password is best set as IMGATE_SMTP_PASSWORD.
    mailer: str = "console"
    mail_from: str = "imgate <no-reply@localhost>"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_timeout: float = 10.0
    signin_codes_per_client: int = 20
    # dashboard sign-up and sign-in hardening: who may sign in ("open": any address; "invite": only addresses that
    # are members of a workspace already), how many workspaces one user may own, and whether mailer = "console" may
    # run while a public_hosts entry is not loopback (off: the codes in the log would sign anyone in).
    signup: str = "open"
    max_owned_workspaces: int = 3
    mailer_console_anywhere: bool = False
    # usage counters and monitoring: where the per-day usage counters go ("account" = the account store; "redis"
    # = redis_url, for many nodes), how often each worker flushes them (seconds); who may read /_/metrics (these
    # networks, or a caller with metrics_token as a bearer token), a per-workspace label on the request metrics
    # (small installs only: one series per workspace), and the JSON access log (on/off, fraction of requests).
    usage_store: str = "account"
    usage_flush_interval: float = 5.0
    metrics_networks: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    metrics_token: str = field(default="", repr=False)
    metrics_workspace_label: bool = False
    access_log: bool = True
    access_log_sample: float = 1.0
    # Redis (rate limits and usage counters across nodes): redis://host:port/db; empty = no Redis.
    redis_url: str = field(default="", repr=False)
    # rate limits and monthly quotas (gateway/limits/): "local" = node-wide across this machine's workers, "redis"
    # = shared by every node through redis_url, "off" = none; seconds between reads of the month's usage totals.
    limiter: str = "local"
    quota_refresh: float = 5.0
    # custom domains: the gateway's own hosts (any other Host is looked up as a workspace's custom domain, 404 if
    # none), the name under which each domain's own CNAME target <token>.<cname_target> lives, DNS for verification
    # (host:port list; empty = the system's), the re-check (seconds; 0 = off), and who may ask GET /_/tls/ask (CIDRs;
    # empty = any), how often per unverified name in a fixed minute.
    public_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")
    cname_target: str = ""
    dns_resolvers: tuple[str, ...] = ()
    dns_timeout: float = 3.0
    domain_recheck_interval: float = 3600.0
    domain_pending_recheck_interval: float = 60.0
    domain_failures_to_fail: int = 3
    # Days a custom domain may stay pending before its claim turns failed (another workspace's never blocks one).
    domain_pending_days: float = 7.0
    tls_ask_networks: tuple[str, ...] = ()
    tls_ask_per_minute: int = 30
    # Capture jobs of the management API (gateway/jobs/): workers per process, queue depth caps, the lease a
    # worker holds on a job, signed result URL lifetime, webhook delivery.
    capture_job_workers: int = 1
    # Where jobs are kept and queued: "account" = the account store (one node), "redis" = redis_url (many nodes).
    capture_jobs_store: str = "account"
    capture_jobs_max_queued: int = 200
    capture_jobs_max_queued_per_workspace: int = 20
    capture_job_lease: float = 60.0
    capture_job_poll: float = 0.5
    capture_jobs_allow_http: bool = False
    capture_result_url_ttl: int = 3600
    webhook_timeout: float = 10.0
    webhook_retry_for: float = 600.0
    # sections
    capture: CaptureSettings = field(default_factory=CaptureSettings)
    # Not a setting: the file these settings were read from (None if none was), for what is re-read live.
    config_file: Path | None = field(default=None, compare=False, repr=False, metadata={_NOT_A_SETTING: True})

    def __post_init__(self) -> None:
        for name in (
            "port",
            "tenancy_ttl",
            "audit_retention_days",
            "origin_connect_timeout",
            "origin_timeout",
            "max_source_bytes",
            "max_source_pixels",
            "max_output_side",
            "vips_concurrency",
            "transform_threads",
            "transform_queue",
            "transform_timeout",
            "queue_timeout",
            "max_gif_pixels",
            "max_gif_frame_pixels",
            "max_avif_pixels",
            "max_auto_avif_pixels",
            "max_lossless_pixels",
            "max_animation_pixels",
            "memory_cache_mb",
            "originals_cache_mb",
            "result_store_max_mb",
            "result_s3_timeout",
            "api_max_body_bytes",
            "smtp_port",
            "smtp_timeout",
            "signin_codes_per_client",
            "max_owned_workspaces",
            "usage_flush_interval",
        ):
            _positive(name, getattr(self, name))
        if self.workers < 0:
            raise SettingsError("setting 'workers' must be 0 (one per core) or more")
        if self.port > 65535:
            raise SettingsError("setting 'port' must be at most 65535")
        if self.account_store not in ("sqlite", "memory", "postgres", "dynamodb"):
            raise SettingsError("setting 'account_store' must be one of sqlite, memory, postgres, dynamodb")
        if self.account_store == "dynamodb" and not self.dynamodb_table:
            raise SettingsError("setting 'dynamodb_table' is required when account_store = 'dynamodb'")
        if self.account_store == "postgres" and not self.database_url:
            raise SettingsError("setting 'database_url' is required when account_store = 'postgres'")
        _positive("database_pool_size", self.database_pool_size)
        if self.result_store not in ("disk", "s3", "none"):
            raise SettingsError("setting 'result_store' must be one of disk, s3, none")
        if self.mailer not in ("console", "smtp"):
            raise SettingsError("setting 'mailer' must be one of console, smtp")
        if self.smtp_security not in ("starttls", "tls", "none"):
            raise SettingsError("setting 'smtp_security' must be one of starttls, tls, none")
        if self.mailer == "smtp" and not self.smtp_host:
            raise SettingsError("setting 'smtp_host' is required when mailer = 'smtp'")
        if self.signup not in ("open", "invite"):
            raise SettingsError("setting 'signup' must be one of open, invite")
        if self.burst_decode_mb < 0:
            raise SettingsError("setting 'burst_decode_mb' must be 0 (off) or more")
        if self.scale_on_load not in ("fast", "fine"):
            raise SettingsError("setting 'scale_on_load' must be one of fast, fine")
        if self.jpeg_decoder not in ("turbo", "libvips"):
            raise SettingsError("setting 'jpeg_decoder' must be one of turbo, libvips")
        if self.limiter not in ("local", "redis", "off"):
            raise SettingsError("setting 'limiter' must be one of local, redis, off")
        if self.limiter == "redis" and not self.redis_url:
            raise SettingsError("setting 'redis_url' is required when limiter = 'redis'")
        _positive("quota_refresh", self.quota_refresh)
        if self.result_store == "s3" and not self.result_s3_bucket:
            raise SettingsError("setting 'result_s3_bucket' is required when result_store = 's3'")
        if self.usage_store not in ("account", "redis"):
            raise SettingsError("setting 'usage_store' must be one of account, redis")
        if self.usage_store == "redis" and not self.redis_url:
            raise SettingsError("setting 'redis_url' is required when usage_store = 'redis'")
        if not 0 <= self.access_log_sample <= 1:
            raise SettingsError("setting 'access_log_sample' must be from 0 (none) to 1 (every request)")
        _networks("metrics_networks", self.metrics_networks)
        _networks("trusted_networks", self.trusted_networks)
        _networks("trusted_proxies", self.trusted_proxies)
        _check_domain_settings(self)
        for name in ("capture_jobs_max_queued", "capture_jobs_max_queued_per_workspace", "capture_job_lease"):
            _positive(name, getattr(self, name))
        for name in ("capture_job_poll", "capture_result_url_ttl", "webhook_timeout", "webhook_retry_for"):
            _positive(name, getattr(self, name))
        if self.capture_jobs_store not in ("account", "redis"):
            raise SettingsError("setting 'capture_jobs_store' must be one of account, redis")
        if self.capture_jobs_store == "redis" and not self.redis_url:
            raise SettingsError("setting 'redis_url' is required when capture_jobs_store = 'redis'")
        if self.capture_job_workers < 0:
            raise SettingsError("setting 'capture_job_workers' must be 0 (no job workers in this process) or more")
        _networks("deny_networks", self.deny_networks)
        for pattern in self.deny_hosts:
            deny_host_pattern(pattern)

    # Derived paths: relative settings are relative to the working directory the gateway starts in.
    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def database_path(self) -> Path:
        return Path(self.database) if self.database else self.data_path / "imgate.sqlite3"

    @property
    def result_store_path(self) -> Path:
        return Path(self.result_store_dir) if self.result_store_dir else self.data_path / "results"

    @property
    def worker_count(self) -> int:
        return self.workers or (os.cpu_count() or 1)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _check_domain_settings(settings: Settings) -> None:
    for name in (
        "dns_timeout",
        "domain_pending_recheck_interval",
        "domain_failures_to_fail",
        "domain_pending_days",
        "tls_ask_per_minute",
    ):
        _positive(name, getattr(settings, name))
    if settings.domain_recheck_interval < 0:
        raise SettingsError("setting 'domain_recheck_interval' must be 0 (off) or more seconds")
    if not settings.public_hosts:
        # Every Host would then be looked up as a custom domain: health, API and dashboard unreachable.
        raise SettingsError("setting 'public_hosts' must list the gateway's own host(s)")
    for host in settings.public_hosts:
        try:
            if not _is_address(host):
                normalise_host(host)
        except InvalidHost as exc:
            raise SettingsError(f"setting 'public_hosts': {host!r} is not a host name or an address") from exc
    if settings.cname_target:
        try:
            normalise_host(settings.cname_target)
        except InvalidHost as exc:
            raise SettingsError("setting 'cname_target' must be a host name") from exc
    for entry in settings.dns_resolvers:
        host, _, port = entry.rpartition(":") if entry.count(":") == 1 or entry.startswith("[") else (entry, "", "53")
        if not _is_address(host) or not port.isdigit() or not 0 < int(port) < 65536:
            raise SettingsError(f"setting 'dns_resolvers': {entry!r} is not address:port")
    _networks("tls_ask_networks", settings.tls_ask_networks)


# Sections: a TOML table each, and a nested dataclass in Settings.
_SECTIONS: Mapping[str, type[Any]] = {"capture": CaptureSettings}


def _kinds(cls: type[Any]) -> dict[str, str]:
    return {f.name: str(f.type) for f in setting_fields(cls) if f.name not in _SECTIONS}


def setting_fields(cls: type[Any]) -> tuple[dataclasses.Field[Any], ...]:
    """The fields of a settings class that are settings (``config_file`` is not)."""
    return tuple(f for f in fields(cls) if not f.metadata.get(_NOT_A_SETTING))


def _environment_names() -> dict[str, tuple[str | None, str]]:
    """``IMGATE_*`` variable -> (section or None, setting name)."""
    names: dict[str, tuple[str | None, str]] = {ENV_PREFIX + name.upper(): (None, name) for name in _kinds(Settings)}
    for section, cls in _SECTIONS.items():
        names.update({f"{ENV_PREFIX}{section.upper()}_{name.upper()}": (section, name) for name in _kinds(cls)})
    return names


def _coerce(name: str, kind: str, raw: Any, from_env: bool) -> Any:
    """Turn a TOML value or an environment string into the field's type, or name the setting in an error."""
    try:
        if kind == "tuple[str, ...]":
            if from_env:
                return tuple(part.strip() for part in str(raw).split(",") if part.strip())
            if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
                raise TypeError
            return tuple(raw)
        if kind == "bool":
            if from_env:
                lowered = str(raw).lower()
                if lowered not in ("1", "0", "true", "false", "yes", "no"):
                    raise TypeError
                return lowered in ("1", "true", "yes")
            if not isinstance(raw, bool):
                raise TypeError
            return raw
        if kind == "int":
            if isinstance(raw, bool) or (not from_env and not isinstance(raw, int)):
                raise TypeError
            return int(raw)
        if kind == "float":
            if isinstance(raw, bool) or (not from_env and not isinstance(raw, int | float)):
                raise TypeError
            return float(raw)
        if kind == "str":
            if not from_env and not isinstance(raw, str):
                raise TypeError
            return str(raw)
    except (TypeError, ValueError):
        pass
    raise SettingsError(f"setting {name!r} must be of type {kind}, got {raw!r}")


def _unknown_key(name: str, where: str) -> SettingsError:
    hint = ""
    for section, cls in _SECTIONS.items():
        rest = name.removeprefix(section + "_")
        if rest != name and rest in _kinds(cls):
            hint = f" (it is '{rest}' in the [{section}] section)"
    return SettingsError(f"unknown setting {name!r} in {where}{hint}")


def _read_file(path: Path, values: dict[str, Any], sections: dict[str, dict[str, Any]]) -> None:
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path.name}: {exc}") from exc
    known = _kinds(Settings)
    for name, raw in data.items():
        if name in _SECTIONS:
            if not isinstance(raw, dict):
                raise SettingsError(f"setting {name!r} must be a [{name}] section in {path.name}")
            section_kinds = _kinds(_SECTIONS[name])
            for key, value in raw.items():
                if key not in section_kinds:
                    raise SettingsError(f"unknown setting '{name}.{key}' in {path.name}")
                sections[name][key] = _coerce(f"{name}.{key}", section_kinds[key], value, from_env=False)
        elif name in known:
            values[name] = _coerce(name, known[name], raw, from_env=False)
        else:
            raise _unknown_key(name, path.name)


def _read_environment(env: Mapping[str, str], values: dict[str, Any], sections: dict[str, dict[str, Any]]) -> None:
    names = _environment_names()
    for variable in sorted(env):
        if not variable.startswith(ENV_PREFIX) or variable in OTHER_VARIABLES:
            continue
        target = names.get(variable)
        if target is None:
            # Named, never its value: the variable may hold a secret that was meant for another setting.
            raise SettingsError(f"unknown setting in the environment: {variable} names no setting")
        section, name = target
        if section is None:
            values[name] = _coerce(name, _kinds(Settings)[name], env[variable], from_env=True)
        else:
            kind = _kinds(_SECTIONS[section])[name]
            sections[section][name] = _coerce(f"{section}.{name}", kind, env[variable], from_env=True)


def load_settings(
    config_path: Path | None = None, environ: Mapping[str, str] | None = None, **overrides: Any
) -> Settings:
    """Defaults, then the file, then ``IMGATE_*``, then ``overrides`` (flat names, or a whole section)."""
    env = os.environ if environ is None else environ
    named = env.get(CONFIG_VARIABLE, "")
    path = config_path or Path(named or DEFAULT_CONFIG)
    values: dict[str, Any] = {}
    sections: dict[str, dict[str, Any]] = {name: {} for name in _SECTIONS}
    if path.exists():
        _read_file(path, values, sections)
        values["config_file"] = path
    elif config_path is not None:
        raise SettingsError(f"config file {config_path} does not exist")
    elif named:
        # Only the default file may be absent: a file the operator named is meant to be read, and running on
        # defaults instead would hide the typo.
        raise SettingsError(f"{CONFIG_VARIABLE} names a config file that does not exist: {named}")
    _read_environment(env, values, sections)
    known = {f.name for f in setting_fields(Settings)}
    for name, raw in overrides.items():
        if name not in known:
            raise SettingsError(f"unknown setting {name!r}")
        values[name] = raw
    for section, cls in _SECTIONS.items():
        if section not in values:
            values[section] = cls(**sections[section])
    return Settings(**values)
