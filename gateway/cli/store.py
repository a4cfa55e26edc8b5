"""``imgate store migrate --from sqlite --to postgres|dynamodb``: move an install's account data to another store.

Copies every table of the SQLite account file (``database``, or ``--sqlite``) into the PostgreSQL database of
``database_url`` (or ``--database-url``), one line per table with its counts. Idempotent and resumable (a
second run adds only what is missing) and checked: it fails when a table's counts differ afterwards. Then set
``account_store = "postgres"`` and start the gateway. See ``gateway.accounts.postgres_copy``.

``--to dynamodb`` copies every record into the table of ``dynamodb_table`` (or ``--dynamodb-table``), with
``dynamodb_region`` and ``dynamodb_endpoint``, one line per kind of record, the same way: idempotent, resumable,
counts checked. Then set ``account_store = "dynamodb"``. See ``gateway.accounts.dynamodb_copy``.
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
    migrate = actions.add_parser("migrate", help="copy the SQLite account file to PostgreSQL or DynamoDB (idempotent)")
    migrate.add_argument("--from", dest="source", choices=("sqlite",), required=True)
    migrate.add_argument("--to", dest="target", choices=("postgres", "dynamodb"), required=True)
    migrate.add_argument("--sqlite", type=Path, help="the SQLite file (default: the database setting's)")
    migrate.add_argument("--database-url", help="the PostgreSQL DSN (default: the database_url setting)")
    migrate.add_argument("--dynamodb-table", help="the DynamoDB table (default: the dynamodb_table setting)")
    migrate.set_defaults(handler=_migrate)


async def _migrate(args: argparse.Namespace, ctx: AdminContext) -> int:
    if args.target == "dynamodb":
        return await _migrate_to_dynamodb(args, ctx)
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


async def _migrate_to_dynamodb(args: argparse.Namespace, ctx: AdminContext) -> int:
    # Imported here: only this command needs boto3 when the configured store is another one.
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    from gateway.accounts.dynamodb_copy import CopyError, KindCopy, copy_sqlite_to_dynamodb

    settings = ctx.settings
    table = args.dynamodb_table or settings.dynamodb_table
    if not table:
        raise CommandError("no DynamoDB table: set dynamodb_table (IMGATE_DYNAMODB_TABLE) or pass --dynamodb-table")
    path = args.sqlite or settings.database_path

    def show(copy: KindCopy) -> None:
        print(f"{copy.kind}\t{copy.source_records} in sqlite\t{copy.copied} copied\t{copy.target_records} in dynamodb")

    try:
        done = await asyncio.to_thread(
            copy_sqlite_to_dynamodb,
            path,
            table,
            region=settings.dynamodb_region,
            endpoint_url=settings.dynamodb_endpoint,
            create_table=settings.dynamodb_create_table,
            audit_retention_days=settings.audit_retention_days,
            progress=show,
        )
    except CopyError as exc:
        raise CommandError(str(exc)) from None
    except (BotoCoreError, ClientError) as exc:
        # Not the client's message: it can name the endpoint, and credentials come from the environment.
        raise CommandError(f"DynamoDB refused or could not be reached ({type(exc).__name__})") from None
    records = sum(copy.source_records for copy in done)
    print(f"copied: {len(done)} kinds, {records} records, every count checked")
    return 0
