"""Marks end to end: presets and rules made with the CLI, stamped through the URL API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import pyvips

from tests.integration.servers import GatewayProcess, imgate
from tests.support.origin_server import OriginServer

pytestmark = pytest.mark.integration

W, H = 400, 300


def ok(data_dir: Path, *args: str) -> str:
    result = imgate(data_dir, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def solid(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    return bytes(
        pyvips.Image.black(width, height).new_from_image(list(rgb)).copy(interpretation="srgb").pngsave_buffer()
    )


@pytest.fixture(scope="module")
def brand(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    root = tmp_path_factory.mktemp("brand-origin")
    for folder in ("premium", "free", "marks"):
        (root / folder).mkdir()
    (root / "premium" / "black.png").write_bytes(solid(W, H, (0, 0, 0)))
    (root / "premium" / "warm.png").write_bytes(solid(W, H, (0, 0, 0)))
    (root / "free" / "black.png").write_bytes(solid(W, H, (0, 0, 0)))
    (root / "marks" / "logo.png").write_bytes(solid(100, 50, (255, 255, 255)))
    data = tmp_path_factory.mktemp("brand-data")
    ok(data, "workspace", "create", "brand", "--origin", "local", "--root", str(root))
    ok(
        data,
        "mark",
        "create",
        "brand",
        "logo",
        "--image-key",
        "marks/logo.png",
        "--align",
        "bottom,right",
        "--pad",
        "10",
    )
    ok(
        data,
        "mark",
        "create",
        "brand",
        "credit",
        "--text",
        "ACME",
        "--color",
        "ff0000",
        "--font-size",
        "40",
        "--align",
        "top,left",
    )
    with GatewayProcess(data) as gw:
        yield gw


def fetch(gw: GatewayProcess, path: str) -> tuple[httpx.Response, pyvips.Image]:
    response = httpx.get(f"{gw.url}/brand/{path}", timeout=30)
    assert response.status_code == 200, response.text
    return response, pyvips.Image.new_from_buffer(response.content, "")


def region_mean(image: pyvips.Image, x: int, y: int, w: int, h: int) -> float:
    return float(image.crop(x, y, w, h).extract_band(0, n=3).avg())


def test_a_requested_mark_lands_where_align_and_pad_put_it(brand: GatewayProcess) -> None:
    _, plain = fetch(brand, "free/black.png?fm=png")
    _, marked = fetch(brand, "free/black.png?fm=png&mark=logo")
    assert region_mean(plain, W - 110, H - 60, 100, 50) < 5
    assert region_mean(marked, W - 105, H - 55, 90, 40) > 250  # inside the mark: white
    assert region_mean(marked, W - 8, H - 8, 8, 8) < 5  # the pad stays black
    assert region_mean(marked, 0, 0, 100, 100) < 5  # the opposite corner is untouched
    _, moved = fetch(brand, "free/black.png?fm=png&mark=logo&mark-align=top,left&mark-pad=0")
    assert region_mean(moved, 5, 5, 90, 40) > 250 and region_mean(moved, W - 105, H - 55, 90, 40) < 5


def test_alpha_blends_and_scale_sizes_the_mark(brand: GatewayProcess) -> None:
    _, half = fetch(brand, "free/black.png?fm=png&mark=logo&mark-alpha=50")
    assert 110 < region_mean(half, W - 105, H - 55, 90, 40) < 145
    _, scaled = fetch(brand, "free/black.png?fm=png&mark=logo&mark-scale=50&mark-pad=0")
    # 50 % of the 400 px output: a 200 x 100 white box in the corner.
    assert region_mean(scaled, W - 195, H - 95, 190, 90) > 250
    assert region_mean(scaled, W - 215, H - 95, 10, 90) < 5


def test_text_marks_render(brand: GatewayProcess) -> None:
    _, stamped = fetch(brand, "free/black.png?fm=png&mark=credit")
    corner = stamped.crop(0, 0, 160, 80)
    assert corner.extract_band(0).max() > 200 and corner.extract_band(1).max() < 60


def test_unknown_preset_and_orphan_overrides_are_400(brand: GatewayProcess) -> None:
    for query, param in (
        ("mark=ghost", "mark"),
        ("mark-alpha=40", "mark-alpha"),
        ("mark=logo&mark-alpha=400", "mark-alpha"),
    ):
        response = httpx.get(f"{brand.url}/brand/free/black.png?{query}", timeout=30)
        assert response.status_code == 400 and param in response.json()["error"]["message"], query


def wait_until_stamped(gw: GatewayProcess, path: str) -> pyvips.Image:
    deadline = time.monotonic() + 5
    while True:
        _, image = fetch(gw, path)
        if region_mean(image, W - 105, H - 55, 90, 40) > 250:
            return image
        assert time.monotonic() < deadline, "the rule did not take effect within the tenancy TTL"
        time.sleep(0.1)


def test_auto_apply_rules_cannot_be_stripped_and_beat_a_warm_cache(brand: GatewayProcess) -> None:
    # Warm the cache before the rule exists: the entry is unmarked.
    warm, image = fetch(brand, "premium/warm.png?fm=png&w=400")
    assert region_mean(image, W - 105, H - 55, 90, 40) < 5
    assert fetch(brand, "premium/warm.png?fm=png&w=400")[0].headers["x-imgate-cache"] == "memory"
    ok(brand.data_dir, "rule", "add", "brand", "logo", "--keys", "premium/**")
    wait_until_stamped(brand, "premium/warm.png?fm=png&w=400")
    for query in (
        "",
        "&mark=",
        "&mark-alpha=0",
        "&mark-scale=1",
        "&mark=none",
        "&mark=ghost",
        "&mark=credit",
        "&mark-align=top,left",
    ):
        _, stamped = fetch(brand, f"premium/black.png?fm=png{query}")
        assert region_mean(stamped, W - 105, H - 55, 90, 40) > 250, query
        assert region_mean(stamped, 0, 0, 100, 100) < 5, query  # credit was not stamped instead
    _, untouched = fetch(brand, "free/black.png?fm=png")
    assert region_mean(untouched, W - 110, H - 60, 100, 50) < 5


def test_editing_a_preset_changes_the_output_and_etag(brand: GatewayProcess) -> None:
    first, before = fetch(brand, "free/black.png?fm=png&mark=credit&v=edit")
    ok(brand.data_dir, "mark", "update", "brand", "credit", "--color", "00ff00")
    deadline = time.monotonic() + 5
    while True:
        second, after = fetch(brand, "free/black.png?fm=png&mark=credit&v=edit")
        if second.headers["etag"] != first.headers["etag"]:
            break
        assert time.monotonic() < deadline, "the edited preset was not served within the tenancy TTL"
        time.sleep(0.1)
    assert after.crop(0, 0, 160, 80).extract_band(1).max() > 200
    assert second.content != first.content


def test_cli_refuses_bad_presets_and_rules(brand: GatewayProcess) -> None:
    assert imgate(brand.data_dir, "mark", "create", "brand", "bad", "--text", "x", "--alpha", "300").returncode != 0
    assert imgate(brand.data_dir, "mark", "create", "brand", "bad", "--text", "x", "--color", "nothex").returncode != 0
    assert imgate(brand.data_dir, "rule", "add", "brand", "ghost", "--keys", "*").returncode != 0
    assert imgate(brand.data_dir, "rule", "add", "brand", "logo", "--keys", "/abs/**").returncode != 0
    in_use = imgate(brand.data_dir, "mark", "delete", "brand", "logo")
    assert in_use.returncode != 0 and "rule" in in_use.stderr
    listing = ok(brand.data_dir, "mark", "list", "brand")
    assert "logo" in listing and "credit" in listing


def test_an_image_key_is_checked_on_the_origin_when_saved(tmp_path: Path) -> None:
    data = tmp_path / "gw"
    with OriginServer() as origin:
        origin.file("/brand/logo.png", solid(100, 50, (255, 255, 255)), "image/png")
        origin.file("/brand/notes.txt", b"not an image", "text/plain")
        trusted = {"IMGATE_TRUSTED_NETWORKS": "127.0.0.1/32"}
        ok(data, "workspace", "create", "web", "--origin", "http", "--base-url", origin.url("/brand/"))
        for key, named in (("missing.png", "does not exist"), ("notes.txt", "image_key")):
            refused = imgate(data, "mark", "create", "web", "logo", "--image-key", key, **trusted)
            lines = [line for line in refused.stderr.splitlines() if not line.startswith("warning: ")]
            assert refused.returncode == 1 and len(lines) == 1 and named in lines[0], refused.stderr
            assert origin.hits(f"/brand/{key}") == 1
        # Without the trusted network the origin is a loopback address: the guard refuses it, and so does the save.
        blocked = imgate(data, "mark", "create", "web", "logo", "--image-key", "logo.png")
        assert blocked.returncode == 1 and "image_key" in blocked.stderr
        assert origin.hits("/brand/logo.png") == 0
        created = imgate(data, "mark", "create", "web", "logo", "--image-key", "logo.png", **trusted)
        assert created.returncode == 0, created.stderr
        assert origin.hits("/brand/logo.png") == 1
    assert "logo" in ok(data, "mark", "list", "web")
