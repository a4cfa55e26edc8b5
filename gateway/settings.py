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

from gateway.policy.hosts import InvalidHost, is_ip_literal, normalise_host

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "config" / "gateway.toml"

ENV_PREFIX = "IMGATE_"
CONFIG_VARIABLE = "IMGATE_CONFIG"
ORIGIN_SECRET_VARIABLE = "IMGATE_ORIGIN_SECRET_ACCESS_KEY"  # noqa: S105 - the variable's name, not a secret
CAPTURE_TAG_VARIABLE = "IMGATE_CAPTURE_TAG"
# Every IMGATE_* variable that is not a setting. Any other IMGATE_* name is refused like an unknown key.
OTHER_VARIABLES: Mapping[str, str] = {
    CONFIG_VARIABLE: "the settings file to read instead of config/gateway.toml",
    ORIGIN_SECRET_VARIABLE: "the bucket secret `imgate workspace create/update` seals, instead of a prompt",
    CAPTURE_TAG_VARIABLE: "marks the processes of one capture browser (gateway/capture/procs.py)",
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
    # Selenium Grid hub (``http://grid:4444``): browsers are remote, the code path is the same.
    grid_url: str = ""
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

    def __post_init__(self) -> None:
        for name in (
            "pool_size",
            "max_concurrency",
            "timeout",
            "max_full_height",
            "recycle_after",
            "launch_timeout",
            "proxy_connect_timeout",
            "proxy_idle_timeout",
        ):
            _positive(f"capture.{name}", getattr(self, name))
        for name in ("max_queue", "max_delay_ms"):
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
    transform_queue: int = 64
    # Seconds one transform may run before it is stopped (503 RENDER_TIMEOUT, nothing cached), and that one may
    # wait for a transform thread: a request that would wait longer is refused (503 OVERLOADED + Retry-After).
    transform_timeout: float = 10.0
    queue_timeout: float = 2.0
    # The slow encoders' output caps in pixels, frames summed (413 SOURCE_TOO_LARGE naming the cap).
    max_gif_pixels: int = 12_000_000
    max_gif_frame_pixels: int = 2_000_000
    max_avif_pixels: int = 4_194_304
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
    # Networks of reverse proxies whose X-Forwarded-For is believed for the client address (IP allowlists).
    trusted_proxies: tuple[str, ...] = ()
    # Largest request body of the management API, in bytes (a mark image is uploaded as base64 in one).
    api_max_body_bytes: int = 4 * 1024 * 1024
    # Stripe's signing secret of the billing webhook (whsec_...); empty = POST /_/billing/stripe answers 404.
    stripe_webhook_secret: str = field(default="", repr=False)
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
            "max_lossless_pixels",
            "max_animation_pixels",
            "memory_cache_mb",
            "originals_cache_mb",
            "result_store_max_mb",
            "result_s3_timeout",
            "api_max_body_bytes",
        ):
            _positive(name, getattr(self, name))
        if self.workers < 0:
            raise SettingsError("setting 'workers' must be 0 (one per core) or more")
        if self.port > 65535:
            raise SettingsError("setting 'port' must be at most 65535")
        if self.account_store not in ("sqlite", "memory"):
            raise SettingsError("setting 'account_store' must be one of sqlite, memory")
        if self.result_store not in ("disk", "s3", "none"):
            raise SettingsError("setting 'result_store' must be one of disk, s3, none")
        if self.result_store == "s3" and not self.result_s3_bucket:
            raise SettingsError("setting 'result_s3_bucket' is required when result_store = 's3'")
        _networks("trusted_networks", self.trusted_networks)
        _networks("trusted_proxies", self.trusted_proxies)
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
