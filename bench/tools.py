"""External programs the bench needs, and what to install when one is missing."""

from __future__ import annotations

import shutil

from bench.errors import BenchError

# Debian package for each program, for the message a missing one produces.
_PACKAGES = {"wrk": "wrk", "nginx": "nginx-light", "python3": "python3-venv"}


def require_tool(name: str) -> str:
    # nginx lives in /usr/sbin, which a non-root PATH often lacks.
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        package = _PACKAGES.get(name, name)
        raise BenchError(f"`{name}` not found: install it with `sudo apt-get install {package}`")
    return found


def check_tools() -> list[str]:
    """Messages for every missing program (empty when all are there), checked before any run."""
    problems: list[str] = []
    for name in _PACKAGES:
        try:
            require_tool(name)
        except BenchError as error:
            problems.append(str(error))
    return problems
