from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.errors import NotFound, SourceTooLarge
from gateway.sources.base import FetchLimits
from gateway.sources.local import LocalSource

LIMITS = FetchLimits(max_bytes=1024, connect_timeout=1.0, total_timeout=5.0)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """tmp/root/{a.jpg, sub/b.png, sub/inside -> ../a.jpg, escape -> ../secret.txt}, tmp/secret.txt."""
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "a.jpg").write_bytes(b"jpeg bytes")
    (root / "sub" / "b.png").write_bytes(b"png bytes")
    (root / "sub" / "inside").symlink_to(Path("..") / "a.jpg")
    (root / ".env").write_text("SECRET=1")
    (tmp_path / "secret.txt").write_text("outside the root")
    (root / "escape").symlink_to(tmp_path / "secret.txt")
    (root / "escape-dir").symlink_to(tmp_path, target_is_directory=True)
    return root


@pytest.fixture
def source(root: Path) -> LocalSource:
    return LocalSource(root, LIMITS)


@pytest.mark.anyio
async def test_reads_files_under_the_root(source: LocalSource) -> None:
    assert (await source.fetch("a.jpg")).data == b"jpeg bytes"
    assert (await source.fetch("sub/b.png")).data == b"png bytes"


@pytest.mark.anyio
async def test_follows_symlinks_that_stay_inside(source: LocalSource) -> None:
    assert (await source.fetch("sub/inside")).data == b"jpeg bytes"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "key",
    [
        "../secret.txt",
        "sub/../../secret.txt",
        "sub/../a.jpg",
        "./a.jpg",
        "/etc/passwd",
        "",
        "sub//b.png",
        "sub\\..\\..\\secret.txt",
        "a.jpg\x00.png",
        "..%2fsecret.txt",
        "sub%2F..%2F..%2Fsecret.txt",
        "..%5csecret.txt",
        ".env",
        "sub/.hidden",
    ],
)
async def test_keys_that_could_leave_the_root_are_not_found(source: LocalSource, key: str) -> None:
    with pytest.raises(NotFound):
        await source.fetch(key)
    with pytest.raises(NotFound):
        source.identity(key)


@pytest.mark.anyio
@pytest.mark.parametrize("key", ["escape", "escape-dir/secret.txt"])
async def test_symlinks_out_of_the_root_are_not_found(source: LocalSource, key: str) -> None:
    with pytest.raises(NotFound) as caught:
        await source.fetch(key)
    assert "secret" not in caught.value.message


@pytest.mark.anyio
@pytest.mark.parametrize("key", ["missing.jpg", "sub", "sub/missing/deeper.jpg", "a.jpg/child"])
async def test_missing_files_and_folders_are_not_found(source: LocalSource, key: str) -> None:
    with pytest.raises(NotFound):
        await source.fetch(key)


@pytest.mark.anyio
async def test_a_fifo_is_not_found_and_does_not_block(source: LocalSource, root: Path) -> None:
    os.mkfifo(root / "pipe")
    with pytest.raises(NotFound):
        await source.fetch("pipe")


@pytest.mark.anyio
async def test_a_file_over_the_cap_is_too_large(source: LocalSource, root: Path) -> None:
    (root / "big.jpg").write_bytes(b"\0" * (LIMITS.max_bytes + 1))
    (root / "full.jpg").write_bytes(b"\1" * LIMITS.max_bytes)
    with pytest.raises(SourceTooLarge):
        await source.fetch("big.jpg")
    assert len((await source.fetch("full.jpg")).data) == LIMITS.max_bytes


def test_identity_names_the_key_and_a_digest_of_the_root(tmp_path: Path, root: Path) -> None:
    identity = LocalSource(root, LIMITS).identity("sub/b.png")
    assert identity.startswith("local:") and identity.endswith(":sub/b.png")
    assert str(tmp_path) not in identity and "root" not in identity
    # Same folder, same identity, however it is spelled; another folder, another identity.
    assert LocalSource(root / "sub" / "..", LIMITS).identity("sub/b.png") == identity
    assert LocalSource(tmp_path, LIMITS).identity("sub/b.png") != identity


@pytest.mark.anyio
async def test_aclose_is_harmless(source: LocalSource) -> None:
    await source.aclose()
    assert (await source.fetch("a.jpg")).data == b"jpeg bytes"
