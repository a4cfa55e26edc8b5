"""Hostile and expensive images through a real gateway: each finishes within its time budget or is refused quickly.

The battery's cases, with fixtures made here (small on disk): an animated GIF of 80 frames of 800x800 (51 MP, inside
the 60 MP source budget), a 2560x1600 photo asked for at w=4096 as GIF and as AVIF q=100, and a few-kilobyte
pattern whose transform (upscaled, blurred, PNG-compressed) takes about 9 s of one core.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import pyvips

from gateway.accounts.models import Workspace
from gateway.delivery.pool import GRACE
from tests.integration.servers import GatewayProcess

pytestmark = pytest.mark.integration

AVIF_FIRST = {"Accept": "image/avif,image/webp,*/*"}
SLOW = "w=8000&h=8000&fit=scale&blur=2000&fm=png&auto=compress"
REFUSED_WITHIN = 2.0  # seconds: a refusal reads sizes, it decodes and encodes nothing
DEADLINE = 1.0  # transform_timeout of the second gateway


def _animation(frames: int = 80, side: int = 800) -> bytes:
    # A white bar that moves: no two frames alike, so the encoder keeps every one.
    pages = [
        pyvips.Image.black(side, side)
        .new_from_image([i * 3 % 256, 255 - i * 3 % 256, 128])
        .copy(interpretation="srgb")
        .draw_rect([255, 255, 255], i * 10, 0, 10, side, fill=True)
        for i in range(frames)
    ]
    roll = pyvips.Image.arrayjoin(pages, across=1).copy(interpretation="srgb")
    roll.set_type(pyvips.GValue.gint_type, "page-height", side)
    roll.set_type(pyvips.GValue.array_int_type, "delay", [40] * frames)
    return bytes(roll.gifsave_buffer(effort=1, reuse=True))


def _photo() -> bytes:
    image = pyvips.Image.black(2560, 1600).new_from_image([90, 140, 200]).copy(interpretation="srgb")
    return bytes(image.draw_rect([250, 200, 10], 600, 400, 900, 500, fill=True).jpegsave_buffer(Q=90))


def _pattern() -> bytes:
    xyz = pyvips.Image.xyz(256, 256)
    image = ((xyz[0] ^ xyz[1]) % 256).cast("uchar").bandjoin([xyz[0].cast("uchar"), xyz[1].cast("uchar")])
    return bytes(image.copy(interpretation="srgb").pngsave_buffer())


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    (root / "anim.gif").write_bytes(_animation())
    assert pyvips.Image.new_from_file(str(root / "anim.gif")).get("n-pages") == 80
    (root / "photo.jpg").write_bytes(_photo())
    (root / "slow.png").write_bytes(_pattern())
    assert (root / "anim.gif").stat().st_size < 1024 * 1024
    return root


def _gateway(data_dir: Path, folder: Path, **settings: str) -> GatewayProcess:
    gw = GatewayProcess(data_dir, settings=settings)
    gw.add_workspace(Workspace(namespace="demo", origin_kind="local", origin={"root": str(folder)}))
    return gw


@pytest.fixture(scope="module")
def defaults(tmp_path_factory: pytest.TempPathFactory, folder: Path) -> Iterator[str]:
    """A gateway with the default budgets and deadlines."""
    with _gateway(tmp_path_factory.mktemp("gw"), folder, result_store="none") as gw:
        yield gw.url


def timed(url: str, headers: dict[str, str] | None = None) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.get(url, headers=headers, timeout=120)
    return response, time.monotonic() - started


def assert_refused(response: httpx.Response, seconds: float, cap: str) -> None:
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "SOURCE_TOO_LARGE" and cap in error["message"], error
    assert response.headers["cache-control"] == "no-store"
    assert seconds < REFUSED_WITHIN


def test_the_animation_resized_renders_within_its_deadline(defaults: str) -> None:
    response, seconds = timed(f"{defaults}/demo/anim.gif?w=200")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/gif"
    assert pyvips.Image.new_from_buffer(response.content, "").get("n-pages") == 80
    assert seconds < 10.0 + GRACE  # transform_timeout, by default


def test_the_animation_as_it_is_is_refused_at_once(defaults: str) -> None:
    # 80 frames x 800x800 of GIF: 51 MP of palette work (3.1 s in the battery), over max_gif_pixels.
    assert_refused(*timed(f"{defaults}/demo/anim.gif"), "max_gif_pixels")


def test_the_animation_enlarged_is_refused_at_once(defaults: str) -> None:
    assert_refused(*timed(f"{defaults}/demo/anim.gif?w=4096&fm=webp"), "max_animation_pixels")


def test_a_photo_at_4096_as_gif_is_refused_at_once(defaults: str) -> None:
    assert_refused(*timed(f"{defaults}/demo/photo.jpg?w=4096&fm=gif"), "max_gif_frame_pixels")  # 10 s before


def test_a_photo_at_4096_as_avif_q100_is_refused_at_once(defaults: str) -> None:
    assert_refused(*timed(f"{defaults}/demo/photo.jpg?w=4096&fm=avif&q=100"), "max_avif_pixels")  # 4.6 s before


def test_a_negotiated_avif_over_its_cap_is_answered_as_webp(defaults: str) -> None:
    response, _ = timed(f"{defaults}/demo/photo.jpg?w=4096&auto=format", AVIF_FIRST)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/webp"
    assert response.headers["vary"] == "Accept"


def test_a_transform_past_its_deadline_is_stopped_answered_and_not_kept(
    tmp_path: Path, folder: Path, images_dir: Path
) -> None:
    gw = _gateway(tmp_path / "gw", folder, transform_timeout=str(DEADLINE), transform_threads="1")
    with gw:
        slow = f"{gw.url}/demo/slow.png?{SLOW}"
        response, seconds = timed(slow)
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "RENDER_TIMEOUT"
        assert response.headers["cache-control"] == "no-store" and "x-imgate-cache" not in response.headers
        assert seconds < DEADLINE + GRACE + 2.0  # slack for a busy machine
        # The one transform thread was freed with the answer: left to run, it would be busy for ~9 s more.
        cheap, cheap_seconds = timed(f"{gw.url}/demo/photo.jpg?w=100")
        assert cheap.status_code == 200 and cheap_seconds < 3.0
        # Nothing of the stopped transform was kept anywhere: asked again, it is rendered (and stopped) again.
        again, _ = timed(slow)
        assert again.status_code == 503 and again.json()["error"]["code"] == "RENDER_TIMEOUT"
        results = gw.data_dir / "results"
        kept = [path for path in results.rglob("*") if path.is_file()] if results.exists() else []
        assert len(kept) <= 1  # the cheap photo's, written behind its response
