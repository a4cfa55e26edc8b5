"""The one gateway launcher the tests and the bench share: it starts, answers, and leaves nothing behind."""

from __future__ import annotations

import socket
import time
import urllib.request
from pathlib import Path

import pytest

from loopback.gateway import GatewayProcess
from loopback.ports import free_port
from loopback.processes import StartError

pytestmark = pytest.mark.integration


def _live_members(pgid: int) -> list[int]:
    """Processes of group ``pgid`` that still run, read from /proc (a zombie waiting for init is not running)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, _parent, group = stat[stat.rfind(")") + 2 :].split()[:3]
        if int(group) == pgid and state != "Z":
            members.append(int(entry.name))
    return members


def test_a_free_port_refuses_connections() -> None:
    port = free_port()
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("127.0.0.1", port))


def test_a_gateway_answers_on_its_port_and_stops_with_its_workers(tmp_path: Path) -> None:
    gateway = GatewayProcess(tmp_path / "data", workers=2, settings={"result_store": "none"})
    with gateway:
        assert gateway.alive()
        with urllib.request.urlopen(f"{gateway.url}/_/health", timeout=5) as answer:  # noqa: S310 - loopback
            assert answer.status == 200
        group = gateway.process.pid  # the child leads its own process group
        assert len(_live_members(group)) >= 2, "Granian's parent and its workers"
    assert not gateway.alive()
    # SIGKILL is delivered at once but a process takes a moment to exit: poll briefly.
    deadline = time.monotonic() + 3
    while _live_members(group) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _live_members(group) == [], "Granian's workers outlived the gateway"
    assert gateway.log_path.is_file()
    assert gateway.log_path.parent == tmp_path / "data"


def test_a_gateway_that_cannot_start_says_why_and_leaves_nothing_running(tmp_path: Path) -> None:
    gateway = GatewayProcess(tmp_path / "data", settings={"transform_threads": "0"})
    with pytest.raises(StartError, match="transform_threads"):
        gateway.start(timeout=30)
    assert not gateway.alive()
    with pytest.raises(RuntimeError, match="has not been started"):
        _ = gateway.process
