"""The ``imgate`` command: ``serve``, ``workspace …``, ``purge``."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gateway.accounts.keyring import secret_box
from gateway.accounts.models import ORIGIN_KINDS, PLANS, PurgeMarker, Workspace
from gateway.accounts.secrets import SecretBox
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.accounts.store import AccountStore, WorkspaceExists
from gateway.cache.keys import key_prefix
from gateway.cache.results import ResultStore
from gateway.cli import marks as cli_marks
from gateway.cli.marks import comma_list
from gateway.errors import GatewayError
from gateway.policy import WorkspacePolicy
from gateway.settings import REPO_ROOT, Settings, SettingsError, load_settings
from gateway.sources.base import Source

# Purge markers older than this are dropped: by then every memory tier entry they could cover has expired
# or been evicted many times over, and a stale marker only costs a transform.
_PURGE_MARKERS_KEPT = 50


def _origin_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--origin", choices=ORIGIN_KINDS, help="kind of storage holding the originals")
    parser.add_argument("--root", help="local: folder of the originals")
    parser.add_argument("--base-url", help="http: URL prefix the image key is appended to")
    parser.add_argument("--bucket", help="s3: bucket name")
    parser.add_argument("--prefix", help="s3: key prefix inside the bucket (a folder)")
    parser.add_argument("--region", help="s3: region (R2: auto)")
    parser.add_argument("--endpoint", help="s3: endpoint URL for R2, MinIO and other S3-compatible stores")
    parser.add_argument("--addressing-style", choices=("auto", "path", "virtual"), help="s3: URL style")
    parser.add_argument(
        "--access-key-id",
        help=f"s3: access key id; the secret is read from ${SECRET_ENV} or prompted for, never from arguments",
    )
    parser.add_argument("--allowed-origins", type=comma_list, help="CORS origins, comma-separated ('*' = any)")
    parser.add_argument("--allowed-sources", type=comma_list, help="hosts allowed for ?src=, comma-separated")
    parser.add_argument("--capture-domains", type=comma_list, help="hosts allowed for ?capture=, comma-separated")
    parser.add_argument("--retention", type=int, help="seconds a capture is kept in the caches (0 = none)")
    parser.add_argument("--plan", choices=PLANS)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="imgate", description="imgate image gateway")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve HTTP with Granian")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, help="worker processes (default: one per core)")

    workspace = commands.add_parser("workspace", help="manage workspaces")
    ws_commands = workspace.add_subparsers(dest="action", required=True)
    create = ws_commands.add_parser("create")
    create.add_argument("namespace")
    _origin_arguments(create)
    ws_commands.add_parser("list")
    show = ws_commands.add_parser("show")
    show.add_argument("namespace")
    update = ws_commands.add_parser("update")
    update.add_argument("namespace")
    _origin_arguments(update)
    state = update.add_mutually_exclusive_group()
    state.add_argument("--activate", dest="active", action="store_const", const=True)
    state.add_argument("--deactivate", dest="active", action="store_const", const=False)
    check = ws_commands.add_parser("check", help="fetch one key from the origin and say what is wrong, if anything")
    check.add_argument("namespace")
    check.add_argument("--key", help="the key to read (s3: default, the first object under the prefix)")
    delete = ws_commands.add_parser("delete")
    delete.add_argument("namespace")

    cli_marks.register(commands)
    commands.add_parser("demo", help="create or refresh the demo workspace and print example URLs")

    purge = commands.add_parser("purge", help="drop cached outputs of a workspace, or of a key prefix in it")
    purge.add_argument("namespace")
    purge.add_argument("prefix", nargs="?", default="")
    return parser


SECRET_ENV = "IMGATE_ORIGIN_SECRET_ACCESS_KEY"  # noqa: S105 - the variable name, not a secret
_S3_FIELDS = (
    ("bucket", "bucket"),
    ("prefix", "prefix"),
    ("region", "region"),
    ("endpoint", "endpoint_url"),
    ("addressing_style", "addressing_style"),
    ("access_key_id", "access_key_id"),
)


def _read_secret() -> str:
    secret = os.environ.get(SECRET_ENV)
    if secret:
        return secret
    if not sys.stdin.isatty():
        raise SystemExit(f"error: set {SECRET_ENV} to give the secret access key (it is never read from arguments)")
    return getpass.getpass("secret access key: ")


def _s3_origin(args: argparse.Namespace, origin: dict[str, str]) -> dict[str, str]:
    for arg, field in _S3_FIELDS:
        value = getattr(args, arg, None)
        if value is not None:
            if value:
                origin[field] = value
            else:
                origin.pop(field, None)
    if "bucket" not in origin:
        raise SystemExit("error: --bucket is required for an s3 origin")
    from gateway.sources.s3 import S3OriginSettings

    try:
        # Shape check only: the real secret is sealed separately and never passes through here.
        S3OriginSettings.from_origin(origin, "placeholder" if origin.get("access_key_id") else None)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    return origin


def _origin_from_args(args: argparse.Namespace, current: Workspace | None) -> tuple[str, dict[str, str]]:
    kind = args.origin or (current.origin_kind if current else "none")
    origin = dict(current.origin) if current and kind == current.origin_kind else {}
    if kind == "local":
        if args.root:
            origin = {"root": str(Path(args.root).resolve())}
        if "root" not in origin:
            raise SystemExit("error: --root is required for a local origin")
        if not Path(origin["root"]).is_dir():
            raise SystemExit(f"error: --root {origin['root']} is not a folder")
    elif kind == "http":
        if args.base_url:
            if not args.base_url.startswith(("http://", "https://")):
                raise SystemExit("error: --base-url must start with http:// or https://")
            origin = {"base_url": args.base_url}
        if "base_url" not in origin:
            raise SystemExit("error: --base-url is required for an http origin")
    elif kind == "s3":
        origin = _s3_origin(args, origin)
    elif kind == "none":
        origin = {}
    return kind, origin


def _apply(args: argparse.Namespace, workspace: Workspace, secrets: SecretBox) -> Workspace:
    kind, origin = _origin_from_args(args, workspace)
    changes: dict[str, Any] = {"origin_kind": kind, "origin": origin}
    if kind != "s3":
        changes["origin_secret_sealed"] = ""
    elif getattr(args, "access_key_id", None):
        # A new access key always comes with its secret; sealed here, it is never stored or shown in clear.
        changes["origin_secret_sealed"] = secrets.seal(_read_secret())
    for arg, field in (
        ("allowed_origins", "allowed_origins"),
        ("allowed_sources", "allowed_sources"),
        ("capture_domains", "allowed_capture_domains"),
        ("retention", "capture_retention"),
        ("plan", "plan"),
        ("active", "active"),
    ):
        value = getattr(args, arg, None)
        if value is not None:
            changes[field] = value
    updated = dataclasses.replace(workspace, **changes)
    # Refuse a pattern that does not compile here, where the owner can fix it, not at request time.
    WorkspacePolicy.compile(updated.allowed_origins, updated.allowed_sources, updated.allowed_capture_domains)
    return updated


def describe(workspace: Workspace) -> dict[str, Any]:
    """The workspace as shown to an operator: never the sealed secret, only whether one is set."""
    return {
        "namespace": workspace.namespace,
        "active": workspace.active,
        "origin": {"kind": workspace.origin_kind, **workspace.origin},
        "origin_secret_set": bool(workspace.origin_secret_sealed),
        "allowed_origins": list(workspace.allowed_origins),
        "allowed_sources": list(workspace.allowed_sources),
        "allowed_capture_domains": list(workspace.allowed_capture_domains),
        "capture_retention": workspace.capture_retention,
        "plan": workspace.plan,
        "revision": workspace.revision,
    }


def _workspace_command(args: argparse.Namespace, store: AccountStore, settings: Settings) -> int:
    if args.action == "list":
        for ws in store.list_workspaces():
            print(f"{ws.namespace}\t{'active' if ws.active else 'inactive'}\t{ws.origin_kind}\t{ws.plan}")
        return 0
    if args.action == "create":
        try:
            workspace = _apply(args, Workspace(namespace=args.namespace), secret_box(settings))
        except ValueError as exc:
            raise SystemExit(f"error: {exc}") from None
        try:
            stored = store.create_workspace(workspace)
        except WorkspaceExists:
            raise SystemExit(f"error: workspace {args.namespace} already exists") from None
        print(json.dumps(describe(stored), indent=2))
        return 0
    current = store.get_workspace(args.namespace)
    if current is None:
        raise SystemExit(f"error: no workspace {args.namespace}")
    if args.action == "show":
        print(json.dumps(describe(current), indent=2))
    elif args.action == "update":
        try:
            updated = store.update_workspace(_apply(args, current, secret_box(settings)))
        except ValueError as exc:
            raise SystemExit(f"error: {exc}") from None
        print(json.dumps(describe(updated), indent=2))
    elif args.action == "check":
        return check_origin(settings, current, args.key)
    elif args.action == "delete":
        store.delete_workspace(args.namespace)
        print(f"deleted {args.namespace}")
    return 0


def check_origin(settings: Settings, workspace: Workspace, key: str | None) -> int:
    """Plain words on whether the origin works: the operator's first stop when images fail."""
    from gateway.netguard import NetGuard
    from gateway.sources.factory import SourceFactory

    guard = NetGuard(settings.trusted_networks)
    secrets = secret_box(settings)
    if workspace.origin_kind == "s3":
        from gateway.sources.s3 import S3OriginSettings
        from gateway.sources.s3check import diagnose

        secret = secrets.open(workspace.origin_secret_sealed) if workspace.origin_secret_sealed else None
        diagnosis = asyncio.run(diagnose(S3OriginSettings.from_origin(workspace.origin, secret), key, guard=guard))
        for warning in diagnosis.warnings:
            print(f"warning: {warning}")
        print(("ok: " if diagnosis.ok else "problem: ") + diagnosis.message)
        return 0 if diagnosis.ok else 1
    source = SourceFactory(settings, guard, secrets).build(workspace)
    if source is None:
        print("problem: the workspace has no origin configured")
        return 1
    if not key:
        print("problem: give --key to read one image from this origin")
        return 1

    async def fetch(source: Source, key: str) -> int:
        try:
            original = await source.fetch(key)
        finally:
            await source.aclose()
        return len(original.data)

    try:
        size = asyncio.run(fetch(source, key))
    except GatewayError as exc:
        print(f"problem: {exc.code}: {exc.message}")
        return 1
    print(f"ok: read {key} ({size} bytes)")
    return 0


