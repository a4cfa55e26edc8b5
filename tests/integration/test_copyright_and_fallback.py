"""Two workspace settings over real HTTP (Granian-served gateway, HTTP origin on loopback): ``keep_copyright``
keeps the source's credits in outputs, ``fallback_image`` answers an image instead of the origin's and the
transform's JSON errors."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import pyvips

from gateway.accounts.models import Workspace
from tests.integration import hostile
from tests.integration.servers import GatewayProcess, imgate
from tests.support.origin_server import OriginServer
from tests.transforms.credits import ARTIST_TEXT, COPYRIGHT_TEXT, IPTC_KEPT, iptc, metadata, tagged_photo
from transforms.copyright import ARTIST, COPYRIGHT, ifd0_ascii

pytestmark = pytest.mark.integration

MAGENTA = [255, 0, 255]


def _fallback_png() -> bytes:
    # 400x200 magenta: unmistakable in an answer, and a different shape from every photo served here.
    return bytes((pyvips.Image.black(400, 200) + MAGENTA).cast("uchar").copy(interpretation="srgb").pngsave_buffer())


@pytest.fixture(scope="module")
def origin(images_dir: Path) -> Iterator[OriginServer]:
    with OriginServer() as server:
        server.file("/img/tagged.jpg", tagged_photo(images_dir / "photo-colorfulcups.jpg"), "image/jpeg")
        server.file("/img/kite.jpg", (images_dir / "photo-kite.jpg").read_bytes(), "image/jpeg")
        server.file("/img/fallback.png", _fallback_png(), "image/png")
        server.file("/img/random.jpg", hostile.random_bytes())
        server.file("/img/bomb.png", hostile.png_bomb(), "image/png")
        server.status("/img/500.jpg", 500)
        server.stall_headers("/img/hang.jpg")
        yield server


def _workspace(namespace: str, origin: OriginServer, **settings: Any) -> Workspace:
    return Workspace(namespace=namespace, origin_kind="http", origin={"base_url": origin.url("/img/")}, **settings)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, origin: OriginServer) -> Iterator[GatewayProcess]:
    gw = GatewayProcess(
        tmp_path_factory.mktemp("gw"), origin_timeout="1.5", origin_connect_timeout="1", trusted_networks="127.0.0.1/32"
    )
    gw.add_workspace(_workspace("credits", origin, keep_copyright=True))
    gw.add_workspace(_workspace("plain", origin))
    gw.add_workspace(
        _workspace(
            "fb",
            origin,
            fallback_image="fallback.png",
            allowed_origins=("https://shop.example",),
            allowed_sources=(f"127.0.0.1:{origin.port}", "169.254.169.254"),
        )
    )
    gw.add_workspace(_workspace("fb-broken", origin, fallback_image="missing/fallback.png"))
    with gw:
        yield gw


def get(url: str, **headers: str) -> httpx.Response:
    return httpx.get(url, headers=headers, timeout=20)


# --- keep copyright ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fm", ["jpg", "webp"])
def test_a_workspace_keeping_copyright_keeps_only_the_credits(gateway: GatewayProcess, fm: str) -> None:
    response = get(f"{gateway.url}/credits/tagged.jpg?w=320&fm={fm}")
    assert response.status_code == 200, response.text
    fields = metadata(response.content)
    exif = ifd0_ascii(fields["exif-data"])
    assert exif[ARTIST] == ARTIST_TEXT.encode() + b"\x00" and exif[COPYRIGHT] == COPYRIGHT_TEXT.encode() + b"\x00"
    assert not [name for name in fields if "GPS" in name or "Make" in name or name == "jpeg-thumbnail-data"]
    assert b"Jane Doe" in fields["xmp-data"] and b"GPS" not in fields["xmp-data"]
    if fm == "jpg":
        assert iptc(fields) == IPTC_KEPT
    # The same URL on a workspace without the setting: nothing at all.
    plain = get(f"{gateway.url}/plain/tagged.jpg?w=320&fm={fm}")
    assert plain.status_code == 200
    assert not {"exif-data", "xmp-data", "iptc-data"} & set(metadata(plain.content))
    assert b"Jane Doe" not in plain.content


def test_switching_it_changes_the_cache_key(gateway: GatewayProcess, origin: OriginServer) -> None:
    url = f"{gateway.url}/credits/tagged.jpg?w=200"
    first = get(url)
    assert first.status_code == 200 and b"Jane Doe" in first.content
    assert get(url).headers["x-imgate-cache"] == "memory"
    gateway.add_workspace(_workspace("credits", origin, keep_copyright=False))
    try:
        deadline = time.monotonic() + 10
        while True:  # the tenancy TTL is 0.2 s here
            switched = get(url)
            if b"Jane Doe" not in switched.content or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        # Not the kept output served from memory: a new render under a new key, stripped.
        assert b"Jane Doe" not in switched.content and switched.headers["x-imgate-cache"] == "miss"
    finally:
        gateway.add_workspace(_workspace("credits", origin, keep_copyright=True))


# --- fallback image ----------------------------------------------------------------------------------------


def _assert_fallback(response: httpx.Response, status: int, code: str, width: int) -> None:
    assert response.status_code == status, response.text[:200]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-imgate-error"] == code
    assert response.headers["content-type"].startswith("image/")
    image = pyvips.Image.new_from_buffer(response.content, "")
    assert image.width == width and image.height == width // 2
    assert [round(v) for v in image(width // 2, width // 4)[:3]] == MAGENTA


@pytest.mark.parametrize(
    ("key", "status", "code"),
    [
        ("nowhere.jpg", 404, "NOT_FOUND"),
        ("500.jpg", 502, "ORIGIN_ERROR"),
        ("random.jpg", 415, "UNSUPPORTED_MEDIA"),
        ("bomb.png", 413, "SOURCE_TOO_LARGE"),
        ("hang.jpg", 504, "TIMEOUT"),
    ],
)
def test_errors_of_the_source_answer_the_fallback_with_their_status(
    gateway: GatewayProcess, key: str, status: int, code: str
) -> None:
    # Transformed with the request's parameters: 120 px wide, as the page's slot asked.
    _assert_fallback(get(f"{gateway.url}/fb/{key}?w=120&fm=png"), status, code, 120)


def test_a_src_url_that_fails_answers_the_fallback_and_a_blocked_one_keeps_the_json(
    gateway: GatewayProcess, origin: OriginServer
) -> None:
    missing = get(f"{gateway.url}/fb/?src={quote(origin.url('/img/nowhere.jpg'), safe='')}&w=120&fm=png")
    _assert_fallback(missing, 404, "NOT_FOUND", 120)
    blocked = get(f"{gateway.url}/fb/?src={quote('http://169.254.169.254/latest/x.jpg', safe='')}&w=120")
    assert blocked.status_code == 403 and blocked.json()["error"]["code"] == "BLOCKED_ADDRESS"


def test_parameters_the_fallback_cannot_take_give_it_as_it_is(gateway: GatewayProcess) -> None:
    # rect outside the 400x200 fallback is refused for it: the fallback is answered at its own size instead.
    response = get(f"{gateway.url}/fb/nowhere.jpg?rect=1000,1000,100,100&fm=png")
    _assert_fallback(response, 404, "NOT_FOUND", 400)


def test_the_fallback_is_negotiated_and_carries_cors(gateway: GatewayProcess) -> None:
    response = get(
        f"{gateway.url}/fb/nowhere.jpg?w=100&auto=format", accept="image/webp,*/*", origin="https://shop.example"
    )
    assert response.status_code == 404 and response.headers["content-type"] == "image/webp"
    assert response.headers["access-control-allow-origin"] == "https://shop.example"
    assert "Accept" in response.headers["vary"] and "Origin" in response.headers["vary"]


def test_decisions_keep_the_json_error(gateway: GatewayProcess) -> None:
    invalid = get(f"{gateway.url}/fb/nowhere.jpg?w=abc")
    assert invalid.status_code == 400 and invalid.json()["error"]["code"] == "VALIDATION_ERROR"
    refused = get(f"{gateway.url}/fb/nowhere.jpg?w=100", origin="https://evil.example")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "ORIGIN_NOT_ALLOWED"
    for response in (invalid, refused):
        assert "x-imgate-error" not in response.headers


def test_without_a_fallback_or_with_a_broken_one_the_json_error_stands(gateway: GatewayProcess) -> None:
    for namespace in ("plain", "fb-broken"):
        response = get(f"{gateway.url}/{namespace}/nowhere.jpg?w=100")
        assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
        assert "x-imgate-error" not in response.headers


def test_the_fallback_is_never_kept_as_the_image(
    gateway: GatewayProcess, origin: OriginServer, images_dir: Path
) -> None:
    url = f"{gateway.url}/fb/later.jpg?w=120&fm=png"
    for _ in range(2):
        _assert_fallback(get(url), 404, "NOT_FOUND", 120)
    origin.file("/img/later.jpg", (images_dir / "photo-kite.jpg").read_bytes(), "image/jpeg")
    appeared = get(url)
    assert appeared.status_code == 200 and "x-imgate-error" not in appeared.headers
    assert pyvips.Image.new_from_buffer(appeared.content, "").height != 60  # the photo, not the 2:1 fallback


def test_the_fallback_itself_is_served_normally(gateway: GatewayProcess) -> None:
    response = get(f"{gateway.url}/fb/fallback.png?w=100")
    assert response.status_code == 200 and "x-imgate-error" not in response.headers
    assert response.headers["cache-control"].startswith("public")


# --- the settings, through the CLI ---------------------------------------------------------------------------


def test_the_cli_sets_both(tmp_path: Path) -> None:
    data = tmp_path / "gw"
    assert imgate(data, "workspace", "create", "shop", "--origin", "none").returncode == 0
    changed = imgate(data, "workspace", "update", "shop", "--keep-copyright", "--fallback-image", "errors/x.png")
    assert changed.returncode == 0, changed.stderr
    assert '"keep_copyright": true' in changed.stdout and '"fallback_image": "errors/x.png"' in changed.stdout
    off = imgate(data, "workspace", "update", "shop", "--no-keep-copyright", "--fallback-image", "")
    assert '"keep_copyright": false' in off.stdout and '"fallback_image": ""' in off.stdout
    refused = imgate(data, "workspace", "update", "shop", "--fallback-image", "../outside.png")
    assert refused.returncode != 0 and "inside the origin" in refused.stderr


def test_the_settings_round_trip_the_sqlite_store(tmp_path: Path) -> None:
    from gateway.accounts.sqlite import SqliteAccountStore

    store = SqliteAccountStore(tmp_path / "a.sqlite3")
    try:
        store.create_workspace(Workspace(namespace="shop", keep_copyright=True, fallback_image="e/404.png"))
        stored = store.get_workspace("shop")
        assert stored is not None and stored.keep_copyright is True and stored.fallback_image == "e/404.png"
        assert dataclasses.replace(stored, keep_copyright=False).keep_copyright is False
    finally:
        store.close()
