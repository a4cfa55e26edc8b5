"""The capture source as the gateway builds it: what its pages may reach, and where its machinery is registered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.capture import CaptureOptions
from gateway.capture.machinery import MachineryPorts
from gateway.errors import BlockedAddress
from gateway.netguard import guard_for
from gateway.settings import CaptureSettings, Settings
from gateway.sources.capture import MACHINERY_DIRECTORY, CaptureSource
from tests.gateway.capture.conftest import require_browser
from tests.gateway.capture.testsite import TestSite

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture(scope="module")
def site() -> Iterator[TestSite]:
    server = TestSite()
    yield server
    server.close()


def settings_for(data: Path, capture: CaptureSettings) -> Settings:
    return Settings(data_dir=str(data), port=18080, trusted_networks=("127.0.0.1/32",), capture=capture)


async def test_the_gateway_s_trusted_networks_are_not_the_pages(tmp_path: Path, site: TestSite) -> None:
    # Loopback is trusted for origins (a development setting); a captured page gets none of that trust.
    require_browser()
    settings = settings_for(tmp_path, CaptureSettings(timeout=10))
    source = CaptureSource(settings, guard_for(settings))
    try:
        with pytest.raises(BlockedAddress):
            await source.fetch(site.url("/simple.html"), CaptureOptions(), pdf=False)
    finally:
        await source.aclose()
    assert site.hits["/simple.html"] == 0


async def test_captures_trust_only_their_own_networks_and_register_the_machinery(
    tmp_path: Path, site: TestSite
) -> None:
    require_browser()
    settings = settings_for(tmp_path, CaptureSettings(timeout=10, trusted_networks=("127.0.0.1/32",)))
    registry = MachineryPorts(tmp_path / MACHINERY_DIRECTORY)
    source = CaptureSource(settings, guard_for(settings))
    try:
        original = await source.fetch(site.url("/simple.html"), CaptureOptions(), pdf=False)
        assert original.data.startswith(b"\x89PNG")
        labels = {label: port for entry in registry.entries().values() for label, port in entry.items()}
        assert set(labels) == {"gateway-0", "proxy", "proxy-background", "chromedriver", "devtools"}
        assert labels["gateway-0"] == 18080
        # The gateway's own port is machinery too: a page may not make the gateway capture itself.
        with pytest.raises(BlockedAddress):
            await source.fetch("http://127.0.0.1:18080/ns/?capture=x", CaptureOptions(), pdf=False)
    finally:
        await source.aclose()
    assert registry.entries() == {}
