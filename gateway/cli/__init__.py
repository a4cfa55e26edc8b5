"""The ``imgate`` command: a thin adapter over the admin layer."""

from gateway.cli.main import main

__all__ = ["main"]
