"""Memory and CPU accounting read from /proc for real process trees."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from bench.cpu import ForeignCpuMeter
from bench.rss import PeakRssSampler, process_tree, rss_bytes, tree_rss_bytes

# A parent that starts a child holding 64 MiB of written pages; the child says "ready" on the shared
# stdout once they are resident; then both wait to be killed.
_CHILD = "import time; b = b'x' * (64 << 20); print('ready', flush=True); time.sleep(60)"
_PARENT = (
    "import subprocess, sys, time;"
    f"child = subprocess.Popen([sys.executable, '-c', {_CHILD!r}]);"
    "print(child.pid, flush=True); time.sleep(60)"
)


@pytest.fixture
def tree() -> Iterator[tuple[int, int]]:
    parent = subprocess.Popen([sys.executable, "-c", _PARENT], stdout=subprocess.PIPE, text=True)
    child = 0
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert parent.stdout.readline().strip() == "ready"
        yield parent.pid, child
    finally:
        if child:
            os.kill(child, signal.SIGKILL)
        parent.kill()
        parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()


def test_the_tree_includes_grandchildren_and_their_memory(tree: tuple[int, int]) -> None:
    parent, child = tree
    assert process_tree(parent) == [parent, child]
    # Interpreters still settling may move a few pages between the readings.
    assert tree_rss_bytes([parent]) >= rss_bytes(child) + rss_bytes(parent) - (1 << 20)
    assert tree_rss_bytes([parent]) >= 64 << 20


def test_the_sampler_reports_the_tree_peak(tree: tuple[int, int]) -> None:
    parent, _ = tree
    with PeakRssSampler([parent]) as sampler:
        time.sleep(0.3)
    assert sampler.samples >= 1
    assert sampler.peak_bytes >= 64 << 20


def test_a_dead_process_has_no_tree() -> None:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    assert process_tree(finished.pid) == []


def test_cpu_used_by_a_program_outside_the_bench_is_seen() -> None:
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        with ForeignCpuMeter([]) as meter:
            time.sleep(1.0)
    finally:
        spinner.kill()
        spinner.wait()
    # One spinning process on this machine's cores; the harness itself slept.
    assert meter.share > 0.05
