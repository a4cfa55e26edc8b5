from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.capture.procs import TAG_VARIABLE, find_processes, kill_processes
from tests.gateway.capture.conftest import tagged_live_processes

pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")

# A parent with a child in its group and a grandchild that leaves the group (as Chromium's crash handler
# does), all carrying the tag; each sleeps until killed.
_TREE = """
import os, subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
time.sleep(60)
"""


@pytest.fixture
def tree() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    tag = f"test-{uuid.uuid4().hex[:12]}"
    process = subprocess.Popen(
        [sys.executable, "-c", _TREE], env={**os.environ, TAG_VARIABLE: f"{tag}.1"}, start_new_session=True
    )
    yield tag, process
    kill_processes(tag, [process.pid])
    process.wait()


def _wait_for_count(tag: str, count: int) -> list[int]:
    """The tree starts (and dies) in steps; give it a moment (an upper bound, never asserted)."""
    for _ in range(250):
        found = find_processes(tag)
        if len(found) == count:
            return found
        time.sleep(0.02)
    return find_processes(tag)


def test_finds_the_whole_tree_even_outside_the_group(tree: tuple[str, subprocess.Popen[bytes]]) -> None:
    tag, process = tree
    found = _wait_for_count(tag, 3)
    assert len(found) == 3
    assert process.pid in found
    assert os.getpid() not in found
    assert find_processes(f"{tag}.1") == found  # the browser's own tag finds the same
    assert find_processes(f"{tag}.2") == []
    assert find_processes(f"other-{tag}") == []
    assert tagged_live_processes(tag) == found


def test_kills_the_whole_tree(tree: tuple[str, subprocess.Popen[bytes]]) -> None:
    tag, process = tree
    assert len(_wait_for_count(tag, 3)) == 3
    assert kill_processes(tag, [process.pid]) >= 1
    process.wait(timeout=10)
    assert _wait_for_count(tag, 0) == []
