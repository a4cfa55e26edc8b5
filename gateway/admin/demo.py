"""The ``demo`` workspace: the bundled sample images, and example URLs that work at once."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.admin.audit import audit_call
from gateway.admin.context import AdminContext
from gateway.admin.errors import NotFound
from gateway.admin.origins import OriginChanges
from gateway.admin.workspaces import (
    WorkspaceChanges,
    WorkspaceView,
    create_workspace,
    load,
    update_workspace,
)
from gateway.settings import REPO_ROOT

DEMO_NAMESPACE = "demo"
DEMO_ROOT = REPO_ROOT / "config" / "demo" / "images"
DEMO_EXAMPLES = (
    ("a 640 px WebP (or AVIF, by Accept)", "photo-kite.jpg?w=640&auto=format"),
    ("a 400x400 square crop", "photo-path.jpg?w=400&h=400&fit=crop"),
    ("a progressive JPEG thumbnail at 2x", "photo-colorfulcups.jpg?w=300&dpr=2&fm=pjpg&q=70"),
    ("a transparent PNG padded onto a colour", "alpha-elarun.png?w=500&h=500&fit=fill&bg=1e293b&fm=png"),
    ("the photo's metadata and a ThumbHash placeholder", "photo-kite.jpg?fm=json"),
)


@dataclass(frozen=True, slots=True)
class DemoExample:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class DemoSeed:
    workspace: WorkspaceView
    examples: tuple[DemoExample, ...]
    health_url: str


async def seed_demo(ctx: AdminContext) -> DemoSeed:
    """Create the ``demo`` workspace, or point it back at the bundled images and activate it."""
    wanted = WorkspaceChanges(origin=OriginChanges(kind="local", root=str(DEMO_ROOT)), active=True)
    async with audit_call(ctx, DEMO_NAMESPACE, "demo.seed"):
        try:
            current = await load(ctx, DEMO_NAMESPACE)
        except NotFound:
            view = await create_workspace(ctx, DEMO_NAMESPACE, wanted)
        else:
            unchanged = current.origin_kind == "local" and dict(current.origin) == {"root": str(DEMO_ROOT)}
            if unchanged and current.active:
                view = WorkspaceView.of(current)
            else:
                view = await update_workspace(ctx, DEMO_NAMESPACE, wanted, revision=current.revision)
    settings = ctx.settings
    base = settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.port}"
    examples = tuple(DemoExample(label, f"{base}/{DEMO_NAMESPACE}/{path}") for label, path in DEMO_EXAMPLES)
    return DemoSeed(view, examples, f"{base}/_/health")
