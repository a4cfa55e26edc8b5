"""The ``imgate`` command: parse, call the admin layer, print. ``serve`` runs the gateway.

Every failure is one ``error: …`` line on stderr and a non-zero exit status, never a traceback: 2 for a usage
mistake or invalid settings, 1 for anything an operation refused, 130 when interrupted. Warnings are
``warning: …`` lines. ``--traceback`` shows the traceback of an unexpected error, for a bug report.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from gateway.admin import AdminContext, AdminError
from gateway.cli import audit as cli_audit
from gateway.cli import data as cli_data
from gateway.cli import domains as cli_domains
from gateway.cli import keys as cli_keys
from gateway.cli import marks as cli_marks
from gateway.cli import members as cli_members
from gateway.cli import presets as cli_presets
from gateway.cli import signin as cli_signin
from gateway.cli import signing as cli_signing
from gateway.cli import store as cli_store
from gateway.cli import usage as cli_usage
from gateway.cli import workspaces as cli_workspaces
from gateway.cli.args import ArgumentParser, CommandError
from gateway.cli.serve import serve
from gateway.errors import GatewayError
from gateway.settings import Settings, SettingsError, load_settings

Handler = Callable[[argparse.Namespace, AdminContext], Awaitable[int]]


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="imgate", description="imgate image gateway")
    parser.add_argument("--traceback", action="store_true", help="show the traceback of an unexpected error")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("serve", help="serve HTTP with Granian")
    run.add_argument("--host")
    run.add_argument("--port", type=int)
    run.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    run.add_argument(
        "--reuse-port",
        action="store_true",
        help="start even when another server listens on the port, and share its connections (off by default)",
    )
    cli_workspaces.register(commands)
    cli_marks.register(commands)
    cli_keys.register(commands)
    cli_members.register(commands)
    cli_signing.register(commands)
    cli_presets.register(commands)
    cli_audit.register(commands)
    cli_signin.register(commands)
    cli_usage.register(commands)
    cli_data.register(commands)
    cli_domains.register(commands)
    cli_store.register(commands)
    return parser


class _PlainFormatter(logging.Formatter):
    """``warning: …`` lines, like the command's own ``error: …`` lines."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


def _log_to_stderr() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PlainFormatter())
    logging.basicConfig(level=logging.WARNING, handlers=[handler])


def _fail(message: str, status: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status


async def _run(handler: Handler, args: argparse.Namespace, settings: Settings) -> int:
    async with AdminContext.open(settings) as ctx:
        return await handler(args, ctx)


def _dispatch(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    if args.command == "serve":
        overrides = {k: v for k in ("host", "port", "workers") if (v := getattr(args, k)) is not None}
    try:
        settings = load_settings(**overrides)
    except SettingsError as exc:
        return _fail(f"invalid settings: {exc}", 2)
    if args.command == "serve":
        serve(settings, overrides, reuse_port=args.reuse_port)
        return 0
    _log_to_stderr()
    return asyncio.run(_run(args.handler, args, settings))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except (AdminError, GatewayError) as exc:
        return _fail(exc.message)
    except (CommandError, SettingsError) as exc:
        return _fail(str(exc), 2 if isinstance(exc, SettingsError) else 1)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        return _fail(f"{exc.strerror or type(exc).__name__}{where}")
    except sqlite3.Error as exc:
        return _fail(f"account store: {exc}")
    except Exception as exc:
        # PostgreSQL's errors by their module (psycopg is imported only with that store); the driver's message
        # names the server's address, so only the kind of error is shown.
        if type(exc).__module__.startswith("psycopg") and not args.traceback:
            return _fail(f"account store: PostgreSQL refused or could not be reached ({type(exc).__name__})")
        if args.traceback:
            raise
        return _fail(f"unexpected {type(exc).__name__}; run again with --traceback for the details")
