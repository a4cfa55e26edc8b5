"""The full transform vocabulary end to end: a real Granian gateway, a real HTTP origin on loopback."""

from __future__ import annotations

import base64
import math
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import pyvips

from gateway.accounts.models import Workspace
from tests.integration.servers import GatewayProcess
from tests.support.origin_server import OriginServer
from tests.transforms import thumbhash_decode
from tests.transforms.images import (
    BLUE,
    GREEN,
    RED,
    YELLOW,
    animation,
    close,
    corners,
    dot,
    frames_of,
    gif,
    mean_rgb,
    noisy,
    png,
    quadrants,
)

pytestmark = pytest.mark.integration

# A budget that photo-kite.jpg (4.1 MP) and one frame of big.gif fit, and big.gif's fifteen frames do not.
MAX_SOURCE_PIXELS = 5_000_000


@pytest.fixture(scope="module")
def origin(images_dir: Path) -> Iterator[OriginServer]:
    with OriginServer() as server:
        server.file("/img/quadrants.png", png(quadrants()), "image/png")
        server.file("/img/noise.png", png(noisy(96, 64)), "image/png")
        server.file("/img/dot.png", png(dot(400, 200, 300, 50, radius=10)), "image/png")
        server.file("/img/ten.gif", gif(animation(10)), "image/gif")
        server.file("/img/big.gif", gif(animation(15, 600, 600)), "image/gif")  # 360,000 px a frame, 5.4 MP in all
        server.file("/img/photo-kite.jpg", (images_dir / "photo-kite.jpg").read_bytes(), "image/jpeg")
        yield server


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, origin: OriginServer) -> Iterator[str]:
    gw = GatewayProcess(
        tmp_path_factory.mktemp("gw"),
        trusted_networks="127.0.0.1/32",
        max_source_pixels=str(MAX_SOURCE_PIXELS),
    )
    gw.add_workspace(Workspace(namespace="acme", origin_kind="http", origin={"base_url": origin.url("/img/")}))
    with gw:
        yield gw.url


def get(url: str, **headers: str) -> httpx.Response:
    return httpx.get(url, headers=headers, timeout=30)


def image_of(response: httpx.Response) -> pyvips.Image:
    assert response.status_code == 200, response.text
    return pyvips.Image.new_from_buffer(response.content, "").copy_memory()


@pytest.mark.parametrize(
    ("query", "size"),
    [
        ("rect=100,0,100,50", (100, 50)),
        ("w=0.5", (100, 50)),
        ("w=120&ar=1:1&fit=crop", (120, 120)),
        ("orient=90&w=50", (50, 100)),
        ("pad=10", (220, 120)),
        ("w=100&pad=10", (100, 60)),  # 80x40 inside 10 px each side
        ("w=64&h=64&fit=crop&crop=entropy", (64, 64)),
        ("trim=auto", (200, 100)),  # corners differ: nothing to trim
        ("w=80&blur=50&sharp=20&bri=10&con=10&sat=20", (80, 40)),
    ],
)
def test_geometry_over_http(gateway: str, query: str, size: tuple[int, int]) -> None:
    image = image_of(get(f"{gateway}/acme/quadrants.png?{query}&fm=png"))
    assert (image.width, image.height) == size


def test_rot_and_flip_over_http(gateway: str) -> None:
    image = image_of(get(f"{gateway}/acme/quadrants.png?orient=90&flip=h&fm=png"))
    assert (image.width, image.height) == (100, 200)
    found = corners(image)
    assert all(close(c, e, 12) for c, e in zip(found, (RED, BLUE, GREEN, YELLOW), strict=True)), found


def test_focal_point_over_http(gateway: str) -> None:
    image = image_of(get(f"{gateway}/acme/dot.png?w=100&h=100&fit=crop&crop=focalpoint&fp-x=0.75&fp-y=0.25&fp-z=2"))
    assert close(mean_rgb(image, 47, 47, 6, 6), RED, 12)


