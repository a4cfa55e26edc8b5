from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from gateway.capture import CaptureService, CaptureSettings
from gateway.netguard import NetGuard
from tests.conftest import require
from tests.gateway.capture.testsite import Canary, TestSite, eventually


def require_browser() -> None:
    require(shutil.which("chromedriver") is not None, "chromedriver is not installed")
    require(
        any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")),
        "chromium is not installed",
    )


@asynccontextmanager
async def running(settings: CaptureSettings) -> AsyncIterator[CaptureService]:
    """A started service whose pages may reach the test sites on loopback; no process of it outlives the block."""
    require_browser()
    service = CaptureService(settings, NetGuard(["127.0.0.1/32"]))
    await service.start()
    try:
        yield service
    finally:
        await service.aclose()
        assert await eventually(lambda: tagged_live_processes(service.process_tag) == [])


@pytest.fixture(scope="module")
def site() -> Iterator[TestSite]:
    server = TestSite()
    yield server
    server.close()


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    server = Canary()
    yield server
    server.close()


def tagged_live_processes(tag: str) -> list[int]:
    """Processes carrying ``tag`` in their environment, or in the process group of one that does, read
    straight from /proc: an independent check on what gateway/capture/procs.py claims."""
    proc = Path("/proc")
    marker = f"IMGATE_CAPTURE_TAG={tag}".encode()
    stats: dict[int, tuple[str, int]] = {}
    for entry in proc.iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            fields = text[text.rfind(")") + 2 :].split()
            stats[int(entry.name)] = (fields[0], int(fields[2]))
    tagged: set[int] = set()
    for pid in stats:
        try:
            environ = (proc / str(pid) / "environ").read_bytes()
        except OSError:
            continue
        if any(item.startswith(marker) for item in environ.split(b"\0")):
            tagged.add(pid)
    groups = {stats[pid][1] for pid in tagged}
    return sorted(pid for pid, (state, group) in stats.items() if state != "Z" and (pid in tagged or group in groups))
