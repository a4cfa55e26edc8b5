"""``jpeg_decoder`` chooses who decodes JPEGs scaled on load, and both give the same bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from tests.conftest import DEMO_IMAGES
from tests.gateway.web.running import call, running
from transforms import turbo_jpeg

pytestmark = pytest.mark.anyio


def store() -> MemoryAccountStore:
    accounts = MemoryAccountStore()
    accounts.create_workspace(Workspace(namespace="demo", origin_kind="local", origin={"root": str(DEMO_IMAGES)}))
    return accounts


async def test_libvips_or_libjpeg_turbo_decode_the_same_bytes(tmp_path: Path) -> None:
    bodies = {}
    try:
        for decoder in ("libvips", "turbo"):
            async with running(tmp_path / decoder, store(), jpeg_decoder=decoder) as app:
                before = turbo_jpeg.decodes()
                answer = await call(app, "/demo/photo-grey.jpg", b"w=64&fm=png")
                assert answer.status == 200
                assert turbo_jpeg.configured() is (decoder == "turbo")
                assert (turbo_jpeg.decodes() > before) is (decoder == "turbo")
                bodies[decoder] = answer.body
    finally:
        turbo_jpeg.configure(True)
    assert bodies["libvips"] == bodies["turbo"]
