"""Captures on a remote W3C WebDriver endpoint (``[capture] grid_url``), against Debian's ChromeDriver
started as a separate WebDriver server on a loopback port, which speaks the protocol a Selenium Grid
speaks. It runs as another user (``nobody`` when the tests run as root), as a grid node would, so its
Chromium keeps its sandbox and none of its processes are the service's: the service must drive it
purely over WebDriver and DevTools, and its egress still goes through the service's proxy."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import pyvips

from gateway.accounts.models import Workspace
from gateway.capture import CaptureOptions, CaptureService, CaptureSettings, parse_capture_options
from gateway.capture.machinery import MachineryPorts
from gateway.capture.procs import find_processes, kill_processes
from gateway.capture.remote import BidiCdpConnection, RemoteEndpoint
from gateway.errors import BlockedAddress, OriginError
from gateway.netguard import NetGuard
from gateway.settings import SettingsError
from loopback.ports import free_port
from tests.conftest import require
from tests.gateway.capture.conftest import require_browser
from tests.gateway.capture.testsite import Canary, TestSite
from tests.integration.servers import GatewayProcess

PNG = b"\x89PNG\r\n\x1a\n"
CHROMEDRIVER = "/usr/bin/chromedriver"
# The page a test site serves with a cookie, localStorage and more, and the page that looks for them.
STATE_KINDS = ("cookie", "local", "session", "idb", "cache", "sw")


class RemoteChromeDriver:
    """``chromedriver --port=N --allowed-ips=127.0.0.1`` in a session of its own, startable again on the
    same port (a grid node coming back). Every process it starts carries ``IMGATE_CAPTURE_TAG=<tag>``, so
    that the test can find and kill all of them, Chromium's crash handler included (procs.py)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tag = f"remote-webdriver-{uuid.uuid4().hex[:12]}"
        self._home = Path(tempfile.mkdtemp(prefix="remote-webdriver-"))
        self._user: pwd.struct_passwd | None = pwd.getpwnam("nobody") if os.geteuid() == 0 else None
        if self._user is not None:
            os.chown(self._home, self._user.pw_uid, self._user.pw_gid)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self._home),
            "IMGATE_CAPTURE_TAG": self.tag,
        }
        user = self._user
        self.process = subprocess.Popen(  # noqa: S603 - a fixed program and arguments
            [CHROMEDRIVER, f"--port={self.port}", "--allowed-ips=127.0.0.1"],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            cwd=self._home,
            user=None if user is None else user.pw_uid,
            group=None if user is None else user.pw_gid,
            extra_groups=None if user is None else [],
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/status", timeout=2) as answer:  # noqa: S310 - loopback
                    if json.load(answer)["value"]["ready"]:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the remote chromedriver did not start")

    def kill_driver_only(self) -> None:
        """SIGKILL ChromeDriver alone: its Chromium lives on, DevTools port and all."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def kill_everything(self) -> None:
        groups = [self.process.pid] if self.process is not None else []
        kill_processes(self.tag, groups)
        if self.process is not None:
            self.process.wait(timeout=10)

    def browsers(self) -> list[int]:
        """Chromium processes of this endpoint."""
        found = []
        for pid in find_processes(self.tag, [self.process.pid] if self.process is not None else []):
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == "chromium":
                    found.append(pid)
            except OSError:
                continue
        return found

    def close(self) -> None:
        self.kill_everything()
        shutil.rmtree(self._home, ignore_errors=True)


def require_remote_driver() -> None:
    require_browser()
    require(os.access(CHROMEDRIVER, os.X_OK), "Debian's chromedriver is not installed")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("nobody")
        except KeyError:
            require(False, "no 'nobody' user to run the remote chromedriver as")


@pytest.fixture
def remote() -> Iterator[RemoteChromeDriver]:
    require_remote_driver()
    endpoint = RemoteChromeDriver()
    endpoint.start()
    yield endpoint
    endpoint.close()
    assert find_processes(endpoint.tag) == []


@pytest.fixture
async def service(remote: RemoteChromeDriver) -> AsyncIterator[CaptureService]:
    settings = CaptureSettings(pool_size=1, max_concurrency=1, timeout=15, grid_url=remote.url)
    capture = CaptureService(settings, NetGuard(["127.0.0.1/32"]))
    await capture.start()
    yield capture
    await capture.aclose()


def state_cells(png: bytes) -> dict[str, tuple[int, int, int]]:
    image = pyvips.Image.new_from_buffer(png, "")
    cells = {}
    for index, kind in enumerate(STATE_KINDS):
        red, green, blue = image.getpoint(25 + 50 * index, 25)[:3]
        cells[kind] = (int(red), int(green), int(blue))
    return cells


def test_the_endpoint_is_read_without_its_credentials() -> None:
    endpoint = RemoteEndpoint.parse("https://robot:s%3Acret@grid.example:4444/wd/hub/")
    assert (endpoint.url, endpoint.host, endpoint.port) == ("https://grid.example:4444/wd/hub", "grid.example", 4444)
    assert (endpoint.username, endpoint.password) == ("robot", "s:cret")
    assert endpoint.headers()["Authorization"] == "Basic cm9ib3Q6czpjcmV0"
    assert RemoteEndpoint.parse("http://127.0.0.1:9515").on_loopback
    assert not RemoteEndpoint.parse("http://grid:4444").on_loopback
    # A ChromeDriver names its own loopback in the BiDi URL; from here that is the endpoint's host and port.
    reported = "ws://127.0.0.1:9515/session/abc"
    assert RemoteEndpoint.parse("https://node.example:9515").websocket_url(reported) == (
        "wss://node.example:9515/session/abc"
    )
    assert RemoteEndpoint.parse("http://127.0.0.1:9515").websocket_url(reported) == reported
    assert RemoteEndpoint.parse("http://grid:4444").websocket_url("ws://grid:4444/session/abc/se/bidi") == (
        "ws://grid:4444/session/abc/se/bidi"
    )
    for bad in ("grid:4444", "ftp://grid/", "http://:4444", "http://grid:99999", "http://grid/?x=1"):
        with pytest.raises(SettingsError, match="capture.grid_url") as refused:
            CaptureSettings(grid_url=bad)
        assert bad not in str(refused.value)
    # A page trusted with the grid's network could drive its browsers; on loopback the registry guards it.
    with pytest.raises(SettingsError, match="capture.trusted_networks"):
        CaptureSettings(grid_url="http://10.0.6.5:4444", trusted_networks=("10.0.0.0/8",))
    assert CaptureSettings(grid_url="http://127.0.0.1:9515", trusted_networks=("127.0.0.1/32",)).grid_url
    # The URL may carry the grid's password: the settings never show it.
    assert "s%3Acret" not in repr(CaptureSettings(grid_url="https://robot:s%3Acret@grid.example:4444"))


@pytest.mark.browser
@pytest.mark.integration
@pytest.mark.anyio
async def test_captures_on_a_remote_endpoint_are_isolated_and_proxied(
    service: CaptureService, remote: RemoteChromeDriver, site: TestSite, canary: Canary
) -> None:
    png = await service.capture(site.url("/simple.html"), CaptureOptions())
    assert png.startswith(PNG)
    # Browser-level DevTools go through ChromeDriver's own BiDi websocket, as they must from another machine.
    assert service._pool is not None
    assert await service._pool.run(lambda browser, _: isinstance(browser._cdp, BidiCdpConnection))
    # The browser is the endpoint's: none of the service's own, one Chromium under the remote ChromeDriver.
    assert service.process_ids() == []
    assert remote.browsers() != []

    # Each capture gets a fresh context: the state one page writes, the next one does not find.
    written = await service.capture(site.url("/set-state.html"), parse_capture_options([("wait", "#done")]))
    assert state_cells(written) == dict.fromkeys(STATE_KINDS, (255, 0, 0))
    read = await service.capture(site.url("/read-state.html"), parse_capture_options([("wait", "#done")]))
    assert state_cells(read) == dict.fromkeys(STATE_KINDS, (0, 255, 0))

    # Egress goes through the service's proxy, which still applies the SSRF rules: zero canary hits.
    refused_before = service.egress_refusals
    await service.capture(site.url(f"/ssrf.html?canary={canary.address}"), parse_capture_options([("wait", "#done")]))
    assert canary.hits == 0
    assert service.egress_refusals - refused_before >= 10

    # The endpoint and its browser's DevTools are machinery: on a loopback the pages are trusted with,
    # neither the page URL nor a redirect from an allowed page reaches them.
    registered = [ports for ports in MachineryPorts().entries().values() if "webdriver" in ports]
    assert [ports["webdriver"] for ports in registered] == [remote.port]
    for port in registered[0].values():
        with pytest.raises(BlockedAddress):
            await service.capture(f"http://127.0.0.1:{port}/status", CaptureOptions())
        before = service.egress_refusals
        target = quote(f"http://127.0.0.1:{port}/json/version", safe="")
        with pytest.raises(OriginError):
            await service.capture(site.url(f"/redirect?to={target}"), CaptureOptions())
        assert service.egress_refusals > before


@pytest.mark.browser
@pytest.mark.integration
def test_the_gateway_recovers_when_the_remote_end_dies_and_returns(
    tmp_path: Path, remote: RemoteChromeDriver, site: TestSite
) -> None:
    gateway = GatewayProcess(
        tmp_path / "data",
        capture_grid_url=remote.url,
        capture_trusted_networks="127.0.0.1/32",
        capture_timeout="15",
    )
    gateway.add_workspace(Workspace(namespace="shots", allowed_capture_domains=(site.origin.removeprefix("http://"),)))

    def capture() -> httpx.Response:
        # A page URL of its own each time: the gateway keeps what it captured, and would answer from that.
        page = quote(site.url(f"/simple.html?n={uuid.uuid4().hex[:8]}"), safe="")
        return httpx.get(f"{gateway.url}/shots/?capture={page}&fm=png", timeout=60)

    with gateway:
        first = capture()
        assert first.status_code == 200, first.text
        assert first.content.startswith(PNG)
        assert remote.browsers() != []

        # ChromeDriver alone dies (its Chromium lives on, as on a node whose driver crashed). Not a 502, not a 500:
        # every capture while the end is down is 503 CAPTURE_UNAVAILABLE, and answered without delay.
        remote.kill_driver_only()
        deadline = time.monotonic() + 4
        answers = []
        while time.monotonic() < deadline:
            started = time.monotonic()
            answer = capture()
            answers.append((answer.status_code, answer.json()["error"]["code"], time.monotonic() - started))
        assert len(answers) >= 2
        assert {(status, code) for status, code, _ in answers} == {(503, "CAPTURE_UNAVAILABLE")}
        assert sorted(seconds for _, _, seconds in answers)[len(answers) // 2] < 2.0

        # The endpoint comes back (its old browser gone with its machine): captures work again, same gateway.
        remote.kill_everything()
        remote.start()
        came_back = time.monotonic()
        recovered = capture()
        while recovered.status_code == 503 and time.monotonic() < came_back + 60:
            time.sleep(0.5)
            recovered = capture()
        assert recovered.status_code == 200, recovered.text
        assert recovered.content.startswith(PNG)
        assert remote.browsers() != []
    # The log says what failed, never where: the endpoint's address is internal information.
    assert f"127.0.0.1:{remote.port}" not in gateway.log_path.read_text()
