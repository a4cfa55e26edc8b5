"""The node-wide registry of capture machinery ports, on its own: files in a folder, read by every worker."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.capture.machinery import MachineryPorts, free_port


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(child.stdout)


def test_every_worker_sees_every_workers_ports(tmp_path: Path) -> None:
    # Two registries over one folder stand for two worker processes; a file stands for a third.
    one, two = MachineryPorts(tmp_path), MachineryPorts(tmp_path)
    one.register("browser.1", {"chromedriver": 40001, "devtools": 40002})
    two.register("proxy", {"proxy": 40003})
    (tmp_path / f"{os.getppid()}-browser.7.json").write_text(json.dumps({"pid": os.getppid(), "ports": {"x": 40004}}))
    assert one.ports() == two.ports() == {40001, 40002, 40003, 40004}
    assert one.entries()[f"{os.getpid()}-browser.1"] == {"chromedriver": 40001, "devtools": 40002}
    one.register("browser.1", {"chromedriver": 40011, "devtools": 40012})  # a replaced browser
    two.unregister("proxy")
    assert one.ports() == {40011, 40012, 40004}
    assert not [path for path in tmp_path.iterdir() if not path.name.endswith(".json")]  # no partial files


def test_an_entry_of_a_dead_process_goes_once_nothing_listens_on_its_ports(tmp_path: Path) -> None:
    registry = MachineryPorts(tmp_path)
    pid = dead_pid()
    gone = tmp_path / f"{pid}-browser.1.json"
    gone.write_text(json.dumps({"pid": pid, "ports": {"chromedriver": free_port()}}))
    # A worker killed outright leaves its ChromeDriver running: its port stays refused while it listens.
    with socket.create_server(("127.0.0.1", 0)) as orphan:
        still = tmp_path / f"{pid}-browser.2.json"
        still.write_text(json.dumps({"pid": pid, "ports": {"chromedriver": orphan.getsockname()[1]}}))
        assert registry.ports() == {orphan.getsockname()[1]}
        assert not gone.exists() and still.exists()
    assert registry.ports() == frozenset()
    assert not still.exists()


def test_files_a_registry_did_not_write_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "1-odd.json").write_text("{not json")
    (tmp_path / "notes.txt").write_text("40001")
    assert MachineryPorts(tmp_path).ports() == frozenset()
    assert MachineryPorts(tmp_path / "absent").ports() == frozenset()


def test_without_a_folder_the_registry_is_the_whole_process(tmp_path: Path) -> None:
    first, second = MachineryPorts(), MachineryPorts()
    first.register("test-machinery-a", {"chromedriver": 40021})
    try:
        assert 40021 in second.ports()
        assert 40021 not in MachineryPorts(tmp_path).ports()
    finally:
        second.unregister("test-machinery-a")
    assert 40021 not in first.ports()


@pytest.mark.parametrize("name", ["", "../escape", "a/b", "x" * 101, "sp ace"])
def test_owner_names_cannot_leave_the_folder(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="name"):
        MachineryPorts(tmp_path).register(name, {"proxy": 1})