def test_colour_effects_over_http(gateway: str) -> None:
    grey = image_of(get(f"{gateway}/acme/noise.png?sat=-100&fm=png"))
    assert (grey.extract_band(0) - grey.extract_band(1)).abs().max() == 0
    assert (grey.extract_band(1) - grey.extract_band(2)).abs().max() == 0
    plain = image_of(get(f"{gateway}/acme/noise.png?fm=png")).avg()
    assert image_of(get(f"{gateway}/acme/noise.png?bri=40&fm=png")).avg() > plain + 40


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("orient=45", "orient"),
        ("rect=150,0,100,50", "rect"),  # outside the 200x100 image: known only once the header is read
        ("frame=2", "frame"),
        ("w=10&ar=1:0", "ar"),
        ("crop=entropy,top", "crop"),
        ("fp-z=0", "fp-z"),
        ("trim=edges", "trim"),
        ("sat=-101", "sat"),
        ("w=10&pad=6", "pad"),
        ("fm=jpeg", "fm"),
    ],
)
def test_invalid_values_are_400_naming_the_parameter(gateway: str, query: str, name: str) -> None:
    response = get(f"{gateway}/acme/quadrants.png?{query}")
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and error["message"].startswith(f"{name}: ")
    assert response.headers["cache-control"] == "no-store"


def test_a_ten_frame_gif_stays_ten_frames(gateway: str) -> None:
    response = get(f"{gateway}/acme/ten.gif?w=60")
    assert response.status_code == 200 and response.headers["content-type"] == "image/gif"
    frames = frames_of(response.content)
    assert len(frames) == 10 and all((f.width, f.height) == (60, 40) for f in frames)
    animated_webp = get(f"{gateway}/acme/ten.gif?w=60&auto=format", accept="image/avif,image/webp,*/*")
    assert animated_webp.headers["content-type"] == "image/webp" and animated_webp.headers["vary"] == "Accept"
    assert len(frames_of(animated_webp.content)) == 10
    still = get(f"{gateway}/acme/ten.gif?w=60&frame=3&fm=png")
    assert len(frames_of(still.content)) == 1


def test_frames_summed_past_the_budget_are_413(gateway: str) -> None:
    response = get(f"{gateway}/acme/big.gif?w=100")
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "SOURCE_TOO_LARGE"
    assert response.headers["cache-control"] == "no-store"
    # One frame is within the budget: a still from the same file is fine.
    assert image_of(get(f"{gateway}/acme/big.gif?w=100&frame=1")).width == 100
    assert image_of(get(f"{gateway}/acme/big.gif?w=100&fm=png")).width == 100


def test_info_describes_the_source_and_is_cached_for_a_day(gateway: str, images_dir: Path) -> None:
    url = f"{gateway}/acme/photo-kite.jpg?fm=json"
    response = get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "public, max-age=86400"
    assert "vary" not in response.headers
    info = response.json()
    header = pyvips.Image.new_from_buffer((images_dir / "photo-kite.jpg").read_bytes(), "")
    assert (info["width"], info["height"], info["format"]) == (header.width, header.height, "jpeg")
    assert info["bytes"] == len((images_dir / "photo-kite.jpg").read_bytes())
    assert (info["has_alpha"], info["frames"]) == (False, 1)
    placeholder = base64.b64decode(info["thumbhash"])
    ratio = thumbhash_decode.aspect_ratio(placeholder)
    assert abs(math.log(ratio / (header.width / header.height))) < math.log(1.25)
    again = get(url + "&w=100")  # other parameters do not change info, so they share its cache entry
    assert again.json() == info and again.headers["x-imgate-cache"] == "memory"
    animated = get(f"{gateway}/acme/ten.gif?fm=json").json()
    assert (animated["frames"], animated["width"], animated["height"]) == (10, 120, 80)
