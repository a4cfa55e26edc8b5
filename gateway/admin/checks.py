"""``check_origin``: read one object from a workspace's origin and say in plain words what is wrong, if anything.

The operator's first stop when images fail. A bucket origin gets the bucket diagnostics
(``gateway.sources.s3check``: missing bucket or key, denied, bad key, clock skew, unreachable endpoint); any
other origin is read once through the ``Source`` the request path would use. Messages name what the owner
typed (bucket, prefix, key), never a secret.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.admin.context import AdminContext
from gateway.admin.workspaces import load
from gateway.errors import GatewayError


@dataclass(frozen=True, slots=True)
class OriginCheck:
    ok: bool
    message: str
    warnings: tuple[str, ...] = ()


async def check_origin(ctx: AdminContext, namespace: str, key: str | None = None) -> OriginCheck:
    """Read ``key`` (buckets: by default the first object under the prefix) from the workspace's origin."""
    workspace = await load(ctx, namespace)
    if workspace.origin_kind == "s3":
        from gateway.sources.s3 import S3OriginSettings
        from gateway.sources.s3check import diagnose

        sealed = workspace.origin_secret_sealed
        try:
            settings = S3OriginSettings.from_origin(workspace.origin, ctx.secrets.open(sealed) if sealed else None)
        except ValueError as exc:
            return OriginCheck(False, f"the bucket origin's settings are unusable: {exc}")
        except GatewayError as exc:  # a sealed secret the current secret_key cannot open
            return OriginCheck(False, exc.message)
        diagnosis = await diagnose(settings, key, guard=ctx.guard)
        return OriginCheck(diagnosis.ok, diagnosis.message, tuple(diagnosis.warnings))
    source = ctx.sources(workspace)
    if source is None:
        return OriginCheck(False, "the workspace has no origin configured")
    try:
        if not key:
            return OriginCheck(False, "give a key to read one image from this origin")
        original = await source.fetch(key)
    except GatewayError as exc:
        return OriginCheck(False, f"{exc.code}: {exc.message}")
    finally:
        await source.aclose()
    return OriginCheck(True, f"read {key} ({len(original.data)} bytes)")
