"""Typed settings: ``config/gateway.toml`` (every setting, documented, with its default), then ``IMGATE_*``.

Precedence, lowest first: the defaults below, the TOML file (``IMGATE_CONFIG`` names another one), then one
environment variable per setting (``IMGATE_`` + the upper-cased name). An unknown key or a value of the wrong
type or range stops start-up with a message naming the setting, so a typo never becomes a silent default.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "config" / "gateway.toml"


class SettingsError(ValueError):
    pass


def _positive(name: str, value: float) -> None:
    if value <= 0:
        raise SettingsError(f"setting {name!r} must be greater than 0, got {value!r}")


@dataclass(frozen=True, slots=True)
class Settings:
    # server
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 0
    public_url: str = ""
    # storage of the gateway's own state
    data_dir: str = "var"
    database: str = ""
    secret_key: str = ""
    # tenancy
    tenancy_ttl: float = 5.0
    # network
    trusted_networks: tuple[str, ...] = ()
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
    # captures
    capture_enabled: bool = True
    capture_pool_size: int = 1
    capture_max_concurrency: int = 1
    capture_max_queue: int = 8
    capture_timeout: float = 20.0
    capture_max_full_height: int = 10000
    capture_max_delay_ms: int = 5000
    capture_grid_url: str = ""

    def __post_init__(self) -> None:
        for name in (
            "port",
            "tenancy_ttl",
            "origin_connect_timeout",
            "origin_timeout",
            "max_source_bytes",
            "max_source_pixels",
            "max_output_side",
            "vips_concurrency",
            "transform_threads",
            "transform_queue",
            "memory_cache_mb",
            "originals_cache_mb",
            "result_store_max_mb",
            "result_s3_timeout",
            "capture_pool_size",
            "capture_max_concurrency",
            "capture_timeout",
            "capture_max_full_height",
        ):
            _positive(name, getattr(self, name))
        if self.workers < 0:
            raise SettingsError("setting 'workers' must be 0 (one per core) or more")
        if self.port > 65535:
            raise SettingsError("setting 'port' must be at most 65535")
        if self.result_store not in ("disk", "s3", "none"):
            raise SettingsError("setting 'result_store' must be one of disk, s3, none")
        if self.result_store == "s3" and not self.result_s3_bucket:
            raise SettingsError("setting 'result_s3_bucket' is required when result_store = 's3'")
        import ipaddress

        for net in self.trusted_networks:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError as exc:
                raise SettingsError(f"setting 'trusted_networks': {net!r} is not a network") from exc

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


def _coerce(name: str, kind: Any, raw: Any, from_env: bool) -> Any:
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


def load_settings(
    config_path: Path | None = None, environ: Mapping[str, str] | None = None, **overrides: Any
) -> Settings:
    env = os.environ if environ is None else environ
    path = config_path or Path(env.get("IMGATE_CONFIG", "") or DEFAULT_CONFIG)
    values: dict[str, Any] = {}
    known = {f.name: f.type for f in fields(Settings)}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path.name}: {exc}") from exc
        for name, raw in data.items():
            if name not in known:
                raise SettingsError(f"unknown setting {name!r} in {path.name}")
            values[name] = _coerce(name, known[name], raw, from_env=False)
    elif config_path is not None:
        raise SettingsError(f"config file {config_path} does not exist")
    for name, kind in known.items():
        env_name = "IMGATE_" + name.upper()
        if env_name in env:
            values[name] = _coerce(name, kind, env[env_name], from_env=True)
    for name, raw in overrides.items():
        if name not in known:
            raise SettingsError(f"unknown setting {name!r}")
        values[name] = raw
    return Settings(**values)