def purge(settings: Settings, store: AccountStore, namespace: str, prefix: str) -> int:
    """Mark outputs stale for every process's memory tier, and delete them from the shared result store."""
    workspace = store.get_workspace(namespace)
    if workspace is None:
        raise SystemExit(f"error: no workspace {namespace}")
    markers = (*workspace.purges, PurgeMarker(prefix, time.time()))[-_PURGE_MARKERS_KEPT:]
    store.update_workspace(dataclasses.replace(workspace, purges=markers))
    from gateway.services import build_result_store

    results = build_result_store(settings)
    if results is None:
        return 0

    async def remove(results: ResultStore) -> int:
        try:
            if prefix:
                return await results.purge(key_prefix(namespace, "o", prefix))
            return await results.purge(key_prefix(namespace, ""))
        finally:
            await results.aclose()

    return asyncio.run(remove(results))


DEMO_ROOT = REPO_ROOT / "config" / "demo" / "images"

DEMO_EXAMPLES = (
    ("a 640 px WebP (or AVIF, by Accept)", "photo-kite.jpg?w=640&auto=format"),
    ("a 400x400 square crop", "photo-path.jpg?w=400&h=400&fit=crop"),
    ("a progressive JPEG thumbnail at 2x", "photo-colorfulcups.jpg?w=300&dpr=2&fm=pjpg&q=70"),
    ("a transparent PNG padded onto a colour", "alpha-elarun.png?w=500&h=500&fit=fill&bg=1e293b&fm=png"),
    ("the photo's metadata and a ThumbHash placeholder", "photo-kite.jpg?fm=json"),
)


