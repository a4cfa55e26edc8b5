"""Find and kill every process a browser left, so that no chromium or chromedriver outlives the service.

Two marks find them, because neither is enough alone:

- ChromeDriver starts in a session of its own, so its pid is the process group of Chromium and the
  zygote and renderers under it. A process that calls ``setsid`` leaves the group: Chromium's crash
  handler (``chrome_crashpad_handler``) does, twice per browser.
- ChromeDriver starts with ``IMGATE_CAPTURE_TAG=<tag>`` in its environment, which its children inherit.
  Chromium's zygote overwrites its own environment block (to set process titles), so its children
  carry the group but not the tag.

Reading ``/proc`` makes this Linux only; elsewhere the process group kill is all there is.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gateway.settings import CAPTURE_TAG_VARIABLE

# Named in gateway.settings, with the other IMGATE_* variables that are not settings.
TAG_VARIABLE = CAPTURE_TAG_VARIABLE
_PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class _Process:
    pid: int
    group: int
    zombie: bool


def find_processes(tag: str, groups: Iterable[int] = ()) -> list[int]:
    """Live (not zombie) processes marked with ``tag`` or a tag under it (``tag.N``), plus every process
    in their process groups and in ``groups``. Never this process's own group."""
    marker = f"{TAG_VARIABLE}={tag}".encode()
    own_group = os.getpgrp()
    wanted_groups = set(groups)
    processes = list(_processes())
    for process in processes:
        if not process.zombie and _is_tagged(process.pid, marker):
            wanted_groups.add(process.group)
    wanted_groups.discard(own_group)
    found = {
        process.pid
        for process in processes
        if not process.zombie and (process.group in wanted_groups or _is_tagged(process.pid, marker))
    }
    found.discard(os.getpid())
    return sorted(found)


def kill_processes(tag: str, groups: Iterable[int] = ()) -> int:
    """SIGKILL what ``find_processes`` finds, groups first; return how many processes were signalled."""
    own_group = os.getpgrp()
    for group in set(groups) - {own_group}:
        try:
            os.killpg(group, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    pids = find_processes(tag, groups)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return len(pids)


def _processes() -> Iterable[_Process]:
    if not _PROC.is_dir():
        return
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it exited while we looked
            continue
        # The command name is in parentheses and may itself contain spaces or parentheses.
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) < 3:
            continue
        yield _Process(pid=int(entry.name), group=int(fields[2]), zombie=fields[0] in ("Z", "X"))


def _is_tagged(pid: int, marker: bytes) -> bool:
    try:
        environ = (_PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return False
    return any(entry == marker or entry.startswith(marker + b".") for entry in environ.split(b"\0"))
