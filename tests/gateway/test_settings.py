from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

import gateway.capture
import gateway.settings
from gateway.settings import (
    DEFAULT_CONFIG,
    OTHER_VARIABLES,
    CaptureSettings,
    Settings,
    SettingsError,
    deny_host_pattern,
    load_settings,
    setting_fields,
)


def _flat(defaults: object) -> dict[str, object]:
    """Every setting as ``name`` or ``section.name``, with its value."""
    flat: dict[str, object] = {}
    for f in setting_fields(type(defaults)):
        value = getattr(defaults, f.name)
        if dataclasses.is_dataclass(value):
            flat.update({f"{f.name}.{name}": inner for name, inner in _flat(value).items()})
        else:
            flat[f.name] = value
    return flat


def test_config_file_documents_every_setting_with_its_default() -> None:
    documented = tomllib.loads(DEFAULT_CONFIG.read_text())
    sections = {name: documented.pop(name) for name in list(documented) if isinstance(documented[name], dict)}
    for section, table in sections.items():
        documented.update({f"{section}.{name}": value for name, value in table.items()})
    defaults = _flat(Settings())
    assert set(documented) == set(defaults)
    for name, value in documented.items():
        expected = defaults[name]
        assert (tuple(value) if isinstance(value, list) else value) == expected, name


def test_capture_settings_have_one_set_of_defaults() -> None:
    # The capture package started alone (tests, the bench) gets exactly what the gateway runs with.
    assert CaptureSettings() == Settings().capture == load_settings(environ={}).capture
    assert (CaptureSettings().pool_size, CaptureSettings().max_queue) == (1, 8)
    assert gateway.capture.CaptureSettings is CaptureSettings


