from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from gateway.settings import DEFAULT_CONFIG, Settings, SettingsError, load_settings


def test_config_file_documents_every_setting_with_its_default() -> None:
    documented = tomllib.loads(DEFAULT_CONFIG.read_text())
    defaults = {f.name: getattr(Settings(), f.name) for f in dataclasses.fields(Settings)}
    assert set(documented) == set(defaults)
    for name, value in documented.items():
        expected = defaults[name]
        assert (tuple(value) if isinstance(value, list) else value) == expected, name


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
        ({"IMGATE_TRUSTED_NETWORKS": "not-a-net"}, "trusted_networks"),
        ({"IMGATE_RESULT_STORE": "s3"}, "result_s3_bucket"),
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
