"""``keep_copyright`` and ``fallback_image``: validated on the record, changed and shown by the admin layer and
the management API's models alike."""

from __future__ import annotations

import pydantic
import pytest

from gateway import admin
from gateway.accounts.models import Workspace
from gateway.admin import AdminContext, Invalid, WorkspaceChanges
from gateway.routes.api.models import WorkspacePatch
from gateway.routes.api.workspaces import workspace_out


def test_both_are_off_by_default() -> None:
    workspace = Workspace(namespace="acme")
    assert workspace.keep_copyright is False and workspace.fallback_image == ""


@pytest.mark.parametrize("key", ["/etc/passwd", "../up.png", "a/../../b.png", "line\nbreak.png", "x" * 1025])
def test_a_fallback_image_outside_the_origin_or_unprintable_is_refused(key: str) -> None:
    with pytest.raises(ValueError, match="fallback image"):
        Workspace(namespace="acme", fallback_image=key)


@pytest.mark.anyio
async def test_the_admin_layer_changes_and_shows_them(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme", WorkspaceChanges())
    view = await admin.update_workspace(
        ctx, "acme", WorkspaceChanges(keep_copyright=True, fallback_image="errors/404.png")
    )
    assert view.keep_copyright is True and view.fallback_image == "errors/404.png"
    shown = workspace_out(view)
    assert shown.keep_copyright is True and shown.fallback_image == "errors/404.png"
    with pytest.raises(Invalid, match="fallback image"):
        await admin.update_workspace(ctx, "acme", WorkspaceChanges(fallback_image="../x.png"))
    # A change of something else leaves both as they are; an empty key turns the fallback off.
    view = await admin.update_workspace(ctx, "acme", WorkspaceChanges(capture_retention=3600))
    assert view.keep_copyright is True and view.fallback_image == "errors/404.png"
    view = await admin.update_workspace(ctx, "acme", WorkspaceChanges(keep_copyright=False, fallback_image=""))
    assert view.keep_copyright is False and view.fallback_image == ""


def test_the_api_body_takes_a_bool_and_a_bounded_key() -> None:
    patch = WorkspacePatch.model_validate({"keep_copyright": True, "fallback_image": "e.png"})
    assert patch.keep_copyright is True and patch.fallback_image == "e.png"
    for body in ({"keep_copyright": "yes"}, {"fallback_image": "x" * 1025}, {"fallback_image": 3}):
        with pytest.raises(pydantic.ValidationError):
            WorkspacePatch.model_validate(body)
