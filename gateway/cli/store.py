"""``imgate store migrate --from sqlite --to postgres``: move an install's account data into PostgreSQL.

Copies every table of the SQLite account file (``database``, or ``--sqlite``) into the PostgreSQL database of
``database_url`` (or ``--database-url``), one line per table with its counts. Idempotent and resumable (a
second run adds only what is missing) and checked: it fails when a table's counts differ afterwards. Then set
``account_store = "postgres"`` and start the gateway. See ``gateway.accounts.postgres_copy``.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from gateway.admin import AdminContext
from gateway.cli.args import CommandError


def register(commands: Any) -> None:
    store = commands.add_parser("store", help="the account store: move its data to another backend")
    actions = store.add_subparsers(dest="action", required=True)
    migrate = actions.add_parser("migrate", help="copy the SQLite account file into PostgreSQL (idempotent)")
    migrate.add_argument("--from", dest="source", choices=("sqlite",), required=True)
    migrate.add_argument("--to", dest="target", choices=("postgres",), required=True)
    migrate.add_argument("--sqlite", type=Path, help="the SQLite file (default: the database setting's)")
    migrate.add_argument("--database-url", help="the PostgreSQL DSN (default: the database_url setting)")
    migrate.set_defaults(handler=_migrate)


async def _migrate(args: argparse.Namespace, ctx: AdminContext) -> int:
    # Imported here: only this command needs psycopg when the configured store is SQLite.
    import psycopg
    import psycopg_pool

    from gateway.accounts.postgres_copy import CopyError, TableCopy, copy_sqlite_to_postgres

    dsn = args.database_url or ctx.settings.database_url
    if not dsn:
        raise CommandError("no PostgreSQL database: set database_url (IMGATE_DATABASE_URL) or pass --database-url")
    path = args.sqlite or ctx.settings.database_path

    def show(copy: TableCopy) -> None:
        print(f"{copy.table}\t{copy.source_rows} in sqlite\t{copy.copied} copied\t{copy.target_rows} in postgres")

    try:
        done = await asyncio.to_thread(copy_sqlite_to_postgres, path, dsn, progress=show)
    except CopyError as exc:
        raise CommandError(str(exc)) from None
    except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
        # Not the driver's message: it names the server's address, and the DSN may hold a password.
        raise CommandError(f"PostgreSQL refused or could not be reached ({type(exc).__name__})") from None
    rows = sum(copy.source_rows for copy in done)
    print(f"copied: {len(done)} tables, {rows} rows, every count checked")
    return 0
