"""Which host a request is for: the gateway's own, or a custom domain name; forwarded only by trusted proxies."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.web.clientaddr import TrustedProxies
from gateway.web.hosts import HostRouting, host_name
from gateway.web.request import ImageRequest


def scope(path: str, host: str | None, peer: str = "203.0.113.9", **more: str) -> dict[str, Any]:
    headers = [(b"host", host.encode())] if host is not None else []
    headers += [(name.replace("_", "-").encode(), value.encode()) for name, value in more.items()]
    return {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": headers,
            "client": (peer, 5000), "scheme": "http"}  # fmt: skip


@pytest.mark.parametrize(
    ("header", "name"),
    [("Img.Example.COM", "img.example.com"), ("img.example.com.:443", "img.example.com"), ("[::1]:8080", "::1")],
)
def test_host_names(header: str, name: str) -> None:
    assert host_name(header) == name


def test_own_hosts_keep_namespace_paths_and_others_are_whole_path_keys() -> None:
    hosts = HostRouting(["127.0.0.1", "localhost", "::1", "IMG.Example.com"], TrustedProxies([]))
    own = ImageRequest.read(scope("/acme/a/b.jpg", "img.example.com:443"), hosts)
    assert own is not None and (own.domain, own.namespace, own.key) == (None, "acme", "a/b.jpg")
    assert ImageRequest.read(scope("/_/health", "[::1]:8080"), hosts) is None
    assert ImageRequest.read(scope("/_/health", None), hosts) is None  # no Host at all: the gateway's own
    custom = ImageRequest.read(scope("/_/health", "Img.Customer.com."), hosts)
    assert custom is not None and (custom.domain, custom.namespace, custom.key) == ("img.customer.com", "", "_/health")
    root = ImageRequest.read(scope("/", "img.customer.com"), hosts)
    assert root is not None and root.key == ""
    odd = ImageRequest.read(scope("/a.jpg", "not a host"), hosts)
    assert odd is not None and odd.domain == "not a host"  # looked up, found nowhere: a 404


def test_forwarded_host_and_proto_only_from_trusted_proxies() -> None:
    hosts = HostRouting(["127.0.0.1"], TrustedProxies(["10.0.0.0/8"]))
    sent = {"x_forwarded_host": "img.customer.com", "x_forwarded_proto": "https"}
    from_client = ImageRequest.read(scope("/acme/a.jpg", "127.0.0.1", peer="203.0.113.9", **sent), hosts)
    assert from_client is not None and from_client.domain is None and from_client.namespace == "acme"
    from_proxy = ImageRequest.read(scope("/a.jpg", "127.0.0.1", peer="10.1.2.3", **sent), hosts)
    assert from_proxy is not None and from_proxy.domain == "img.customer.com" and from_proxy.https
    plain = ImageRequest.read(scope("/a.jpg", "img.customer.com", peer="10.1.2.3"), hosts)
    assert plain is not None and plain.domain == "img.customer.com" and not plain.https


def test_a_left_entry_the_client_wrote_is_never_the_host_or_the_scheme() -> None:
    # The client sent "X-Forwarded-Host: victim.test" and "X-Forwarded-Proto: https"; the one trusted proxy
    # appended what it saw. Only its own, right-most, entries count.
    hosts = HostRouting(["127.0.0.1"], TrustedProxies(["10.0.0.0/8"]))
    sent = {"x_forwarded_host": "victim.test, img.customer.com", "x_forwarded_proto": "https, http",
            "x_forwarded_for": "198.51.100.7"}  # fmt: skip
    request = ImageRequest.read(scope("/a.jpg", "127.0.0.1", peer="10.1.2.3", **sent), hosts)
    assert request is not None and request.domain == "img.customer.com" and not request.https


def test_through_two_trusted_proxies_the_outer_ones_entry_counts() -> None:
    hosts = HostRouting(["127.0.0.1"], TrustedProxies(["10.0.0.0/8"]))
    # client -> 10.9.9.9 (outer proxy) -> 10.1.2.3 (peer): the outer one appended the client's Host, the inner
    # one what it was sent (the outer proxy's upstream name); the client's own entry is further left.
    sent = {"x_forwarded_host": "victim.test, img.customer.com, internal.lb",
            "x_forwarded_for": "198.51.100.7, 10.9.9.9"}  # fmt: skip
    request = ImageRequest.read(scope("/a.jpg", "127.0.0.1", peer="10.1.2.3", **sent), hosts)
    assert request is not None and request.domain == "img.customer.com"
    # A proxy that overwrites the header leaves one entry: every entry is a proxy's, the left-most counts.
    single = ImageRequest.read(
        scope("/a.jpg", "127.0.0.1", peer="10.1.2.3", x_forwarded_host="img.customer.com",
              x_forwarded_for="198.51.100.7, 10.9.9.9"), hosts)  # fmt: skip
    assert single is not None and single.domain == "img.customer.com"
