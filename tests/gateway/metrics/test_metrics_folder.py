"""The metric files' folder: one per serving process, and a new server never deletes a running one's files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gateway.cli.metrics_folder import fresh_multiprocess_directory


def test_a_second_server_on_the_port_keeps_the_running_servers_files(tmp_path: Path) -> None:
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        first = fresh_multiprocess_directory(tmp_path, 8080, pid=running.pid)
        (first / "counter_1.db").write_bytes(b"counts")
        second = fresh_multiprocess_directory(tmp_path, 8080)
        assert second != first
        assert (first / "counter_1.db").read_bytes() == b"counts"
        assert list(second.iterdir()) == []
    finally:
        running.kill()
        running.wait()


def test_folders_of_servers_that_are_gone_are_removed(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    old = fresh_multiprocess_directory(tmp_path, 8080, pid=gone.pid)
    (old / "counter_1.db").write_bytes(b"stale")
    (old.parent / "not-a-pid").mkdir()
    fresh = fresh_multiprocess_directory(tmp_path, 8080)
    assert fresh.name == str(os.getpid())
    assert sorted(p.name for p in fresh.parent.iterdir()) == [str(os.getpid())]
