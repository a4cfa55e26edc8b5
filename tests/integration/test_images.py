"""End to end through a real Granian server and a real HTTP origin on loopback."""

from __future__ import annotations

import asyncio
import http.client
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import pyvips

from gateway.accounts.models import Workspace
from tests.integration import hostile
from tests.integration.servers import GatewayProcess
from tests.support.origin_server import OriginServer

pytestmark = pytest.mark.integration

PHOTOS = ("photo-kite.jpg", "photo-path.jpg", "photo-grey.jpg", "photo-colorfulcups.jpg")
MAX_BYTES = 3 * 1024 * 1024


def _oriented_jpeg() -> bytes:
    # Landscape pixels (200x100) with EXIF orientation 6: upright, the picture is portrait 100x200.
    left = pyvips.Image.black(100, 100).new_from_image([255, 0, 0])
    right = pyvips.Image.black(100, 100).new_from_image([0, 0, 255])
    image = left.join(right, "horizontal").copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)
    return bytes(image.jpegsave_buffer(Q=95, keep="exif"))


def _cmyk_jpeg() -> bytes:
    image = pyvips.Image.black(64, 64).new_from_image([40, 160, 220]).copy(interpretation="srgb")
    return bytes(image.icc_transform("cmyk").jpegsave_buffer(Q=95))


@pytest.fixture(scope="module")
def origin(images_dir: Path) -> Iterator[OriginServer]:
    with OriginServer() as server:
        for name in PHOTOS:
            server.file(f"/img/{name}", (images_dir / name).read_bytes(), "image/jpeg")
        server.file("/img/alpha.png", (images_dir / "alpha-elarun.png").read_bytes(), "image/png")
        server.file("/img/oriented.jpg", _oriented_jpeg(), "image/jpeg")
        server.file("/img/cmyk.jpg", _cmyk_jpeg(), "image/jpeg")
        kite = (images_dir / "photo-kite.jpg").read_bytes()
        server.file("/img/bomb.png", hostile.png_bomb(), "image/png")
        server.file("/img/truncated.jpg", hostile.truncated(kite), "image/jpeg")
        server.file("/img/random.jpg", hostile.random_bytes())
        server.file("/img/empty.jpg", b"")
        server.file("/img/huge.jpg", b"\xff" * (MAX_BYTES + 1))
        server.file("/img/huge-streamed.jpg", b"\xff" * (MAX_BYTES + 1), chunked=True)
        server.file(
            "/img/external.svg",
            hostile.svg_with_external_reference(server.url("/canary.png")),
            "image/svg+xml",
        )
        server.stall_headers("/img/hang.jpg")
        server.redirect("/img/moved.jpg", "/img/moved-again.jpg")
        server.redirect("/img/moved-again.jpg", "/img/photo-kite.jpg", status=301)
        server.redirect("/img/to-loopback.jpg", "http://127.0.0.2:9/x.jpg")
        server.redirect("/img/to-metadata.jpg", "http://169.254.169.254/latest/meta-data/")
        server.status("/img/500.jpg", 500)
        yield server


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, origin: OriginServer, images_dir: Path) -> Iterator[str]:
    gw = GatewayProcess(
        tmp_path_factory.mktemp("gw"),
        trusted_networks="127.0.0.1/32",
        origin_timeout="1.5",
        origin_connect_timeout="1",
        max_source_bytes=str(MAX_BYTES),
    )
    gw.add_workspace(Workspace(namespace="acme", origin_kind="http", origin={"base_url": origin.url("/img/")}))
    gw.add_workspace(Workspace(namespace="demo", origin_kind="local", origin={"root": str(images_dir)}))
    with gw:
        yield gw.url


def get(url: str, **headers: str) -> httpx.Response:
    return httpx.get(url, headers=headers, timeout=20)


def decode(response: httpx.Response) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(response.content, "")