def seed_demo(settings: Settings, store: AccountStore) -> None:
    """Create (or re-point) the ``demo`` workspace at the bundled images, then print URLs that work."""
    current = store.get_workspace("demo")
    origin = {"root": str(DEMO_ROOT)}
    if current is None:
        store.create_workspace(Workspace(namespace="demo", origin_kind="local", origin=origin))
    elif current.origin_kind != "local" or dict(current.origin) != origin or not current.active:
        store.update_workspace(dataclasses.replace(current, origin_kind="local", origin=origin, active=True))
    base = settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.port}"
    print("Demo workspace 'demo' serves the images in config/demo/images. Try:")
    for label, path in DEMO_EXAMPLES:
        print(f"  {label}:\n    {base}/demo/{path}")
    print(f"  health: {base}/_/health")


def serve(settings: Settings) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    settings.data_path.mkdir(parents=True, exist_ok=True)
    SqliteAccountStore(settings.database_path).close()  # migrate once, before workers race to do it
    Granian(
        "gateway.app:app_from_environment",
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.worker_count,
        factory=True,
        respawn_failed_workers=True,
        log_access=False,
    ).serve()


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    try:
        overrides: dict[str, Any] = {}
        if args.command == "serve":
            overrides = {k: v for k in ("host", "port", "workers") if (v := getattr(args, k)) is not None}
        settings = load_settings(**overrides)
    except SettingsError as exc:
        print(f"imgate: invalid settings: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        # Worker processes re-read settings from the environment: pass the CLI overrides through it.
        for name, value in overrides.items():
            os.environ["IMGATE_" + name.upper()] = str(value)
        serve(settings)
        return 0
    store = SqliteAccountStore(settings.database_path)
    try:
        if args.command == "workspace":
            return _workspace_command(args, store, settings)
        if args.command in ("mark", "rule"):
            return cli_marks.run(args, store)
        if args.command == "demo":
            seed_demo(settings, store)
            return 0
        if args.command == "purge":
            removed = purge(settings, store, args.namespace, args.prefix)
            print(f"purged {args.namespace}{'/' + args.prefix if args.prefix else ''}: {removed} stored outputs")
            return 0
    finally:
        store.close()
    return 2
