"""imgix's own client libraries against a real gateway: every URL they build answers 200 at the size imgix gives.

imgix-python (a dev dependency) builds its URLs here, with its defaults (``ixlib`` on); ``@imgix/js-core``'s URLs
were generated at development time by its own code and committed (``fixtures/imgix_js_core_urls.json`` names the
version). The expected sizes are worked out from imgix's documented rules, not from imgate's code: ``w``/``h``
times ``dpr``, the source's aspect ratio unless ``fit`` cuts or fills a w×h box, ``ar`` only with ``fit=crop``,
``fit=max`` never enlarging, and ``rot``/effects keeping the frame.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import imgix
import pytest
import pyvips

from gateway.accounts.models import Workspace
from tests.integration.servers import GatewayProcess
from tests.support.origin_server import OriginServer

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parent / "fixtures"
CLIENT_HOST = "imgate.test"  # the domain both libraries were given; replaced by the gateway's address
PATH = "/demo/photo-kite.jpg"


@pytest.fixture(scope="module")
def source(images_dir: Path) -> bytes:
    return (images_dir / "photo-kite.jpg").read_bytes()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, source: bytes) -> Iterator[str]:
    with OriginServer() as origin:
        origin.file("/img/photo-kite.jpg", source, "image/jpeg")
        gw = GatewayProcess(tmp_path_factory.mktemp("gw"), trusted_networks="127.0.0.1/32")
        origin_settings = {"base_url": origin.url("/img/")}
        for namespace, compat, allowed in (
            ("demo", "strict", ("*",)),
            ("loose", "lenient", ("*",)),
            ("shop", "strict", ("https://shop.example",)),
        ):
            gw.add_workspace(
                Workspace(
                    namespace=namespace,
                    origin_kind="http",
                    origin=origin_settings,
                    imgix_compat=compat,
                    allowed_origins=allowed,
                )
            )
        with gw:
            yield gw.url


_ALIASES = {"width": "w", "height": "h", "f": "fit"}


def _sides(value: Fraction) -> set[int]:
    """The pixel counts a computed side may round to: imgix documents no rule for an exact half."""
    if value - math.floor(value) == 0.5:
        return {max(1, math.floor(value)), math.ceil(value)}
    return {max(1, math.floor(value + 0.5))}


def imgix_size(query: str, width: int, height: int) -> tuple[set[int], set[int]]:
    """The output sizes imgix documents for ``query`` on a ``width`` x ``height`` source (one per side, or two
    where the exact size ends in a half)."""
    params = {_ALIASES.get(name, name): value for name, value in parse_qsl(query)}
    dpr = Fraction(params.get("dpr", "1"))  # exact arithmetic: 1600 × 196/2560 is 122.5, not 122.4999
    fit = params.get("fit", "clip")
    if params.get("or") in ("90", "270"):
        width, height = height, width
    w = Fraction(params["w"]) * dpr if "w" in params else None
    h = Fraction(params["h"]) * dpr if "h" in params else None
    if "ar" in params and fit == "crop" and (w is None) != (h is None):
        aw, ah = (Fraction(part) for part in params["ar"].split(":"))
        if w is not None:
            h = w * ah / aw
        elif h is not None:
            w = h * aw / ah
    if w is not None and h is not None:
        if fit in ("crop", "fill", "fillmax", "clamp", "scale"):
            return _sides(w), _sides(h)
        scale = min(w / width, h / height)
    elif w is not None:
        scale = w / width
    elif h is not None:
        scale = h / height
    else:
        return {width}, {height}
    if fit == "max":
        scale = min(scale, Fraction(1))
    return _sides(width * scale), _sides(height * scale)


def python_client_urls() -> list[str]:
    """URLs imgix-python builds with its defaults: plain ones, a srcset by widths, by dpr with variable quality."""
    builder = imgix.UrlBuilder(CLIENT_HOST, use_https=False)
    urls = [
        builder.create_url(PATH, {"w": 400}),
        builder.create_url(PATH, {"w": 400.0, "lossless": True, "fm": "webp"}),  # Python's float and True spellings
        builder.create_url(PATH, {"w": 300, "h": 300, "fit": "crop", "crop": "top,left"}),
        builder.create_url(PATH, {"w": 640, "ar": "16:9", "fit": "crop"}),
        builder.create_url(PATH, {"w": 640, "ar": "16:9"}),  # imgix ignores ar without fit=crop
        builder.create_url(PATH, {"w": 300, "h": 200, "fit": "fill", "bg": "red"}),
        builder.create_url(PATH, {"w": 300, "h": 200, "fit": "fill", "fill": "blur"}),
        builder.create_url(PATH, {"w": 300, "h": 200, "fit": "fillmax", "fill-color": "#00ff00", "fill": "solid"}),
        builder.create_url(PATH, {"w": 250, "fm": "JPG", "q": 0}),
        builder.create_url(PATH, {"w": 250, "sharp": 1.5, "mono": "3366cc", "invert": "true"}),
        builder.create_url(PATH, {"w": 250, "rot": 45}),
        builder.create_url(PATH, {"w": 250, "dpr": 0.5}),
        builder.create_url(PATH, {"w": 250, "duotone": "000080,ffd700", "blend": "ff0000", "bm": "multiply"}),
        builder.create_url(PATH, {"w": 250, "mask": "ellipse", "fm": "png"}),
        builder.create_url(PATH, {"width": 220, "height": 220, "f": "crop"}),  # aliases
    ]
    for srcset in (
        builder.create_srcset(PATH, {}, start=100, stop=1600, tol=0.2),
        builder.create_srcset(PATH, {"auto": "format"}, widths=[320, 640, 960]),
        builder.create_srcset(PATH, {"w": 300}),  # dpr 1-5 with variable quality
        builder.create_srcset(PATH, {"h": 160, "ar": "3:2", "fit": "crop"}, disable_variable_quality=True),
    ):
        urls += [entry.strip().split(" ")[0] for entry in srcset.split(",\n")]
    return urls


def js_core_urls() -> list[str]:
    fixture = json.loads((FIXTURES / "imgix_js_core_urls.json").read_text())
    assert fixture["library"] == "@imgix/js-core" and fixture["version"]
    return [entry["url"] for entry in fixture["urls"]]


def _fetch(gateway: str, client_url: str) -> httpx.Response:
    parts = urlsplit(client_url)
    assert parts.netloc == CLIENT_HOST
    return httpx.get(f"{gateway}{parts.path}?{parts.query}", headers={"Accept": "image/avif,image/webp"}, timeout=60)


def _check_all(gateway: str, source: bytes, urls: list[str]) -> None:
    header = pyvips.Image.new_from_buffer(source, "")
    failures: list[tuple[str, object, object]] = []
    for url in urls:
        query = urlsplit(url).query
        response = _fetch(gateway, url)
        if response.status_code != 200:
            failures.append((url, response.status_code, response.text))
            continue
        image = pyvips.Image.new_from_buffer(response.content, "")
        expected = imgix_size(query, header.width, header.height)
        if image.width not in expected[0] or image.height not in expected[1]:
            failures.append((url, (image.width, image.height), expected))
    assert not failures, failures


def test_every_imgix_python_url_answers_at_imgix_size(gateway: str, source: bytes) -> None:
    urls = python_client_urls()
    assert all("ixlib=python-" in url for url in urls)  # the library's default, left on
    assert len(urls) > 30
    _check_all(gateway, source, urls)


def test_every_imgix_js_core_url_answers_at_imgix_size(gateway: str, source: bytes) -> None:
    urls = js_core_urls()
    assert all("ixlib=js-" in url for url in urls)
    assert len(urls) > 40
    _check_all(gateway, source, urls)


def test_ixlib_never_changes_the_output_nor_the_cache_key(gateway: str) -> None:
    plain = httpx.get(f"{gateway}/demo/photo-kite.jpg?w=333", timeout=30)
    tagged = httpx.get(f"{gateway}/demo/photo-kite.jpg?w=333&ixlib=python-4.0.0", timeout=30)
    assert plain.status_code == tagged.status_code == 200
    assert tagged.headers["etag"] == plain.headers["etag"]
    assert tagged.headers["x-imgate-cache"] == "memory"  # the same key: a hit, never a second render
    refused = httpx.get(f"{gateway}/demo/photo-kite.jpg?w=333&ixlib=" + "x" * 41, timeout=30)
    assert refused.status_code == 400
    assert refused.json()["error"]["message"].startswith("ixlib: ")


def test_strict_mode_refuses_what_imgate_lacks_and_says_so(gateway: str) -> None:
    response = httpx.get(f"{gateway}/demo/photo-kite.jpg?w=100&exp=20", timeout=30)
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "VALIDATION_ERROR",
        "message": "exp: is an imgix parameter imgate does not support",
    }
    assert "x-imgate-ignored" not in response.headers


def test_lenient_mode_renders_without_them_names_them_and_shares_the_key(gateway: str) -> None:
    clean = httpx.get(f"{gateway}/loose/photo-kite.jpg?w=120", timeout=30)
    assert clean.status_code == 200 and "x-imgate-ignored" not in clean.headers
    loose = httpx.get(f"{gateway}/loose/photo-kite.jpg?w=120&exp=20&fm=jp2&htn=5", timeout=30)
    assert loose.status_code == 200
    assert loose.headers["x-imgate-ignored"] == "exp, fm, htn"
    assert loose.headers["etag"] == clean.headers["etag"]
    assert loose.headers["x-imgate-cache"] == "memory"  # the ignored parameters are not in the key
    assert pyvips.Image.new_from_buffer(loose.content, "").width == 120
    # A parameter imgix does not have either stays an error in lenient mode too.
    unknown = httpx.get(f"{gateway}/loose/photo-kite.jpg?w=120&wdth=5", timeout=30)
    assert unknown.status_code == 400
    assert unknown.json()["error"]["message"] == "wdth: is not a known parameter"


def test_timing_allow_origin_follows_the_cors_decision(gateway: str) -> None:
    anyone = httpx.get(f"{gateway}/demo/photo-kite.jpg?w=90", headers={"Origin": "https://a.example"}, timeout=30)
    assert anyone.headers["access-control-allow-origin"] == "*"
    assert anyone.headers["timing-allow-origin"] == "*"
    allowed = httpx.get(f"{gateway}/shop/photo-kite.jpg?w=90", headers={"Origin": "https://shop.example"}, timeout=30)
    assert allowed.status_code == 200
    assert allowed.headers["timing-allow-origin"] == "https://shop.example"
    refused = httpx.get(f"{gateway}/shop/photo-kite.jpg?w=90", headers={"Origin": "https://evil.example"}, timeout=30)
    assert refused.status_code == 403
    assert "timing-allow-origin" not in refused.headers
    no_origin = httpx.get(f"{gateway}/shop/photo-kite.jpg?w=90", timeout=30)
    assert "timing-allow-origin" not in no_origin.headers and "access-control-allow-origin" not in no_origin.headers


def test_descriptive_outputs_answer_with_their_own_types(gateway: str) -> None:
    blurhash = httpx.get(f"{gateway}/demo/photo-kite.jpg?w=200&fm=blurhash&ixlib=js-3.8.0", timeout=30)
    assert blurhash.status_code == 200
    assert blurhash.headers["content-type"] == "text/plain; charset=utf-8"
    assert 20 <= len(blurhash.text) <= 40 and blurhash.text.isascii()
    palette = httpx.get(f"{gateway}/demo/photo-kite.jpg?palette=json&colors=3", timeout=30)
    assert palette.headers["content-type"] == "application/json"
    assert 1 <= len(palette.json()["colors"]) <= 3
    info = httpx.get(f"{gateway}/demo/photo-kite.jpg?fm=json", timeout=30).json()
    assert info["blurhash"] and info["thumbhash"]
