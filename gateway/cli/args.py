"""What every ``imgate`` subcommand shares: one-line errors and the argument types."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import NoReturn


class CommandError(Exception):
    """A mistake the command itself found (a file that cannot be read, a missing secret): one ``error:`` line."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one ``error: ...`` line and exit status 2, like every other error."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def comma_list(value: str) -> tuple[str, ...]:
    """An argparse type: ``a, b,,c`` -> ("a", "b", "c")."""
    return tuple(part.strip() for part in value.split(",") if part.strip())


def when(at: float | None, never: str = "never") -> str:
    """A time as ISO 8601 in UTC, to the second; ``never`` for none."""
    if at is None:
        return never
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
