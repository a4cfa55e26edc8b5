"""An admin context over the in-memory account and result stores, reading origins from a ``MemorySource``."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips
from cryptography.fernet import Fernet

from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.accounts.secrets import SecretBox
from gateway.accounts.tokens import TokenSigner
from gateway.admin import AdminContext
from gateway.cache.memory_results import MemoryResultStore
from gateway.netguard import NetGuard
from gateway.settings import Settings
from gateway.sources.base import Source
from tests.support.memory_source import MemorySource


def png(width: int = 40, height: int = 20) -> bytes:
    return bytes(pyvips.Image.black(width, height).new_from_image([255, 255, 255]).pngsave_buffer())


@pytest.fixture
def origin_objects() -> dict[str, bytes]:
    """What every workspace's origin holds (each workspace with an origin reads this one store)."""
    return {"marks/logo.png": png(), "notes.txt": b"not an image"}


@pytest.fixture
def store() -> MemoryAccountStore:
    return MemoryAccountStore()


@pytest.fixture
def ctx(tmp_path: Path, store: MemoryAccountStore, origin_objects: dict[str, bytes]) -> AdminContext:
    def sources(workspace: Workspace) -> Source | None:
        return None if workspace.origin_kind == "none" else MemorySource(origin_objects)

    settings = Settings(data_dir=str(tmp_path / "data"))
    box = SecretBox(Fernet.generate_key())
    return AdminContext(store, settings, box, TokenSigner(box), MemoryResultStore(), sources, NetGuard())


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder a local origin may point at."""
    path = tmp_path / "originals"
    path.mkdir()
    return path
