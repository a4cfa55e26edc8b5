"""The node-wide registry of capture machinery ports: what no captured page may ever reach.

Every Granian worker runs its own egress proxy and its own browsers, each ChromeDriver and each DevTools
endpoint on a loopback port. A page that could reach any of them could drive a browser (navigate it,
read its session, its pages and its profile folder), and a page that could reach the gateway's own port
could make it capture itself. Knowing only its own worker's ports, a proxy cannot refuse another
worker's, so every port of this node's capture machinery is written here and every proxy refuses all of
them on every address of this machine:

- before it listens: ChromeDriver's and DevTools' ports are chosen here (``free_port``) and handed to
  them, and the proxy binds its sockets, registers them, and only then listens, so there is no moment
  when one of them accepts connections unregistered;
- until it is gone: a browser's entry is removed only after its processes are killed, and an entry
  left by a process that died is dropped only once nothing listens on its ports any more.

Why a registry, and not only trusting less: the egress proxy uses ``[capture] trusted_networks`` (empty
by default) instead of the gateway's ``trusted_networks``, so in production no page reaches loopback at
all and this registry is a second wall. It matters where captures must reach a development server on
loopback: there the machinery shares the trusted network with the pages, and only ports tell them apart.
ChromeDriver's own ``--allowed-ips`` and ``--allowed-origins`` do not help here: the proxy's connections
come from loopback, which ChromeDriver always allows, and ChromeDriver accepts every loopback ``Origin``
(a page served from a trusted loopback site is one), whatever ``--allowed-origins`` lists; DevTools'
HTTP endpoints have no such switch at all.

Layout: one JSON file per owner, ``<pid>-<name>.json`` in ``directory`` (``<data_dir>/run/capture-ports``
for the gateway: the workers share the data folder), holding ``{"pid": 123, "ports": {"chromedriver":
40001, "devtools": 40002}}``. Written under a temporary name and renamed, so a reader sees a whole file
or none. Read in full on every check (a few small files, and only for connections to this machine's own
addresses): a cache could miss a port registered a moment ago. A file whose process is gone and whose
ports are all free again is stale, and the next reader removes it. Without a directory (a service started
alone, in tests or the bench), the registry is this process's: every service in the process shares it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import threading
from collections.abc import Mapping
from pathlib import Path

_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
_IN_PROCESS: dict[str, dict[str, int]] = {}
_IN_PROCESS_LOCK = threading.Lock()


class MachineryPorts:
    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory

    @property
    def directory(self) -> Path | None:
        return self._directory

    def register(self, name: str, ports: Mapping[str, int]) -> None:
        """Record (or replace) the ports of ``name``, an owner in this process: ``{"devtools": 40002}``."""
        if _NAME.fullmatch(name) is None:
            raise ValueError("a machinery owner's name is letters, digits, '.', '_' and '-'")
        entry = {label: int(port) for label, port in ports.items()}
        if self._directory is None:
            with _IN_PROCESS_LOCK:
                _IN_PROCESS[name] = entry
            return
        self._directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        final = self._directory / f"{os.getpid()}-{name}.json"
        partial = final.with_name(f".{final.name}.{threading.get_ident()}.partial")
        partial.write_text(json.dumps({"pid": os.getpid(), "ports": entry}))
        os.replace(partial, final)

    def unregister(self, name: str) -> None:
        if self._directory is None:
            with _IN_PROCESS_LOCK:
                _IN_PROCESS.pop(name, None)
            return
        with contextlib.suppress(FileNotFoundError):
            (self._directory / f"{os.getpid()}-{name}.json").unlink()

    def entries(self) -> dict[str, dict[str, int]]:
        """Every live owner on the node (``<pid>-<name>``, or ``<name>`` in process) and its labelled ports."""
        if self._directory is None:
            with _IN_PROCESS_LOCK:
                return {name: dict(ports) for name, ports in _IN_PROCESS.items()}
        found: dict[str, dict[str, int]] = {}
        try:
            files = [path for path in self._directory.iterdir() if path.suffix == ".json"]
        except FileNotFoundError:
            return found
        for path in files:
            entry = _read_entry(path)
            if entry is not None:
                found[path.stem] = entry
        return found

    def ports(self) -> frozenset[int]:
        return frozenset(port for ports in self.entries().values() for port in ports.values())


def _read_entry(path: Path) -> dict[str, int] | None:
    try:
        data = json.loads(path.read_text())
        pid = int(data["pid"])
        ports = {str(label): int(port) for label, port in data["ports"].items()}
    except FileNotFoundError:
        return None  # its owner just removed it
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # not written by a registry: they are renamed into place whole
    # Its process may be gone while a browser it started still listens (a worker killed outright leaves its
    # ChromeDriver running): an entry is stale only once nothing listens on any of its ports either.
    if not _alive(pid) and not any(_listening(port) for port in ports.values()):
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    return ports


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def _listening(port: int) -> bool:
    """Whether something holds ``port`` on IPv4 loopback (where the machinery listens): we cannot bind it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on ``host`` right now, for a process that will listen on it (ChromeDriver, DevTools)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port
