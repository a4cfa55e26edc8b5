"""The workspace's imgix migration mode (``imgix_compat``): stored, changed by CLI, API and admin layer alike."""

from __future__ import annotations

import json
from pathlib import Path

import pydantic
import pytest

from gateway import admin
from gateway.accounts.models import Workspace
from gateway.accounts.sqlite import SqliteAccountStore
from gateway.admin import AdminContext, Invalid, WorkspaceChanges
from gateway.routes.api.models import WorkspacePatch
from tests.integration.servers import imgate


def test_strict_is_the_default_and_only_two_modes_exist() -> None:
    assert Workspace(namespace="acme").imgix_compat == "strict"
    assert Workspace(namespace="acme", imgix_compat="lenient").imgix_compat == "lenient"
    with pytest.raises(ValueError, match="strict or lenient"):
        Workspace(namespace="acme", imgix_compat="loose")


def test_the_sqlite_store_keeps_the_mode(tmp_path: Path) -> None:
    store = SqliteAccountStore(tmp_path / "accounts.sqlite3")
    try:
        store.create_workspace(Workspace(namespace="acme", imgix_compat="lenient"))
    finally:
        store.close()
    reopened = SqliteAccountStore(tmp_path / "accounts.sqlite3")  # migrated file, read back from disk
    try:
        stored = reopened.get_workspace("acme")
        assert stored is not None and stored.imgix_compat == "lenient"
    finally:
        reopened.close()


@pytest.mark.anyio
async def test_the_admin_layer_changes_and_shows_it(ctx: AdminContext) -> None:
    await admin.create_workspace(ctx, "acme", WorkspaceChanges())
    view = await admin.update_workspace(ctx, "acme", WorkspaceChanges(imgix_compat="lenient"))
    assert view.imgix_compat == "lenient" and view.as_dict()["imgix_compat"] == "lenient"
    with pytest.raises(Invalid, match="strict or lenient"):
        await admin.update_workspace(ctx, "acme", WorkspaceChanges(imgix_compat="sloppy"))
    assert (await admin.show_workspace(ctx, "acme")).imgix_compat == "lenient"


def test_the_api_body_takes_only_the_two_modes() -> None:
    assert WorkspacePatch.model_validate({"imgix_compat": "lenient"}).imgix_compat == "lenient"
    with pytest.raises(pydantic.ValidationError):
        WorkspacePatch.model_validate({"imgix_compat": "sloppy"})


@pytest.mark.integration
def test_the_cli_switches_it(tmp_path: Path) -> None:
    data = tmp_path / "gw"
    assert imgate(data, "workspace", "create", "shop", "--origin", "none").returncode == 0
    changed = imgate(data, "workspace", "update", "shop", "--imgix-compat", "lenient")
    assert changed.returncode == 0, changed.stderr
    assert json.loads(changed.stdout)["imgix_compat"] == "lenient"
    refused = imgate(data, "workspace", "update", "shop", "--imgix-compat", "sloppy")
    assert refused.returncode != 0
