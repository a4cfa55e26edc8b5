"""IP allowlists of the management API, with and without a trusted proxy in front.

Every request comes from 127.0.0.1. Without ``trusted_proxies`` that is the client, whatever
``X-Forwarded-For`` says; with ``trusted_proxies = 127.0.0.1/32`` the gateway believes the header, read from the
right. The addresses in the headers are only text in a header: nothing is sent to them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.accounts.models import Workspace
from tests.integration.api_client import Api, create_key, error_code
from tests.integration.servers import GatewayProcess

pytestmark = pytest.mark.integration

OFFICE = "203.0.113.0/24"


class Gateways:
    def __init__(self, direct: GatewayProcess, proxied: GatewayProcess, office: str, home: str) -> None:
        self.direct = direct
        self.proxied = proxied
        self.office_key = office
        self.home_key = home


@pytest.fixture(scope="module")
def gateways(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateways]:
    data = tmp_path_factory.mktemp("api-network")
    direct = GatewayProcess(data)
    # The same data folder: two nodes of one deployment, one of them behind a proxy on this host.
    proxied = GatewayProcess(data, trusted_proxies="127.0.0.1/32")
    data.mkdir(parents=True, exist_ok=True)
    direct.add_workspace(Workspace(namespace="office", plan="business", ip_allowlist=(OFFICE,)))
    direct.add_workspace(Workspace(namespace="home", plan="business", ip_allowlist=("127.0.0.1/32",)))
    office = create_key(data, "office", "Office", "write")
    home = create_key(data, "home", "Home", "read")
    with direct, proxied:
        yield Gateways(direct, proxied, office, home)


def test_a_client_outside_the_allowlist_is_refused(gateways: Gateways) -> None:
    response = Api(gateways.direct, gateways.office_key).get("/workspaces/office")
    assert response.status_code == 403 and error_code(response) == "IP_NOT_ALLOWED"


def test_a_client_inside_the_allowlist_passes(gateways: Gateways) -> None:
    assert Api(gateways.direct, gateways.home_key).get("/workspaces/home").status_code == 200


@pytest.mark.parametrize("forwarded", ["203.0.113.7", "198.51.100.1, 203.0.113.7"])
def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(gateways: Gateways, forwarded: str) -> None:
    office = Api(gateways.direct, gateways.office_key).get("/workspaces/office", headers={"X-Forwarded-For": forwarded})
    assert office.status_code == 403 and error_code(office) == "IP_NOT_ALLOWED"
    # Nor can the header push a client that is inside out of it.
    home = Api(gateways.direct, gateways.home_key).get("/workspaces/home", headers={"X-Forwarded-For": forwarded})
    assert home.status_code == 200


def test_the_address_is_checked_before_the_scope(gateways: Gateways) -> None:
    office_reader = Api(gateways.direct, create_key(gateways.direct.data_dir, "office", "Reader", "read"))
    response = office_reader.patch("/workspaces/office", {"allowed_origins": ["*"]})
    assert response.status_code == 403 and error_code(response) == "IP_NOT_ALLOWED"


@pytest.mark.parametrize(
    ("forwarded", "status"),
    [
        ("203.0.113.7", 200),
        # The client wrote the left entry; the proxy appended the address it saw: that one counts.
        ("198.51.100.1, 203.0.113.7", 200),
        ("203.0.113.7, 198.51.100.1", 403),
        ("203.0.113.7, 127.0.0.1", 200),  # a second trusted proxy hop is skipped
        ("not-an-address", 403),
        (None, 403),  # no header: the proxy itself is the client
    ],
)
def test_behind_a_trusted_proxy_the_right_most_untrusted_address_is_the_client(
    gateways: Gateways, forwarded: str | None, status: int
) -> None:
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    response = Api(gateways.proxied, gateways.office_key).get("/workspaces/office", headers=headers)
    assert response.status_code == status, response.text
    if status == 403:
        assert error_code(response) == "IP_NOT_ALLOWED"


def test_the_allowlist_is_set_through_the_api(gateways: Gateways) -> None:
    office = Api(gateways.proxied, gateways.office_key)
    inside = {"X-Forwarded-For": "203.0.113.9"}
    changed = office.patch("/workspaces/office", {"ip_allowlist": [OFFICE, "2001:db8::/32"]}, headers=inside)
    assert changed.status_code == 200, changed.text
    assert changed.json()["ip_allowlist"] == [OFFICE, "2001:db8::/32"]
    bad = office.patch("/workspaces/office", {"ip_allowlist": ["10.0.0.1/8"]}, headers=inside)
    assert bad.status_code == 400 and "ip_allowlist" in bad.json()["error"]["message"]
    v6 = office.get("/workspaces/office", headers={"X-Forwarded-For": "2001:db8::1"})
    assert v6.status_code == 200