def test_health(gateway: str) -> None:
    response = get(f"{gateway}/_/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"


@pytest.mark.parametrize(
    ("query", "size"),
    [
        ("w=400", (400, 250)),
        ("h=100", (160, 100)),
        ("w=400&h=400", (400, 250)),  # clip: fits inside
        ("w=400&h=400&fit=crop", (400, 400)),
        ("w=400&h=400&fit=fill&bg=ff0000", (400, 400)),
        ("w=5000&fit=max", None),  # max: never enlarges: the source size
        ("w=5000&h=5000&fit=min", None),
        ("w=300&h=100&fit=scale", (300, 100)),
        ("w=200&dpr=2", (400, 250)),
    ],
)
def test_fit_modes_give_the_predicted_geometry(gateway: str, query: str, size: tuple[int, int] | None) -> None:
    response = get(f"{gateway}/acme/photo-kite.jpg?{query}&fm=png")
    assert response.status_code == 200, response.text
    image = decode(response)
    if size is None:
        source = pyvips.Image.new_from_buffer(get(f"{gateway}/acme/photo-kite.jpg?fm=png").content, "")
        width = source.width
        assert (image.width, image.height) == (width, source.height) or image.width <= width
    else:
        assert (image.width, image.height) == size


def test_fill_pads_with_the_background_colour(gateway: str) -> None:
    image = decode(get(f"{gateway}/acme/photo-kite.jpg?w=400&h=400&fit=fill&bg=ff0000&fm=png"))
    top = image.crop(0, 0, 400, 40)
    assert [round(top.extract_band(b).avg()) for b in range(3)] == [255, 0, 0]


@pytest.mark.parametrize(
    ("fm", "magic", "content_type"),
    [
        ("jpg", b"\xff\xd8\xff", "image/jpeg"),
        ("pjpg", b"\xff\xd8\xff", "image/jpeg"),
        ("png", b"\x89PNG", "image/png"),
        ("webp", b"RIFF", "image/webp"),
        ("avif", b"ftypavif", "image/avif"),
        ("gif", b"GIF8", "image/gif"),
    ],
)
def test_formats_by_magic_bytes_and_decoding(gateway: str, fm: str, magic: bytes, content_type: str) -> None:
    response = get(f"{gateway}/acme/photo-path.jpg?w=120&fm={fm}")
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert magic in response.content[:16]
    assert decode(response).width == 120
    if fm == "pjpg":
        assert decode(response).get("interlaced") == 1


def test_auto_format_negotiates_and_varies(gateway: str) -> None:
    avif = get(f"{gateway}/acme/photo-kite.jpg?w=100&auto=format", accept="image/avif,image/webp,*/*")
    webp = get(f"{gateway}/acme/photo-kite.jpg?w=100&auto=format", accept="image/webp,*/*")
    plain = get(f"{gateway}/acme/photo-kite.jpg?w=100&auto=format", accept="*/*")
    assert avif.headers["content-type"] == "image/avif"
    assert webp.headers["content-type"] == "image/webp"
    assert plain.headers["content-type"] == "image/jpeg"
    assert all(r.headers["vary"] == "Accept" for r in (avif, webp, plain))
    assert "vary" not in get(f"{gateway}/acme/photo-kite.jpg?w=100&fm=webp").headers


def test_exif_orientation_is_applied(gateway: str) -> None:
    image = decode(get(f"{gateway}/acme/oriented.jpg?w=50&fm=png"))
    assert (image.width, image.height) == (50, 100)
    # Orientation 6 rotates 90° clockwise: the left (red) half ends up on top.
    top, bottom = image.crop(0, 0, 50, 40), image.crop(0, 60, 50, 40)
    assert top.extract_band(0).avg() > 200 and top.extract_band(2).avg() < 60
    assert bottom.extract_band(2).avg() > 200 and bottom.extract_band(0).avg() < 60
    again = decode(get(f"{gateway}/acme/oriented.jpg?w=50&fm=jpg"))
    assert (again.width, again.height) == (50, 100)
    assert again.get_typeof("orientation") == 0 or again.get("orientation") == 1


def test_cmyk_and_icc_come_out_srgb_without_profiles(gateway: str) -> None:
    for key in ("cmyk.jpg", "photo-kite.jpg"):
        response = get(f"{gateway}/acme/{key}?w=64&fm=jpg")
        image = decode(response)
        assert image.bands == 3
        assert image.interpretation == "srgb"
        assert image.get_typeof("icc-profile-data") == 0
        assert image.get_typeof("exif-data") == 0
    cmyk = decode(get(f"{gateway}/acme/cmyk.jpg?w=64&fm=png"))
    means = [cmyk.extract_band(b).avg() for b in range(3)]
    assert abs(means[0] - 40) < 25 and abs(means[1] - 160) < 25 and abs(means[2] - 220) < 25


def test_cache_headers_etag_and_304(gateway: str) -> None:
    url = f"{gateway}/acme/photo-grey.jpg?w=90&fm=webp&v=etag"
    first = get(url)
    assert first.status_code == 200
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    second = get(url)
    assert second.headers["x-imgate-cache"] == "memory" and second.content == first.content
    not_modified = get(url, **{"if-none-match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    assert get(url, **{"if-none-match": '"other"'}).status_code == 200


def test_single_flight_fetches_and_transforms_once(gateway: str, origin: OriginServer) -> None:
    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            url = f"{gateway}/acme/photo-colorfulcups.jpg?w=333&fm=jpg&v=flight"
            return await asyncio.gather(*(client.get(url) for _ in range(12)))

    before = origin.hits("/img/photo-colorfulcups.jpg")
    responses = asyncio.run(burst())
    assert all(r.status_code == 200 for r in responses)
    assert len({r.content for r in responses}) == 1
    assert origin.hits("/img/photo-colorfulcups.jpg") - before <= 1
    assert sum(r.headers["x-imgate-cache"] == "miss" for r in responses) == 1


def test_one_fetch_serves_every_srcset_width(gateway: str, origin: OriginServer) -> None:
    before = origin.hits("/img/photo-path.jpg")
    for width in (320, 640, 960):
        assert get(f"{gateway}/acme/photo-path.jpg?w={width}&v=srcset").status_code == 200
    assert origin.hits("/img/photo-path.jpg") - before <= 1


def test_redirects_are_followed(gateway: str) -> None:
    assert decode(get(f"{gateway}/acme/moved.jpg?w=64&fm=png")).width == 64


@pytest.mark.parametrize(
    ("key", "status", "code"),
    [
        ("bomb.png", 413, "SOURCE_TOO_LARGE"),
        ("truncated.jpg", 415, "UNSUPPORTED_MEDIA"),
        ("random.jpg", 415, "UNSUPPORTED_MEDIA"),
        ("empty.jpg", 415, "UNSUPPORTED_MEDIA"),
        ("huge.jpg", 413, "SOURCE_TOO_LARGE"),
        ("huge-streamed.jpg", 413, "SOURCE_TOO_LARGE"),
        ("to-loopback.jpg", 403, "BLOCKED_ADDRESS"),
        ("to-metadata.jpg", 403, "BLOCKED_ADDRESS"),
        ("hang.jpg", 504, "TIMEOUT"),
        ("missing.jpg", 404, "NOT_FOUND"),
        ("500.jpg", 502, "ORIGIN_ERROR"),
    ],
)
def test_hostile_and_broken_originals_are_4xx_and_the_server_keeps_serving(
    gateway: str, key: str, status: int, code: str
) -> None:
    started = time.monotonic()
    response = get(f"{gateway}/acme/{key}?w=100&v=hostile")
    elapsed = time.monotonic() - started
    assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text
    assert response.headers["cache-control"] == "no-store"
    assert "127.0.0" not in response.text and "169.254" not in response.text
    # "within a second": the hanging origin is bounded by origin_timeout (1.5 s) instead.
    assert elapsed < (2.5 if key == "hang.jpg" else 1.0)
    # Not cached: the same request fails again the same way, and the server still serves.
    assert get(f"{gateway}/acme/{key}?w=100&v=hostile").status_code == status
    assert get(f"{gateway}/acme/photo-grey.jpg?w=32").status_code == 200


def test_svg_cannot_reach_the_network(gateway: str, origin: OriginServer) -> None:
    response = get(f"{gateway}/acme/external.svg?w=64&fm=png")
    assert response.status_code in (200, 415)
    assert origin.hits("/canary.png") == 0


def test_validation_errors_name_the_parameter(gateway: str) -> None:
    for query, name in (("w=abc", "w"), ("fit=cover", "fit"), ("wdith=3", "wdith"), ("q=101", "q"), ("w=1&w=2", "w")):
        response = get(f"{gateway}/acme/photo-kite.jpg?{query}")
        assert response.status_code == 400
        body = response.json()["error"]
        assert body["code"] == "VALIDATION_ERROR" and name in body["message"]
        assert response.headers["cache-control"] == "no-store"


def test_unknown_workspace_and_reserved_paths(gateway: str) -> None:
    assert get(f"{gateway}/nobody/photo-kite.jpg").json()["error"]["code"] == "NOT_FOUND"
    assert get(f"{gateway}/_/nothing-here").status_code == 404


def raw_get(base: str, path: str) -> tuple[int, bytes]:
    """Send ``path`` exactly as written: HTTP clients would remove dot segments before sending."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    "key",
    [
        "../README.md",
        "..%2FREADME.md",
        "%2e%2e/README.md",
        "%2E%2E%2F%2E%2E%2Fpyproject.toml",
        "photo-kite.jpg/../../x",
        "/etc/passwd",
        "..\\README.md",
    ],
)
def test_local_folder_keys_cannot_leave_the_folder(gateway: str, key: str) -> None:
    assert decode(get(f"{gateway}/demo/photo-kite.jpg?w=80&fm=png")).width == 80
    status, body = raw_get(gateway, f"/demo/{key}")
    assert status == 404, (key, body)
    assert json.loads(body)["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("key", ["%00photo-kite.jpg", "photo-kite.jpg%00", "photo%0d%0akite.jpg", "photo%7fkite.jpg"])
def test_keys_with_control_characters_are_refused_before_any_source(gateway: str, key: str) -> None:
    status, body = raw_get(gateway, f"/demo/{key}")
    assert status == 400, (key, body)
    assert json.loads(body)["error"] == {"code": "VALIDATION_ERROR", "message": "the path holds a control character"}
