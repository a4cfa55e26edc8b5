"""The custom domain settings: defaults that keep loopback the gateway's own, and refusals that name the setting."""

from __future__ import annotations

import pytest

from gateway.settings import SettingsError, load_settings


def test_defaults() -> None:
    settings = load_settings(environ={})
    assert settings.public_hosts == ("127.0.0.1", "localhost", "::1")
    assert settings.cname_target == "" and settings.dns_resolvers == () and settings.tls_ask_networks == ()
    assert settings.domain_recheck_interval == 3600 and settings.domain_failures_to_fail == 3


def test_from_the_environment() -> None:
    settings = load_settings(
        environ={
            "IMGATE_PUBLIC_HOSTS": "img.example.com, localhost",
            "IMGATE_DNS_RESOLVERS": "127.0.0.1:5353,[::1]:53,10.0.0.53",
            "IMGATE_DOMAIN_RECHECK_INTERVAL": "0",
        }
    )
    assert settings.public_hosts == ("img.example.com", "localhost")
    assert settings.dns_resolvers == ("127.0.0.1:5353", "[::1]:53", "10.0.0.53")
    assert settings.domain_recheck_interval == 0


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("IMGATE_DNS_RESOLVERS", "dns.example:53", "dns_resolvers"),
        ("IMGATE_DNS_RESOLVERS", "127.0.0.1:99999", "dns_resolvers"),
        ("IMGATE_PUBLIC_HOSTS", "img example", "public_hosts"),
        ("IMGATE_PUBLIC_HOSTS", "", "public_hosts"),
        ("IMGATE_CNAME_TARGET", "http://x/", "cname_target"),
        ("IMGATE_TLS_ASK_NETWORKS", "10.0.0.1/8", "tls_ask_networks"),
        ("IMGATE_DNS_TIMEOUT", "0", "dns_timeout"),
        ("IMGATE_DOMAIN_RECHECK_INTERVAL", "-1", "domain_recheck_interval"),
        ("IMGATE_DOMAIN_FAILURES_TO_FAIL", "0", "domain_failures_to_fail"),
    ],
)
def test_refusals_name_the_setting(name: str, value: str, named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(environ={name: value})