def test_environment_overrides_file(tmp_path: Path) -> None:
    settings = load_settings(environ={"IMGATE_PORT": "9000", "IMGATE_TRUSTED_NETWORKS": "127.0.0.0/8, ::1/128"})
    assert settings.port == 9000
    assert settings.trusted_networks == ("127.0.0.0/8", "::1/128")


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"IMGATE_PORT": "eighty"}, "port"),
        ({"IMGATE_PORT": "0"}, "port"),
        ({"IMGATE_RESULT_STORE": "floppy"}, "result_store"),
        ({"IMGATE_JPEG_DECODER": "pillow"}, "jpeg_decoder"),
        ({"IMGATE_TRUSTED_NETWORKS": "not-a-net"}, "trusted_networks"),
        ({"IMGATE_RESULT_STORE": "s3"}, "result_s3_bucket"),
        ({"IMGATE_TRUSTED_NETWORKS": "127.0.0.1/8"}, "trusted_networks"),  # host bits set: NetGuard refuses it
        ({"IMGATE_CAPTURE_POOL_SIZE": "0"}, "capture.pool_size"),
        ({"IMGATE_CAPTURE_MAX_CONCURRENCY": "2"}, "capture.max_concurrency"),
        ({"IMGATE_CAPTURE_TIMEOUT": "soon"}, "capture.timeout"),
        ({"IMGATE_CAPTURE_PROXY_PORT": "70000"}, "capture.proxy_port"),
        ({"IMGATE_CAPTURE_PROXY_CLIENTS": "10.0.0.0/8, nodes"}, "capture.proxy_clients"),
        ({"IMGATE_CAPTURE_PROXY_LISTEN_HOST": "0.0.0.0"}, "capture.proxy_public_host"),
        ({"IMGATE_CAPTURE_PROXY_PUBLIC_HOST": "not a host"}, "capture.proxy_public_host"),
        ({"IMGATE_CAPTURE_PROXY_PUBLIC_HOST": "0.0.0.0"}, "capture.proxy_public_host"),
        ({"IMGATE_CAPTURE_TRUSTED_NETWORKS": "127.0.0.1/8"}, "capture.trusted_networks"),
        ({"IMGATE_DENY_NETWORKS": "public"}, "deny_networks"),
        ({"IMGATE_DENY_HOSTS": "10.0.0.1"}, "deny_networks"),  # an address: named where it belongs
        ({"IMGATE_DENY_HOSTS": "[::1]"}, "deny_networks"),
        ({"IMGATE_DENY_HOSTS": "meta*data.internal"}, "deny_hosts"),
        ({"IMGATE_DENY_HOSTS": "*"}, "deny_hosts"),
        ({"IMGATE_DENY_HOSTS": "not a host"}, "deny_hosts"),
    ],
)
def test_invalid_setting_names_itself(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(environ=environ)


def test_unknown_key_in_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text("prot = 80\n")
    with pytest.raises(SettingsError, match="prot"):
        load_settings(config_path=config, environ={})


def test_wrong_type_in_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('port = "80"\n')
    with pytest.raises(SettingsError, match="port"):
        load_settings(config_path=config, environ={})


def test_capture_settings_come_from_the_capture_section_and_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('port = 8081\n[capture]\npool_size = 3\nmax_concurrency = 2\ngrid_url = "http://grid:4444"\n')
    settings = load_settings(config_path=config, environ={"IMGATE_CAPTURE_MAX_QUEUE": "0"})
    assert settings.port == 8081
    capture = settings.capture
    assert (capture.pool_size, capture.max_concurrency, capture.max_queue) == (3, 2, 0)
    assert capture.grid_url == "http://grid:4444" and capture.timeout == 20.0


def test_a_selenium_grid_deployment_can_be_configured() -> None:
    capture = load_settings(
        environ={
            "IMGATE_CAPTURE_GRID_URL": "http://grid:4444",
            "IMGATE_CAPTURE_PROXY_LISTEN_HOST": "0.0.0.0",
            "IMGATE_CAPTURE_PROXY_PUBLIC_HOST": "gateway-1.internal",
            "IMGATE_CAPTURE_PROXY_PORT": "3128",
            "IMGATE_CAPTURE_PROXY_CLIENTS": "10.8.0.0/16, fd00:8::/32",
        }
    ).capture
    assert capture.proxy_listen_host == "0.0.0.0" and capture.proxy_port == 3128
    assert capture.proxy_host_for_browsers == "gateway-1.internal"
    assert capture.proxy_clients == ("10.8.0.0/16", "fd00:8::/32")
    assert CaptureSettings(proxy_listen_host="10.8.0.5").proxy_host_for_browsers == "10.8.0.5"


@pytest.mark.parametrize(
    "variable", ["IMGATE_NOPE", "IMGATE_PROT", "IMGATE_CAPTURE_NOPE", "IMGATE_CAPTURE_POOL", "IMGATE_CAPTURE"]
)
def test_an_unknown_imgate_variable_is_refused_like_an_unknown_key(variable: str) -> None:
    with pytest.raises(SettingsError, match=variable) as caught:
        load_settings(environ={variable: "s3cret-value"})
    assert "s3cret-value" not in str(caught.value)


def test_the_variables_that_are_not_settings_are_allowed() -> None:
    assert set(OTHER_VARIABLES) == {
        "IMGATE_CONFIG",
        "IMGATE_ORIGIN_SECRET_ACCESS_KEY",
        "IMGATE_CAPTURE_TAG",
        "IMGATE_SIGNING_SECRET",
    }
    environ = {name: "x" for name in OTHER_VARIABLES if name != "IMGATE_CONFIG"}
    assert load_settings(environ={**environ, "LANG": "C", "imgate_lower": "1"}) == load_settings(environ={})


def test_a_flat_capture_key_in_the_file_points_at_the_section(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text("capture_pool_size = 2\n")
    with pytest.raises(SettingsError, match=r"capture_pool_size.*'pool_size' in the \[capture\] section"):
        load_settings(config_path=config, environ={})


def test_an_unknown_key_in_a_section_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text("[capture]\npool = 2\n")
    with pytest.raises(SettingsError, match=r"capture\.pool"):
        load_settings(config_path=config, environ={})
    config.write_text("capture = 2\n")
    with pytest.raises(SettingsError, match="capture"):
        load_settings(config_path=config, environ={})


def test_deny_lists_come_from_the_file_and_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('deny_networks = ["198.51.100.0/24"]\ndeny_hosts = ["*.corp.example"]\n')
    settings = load_settings(config_path=config, environ={"IMGATE_DENY_HOSTS": "metadata.google.internal, *.internal"})
    assert settings.deny_networks == ("198.51.100.0/24",)
    assert settings.deny_hosts == ("metadata.google.internal", "*.internal")
    assert settings.config_file == config


def test_the_settings_remember_their_file_but_it_is_no_setting(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text("port = 8081\n")
    assert load_settings(config_path=config, environ={}).config_file == config
    assert Settings().config_file is None
    assert "config_file" not in {f.name for f in setting_fields(Settings)}
    with pytest.raises(SettingsError, match="IMGATE_CONFIG_FILE"):
        load_settings(environ={"IMGATE_CONFIG_FILE": "x"})
    with pytest.raises(SettingsError, match="config_file"):
        load_settings(config_path=config, environ={}, config_file=config)
    config.write_text('config_file = "elsewhere.toml"\n')
    with pytest.raises(SettingsError, match="config_file"):
        load_settings(config_path=config, environ={})


@pytest.mark.parametrize(
    ("entry", "normal"),
    [
        ("metadata.google.internal", "metadata.google.internal"),
        ("Metadata.Google.Internal.", "metadata.google.internal"),
        ("*.internal", "*.internal"),  # one label is fine here: refusing a private suffix is the point
        ("*.Corp.Example", "*.corp.example"),
        ("bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_deny_host_patterns_are_normalised(entry: str, normal: str) -> None:
    assert deny_host_pattern(entry) == normal


def test_captures_have_their_own_trusted_networks_empty_by_default() -> None:
    settings = load_settings(environ={"IMGATE_TRUSTED_NETWORKS": "127.0.0.0/8"})
    assert settings.trusted_networks == ("127.0.0.0/8",)
    assert settings.capture.trusted_networks == ()
    capture = load_settings(environ={"IMGATE_CAPTURE_TRUSTED_NETWORKS": "127.0.0.1/32"}).capture
    assert capture.trusted_networks == ("127.0.0.1/32",)


def test_a_config_file_named_by_the_environment_must_exist(tmp_path: Path) -> None:
    absent = tmp_path / "absent.toml"
    with pytest.raises(SettingsError, match="IMGATE_CONFIG") as caught:
        load_settings(environ={"IMGATE_CONFIG": str(absent)})
    assert "does not exist" in str(caught.value)


def test_only_the_default_config_file_may_be_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateway.settings, "DEFAULT_CONFIG", tmp_path / "absent.toml")
    assert load_settings(environ={}).config_file is None
    assert load_settings(environ={"IMGATE_CONFIG": ""}).config_file is None
