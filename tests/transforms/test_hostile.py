"""Images are hostile input: every bad one is the right TransformError, quickly, and touches nothing."""

from __future__ import annotations

import hashlib
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import pyvips

from tests.transforms.images import RED, close, jpeg, mean_rgb, noisy, png, png_bomb, solid, svg
from tests.transforms.render import decoded, render
from transforms import vips
from transforms.errors import ImageTooLarge, UnsupportedImage
from transforms.pipeline import PixelBudget


@pytest.fixture(autouse=True, scope="module")
def _hardened_libvips():
    vips.configure(concurrency=2)


def test_png_bomb_is_refused_from_its_header():
    bomb = png_bomb()
    assert len(bomb) < 400_000
    for query in ("", "w=100", "w=10&h=10&fit=crop"):
        with pytest.raises(ImageTooLarge) as caught:
            render(bomb, query)
        assert caught.value.message == "the image is wider or taller than 32768 pixels"
    with pytest.raises(ImageTooLarge) as caught:
        render(bomb, "w=100", budget=PixelBudget(max_input_side=60_000))
    assert caught.value.message == "the image has more than 100,000,000 pixels"


def test_a_long_strip_within_the_pixel_budget_is_refused_by_the_side_cap():
    strip = png(solid(40_000, 1))
    with pytest.raises(ImageTooLarge):
        render(strip, "w=100")
    assert render(strip, "w=100", budget=PixelBudget(max_input_side=40_000)).width == 100


def test_pixel_budget_is_configurable():
    with pytest.raises(ImageTooLarge):
        render(png(solid(200, 100)), "w=10", budget=PixelBudget(max_pixels=19_999))
    assert render(png(solid(200, 100)), "w=10", budget=PixelBudget(max_pixels=20_000)).width == 10


@pytest.mark.parametrize("query", ["", "w=50", "fm=webp"])
def test_truncated_jpeg_is_refused(query):
    whole = jpeg(noisy(200, 200))
    with pytest.raises(UnsupportedImage) as caught:
        render(whole[: len(whole) // 2], query)
    assert "vips" not in caught.value.message.lower()


def test_corrupt_png_data_is_refused():
    whole = bytearray(png(noisy(64, 64)))
    start = whole.index(b"IDAT") + 100
    whole[start : start + 200] = bytes(200)
    with pytest.raises(UnsupportedImage):
        render(bytes(whole), "w=32")


def _noise(seed: bytes) -> bytes:
    return hashlib.shake_256(seed).digest(5000)  # arbitrary bytes, the same on every run


@pytest.mark.parametrize(
    "data",
    [
        b"",
        _noise(b"any"),
        b"\xff\xd8\xff" + _noise(b"jpeg"),  # JPEG magic, garbage after
        b"\x89PNG\r\n\x1a\n" + _noise(b"png"),
        b"GIF89a" + bytes(10),
        b"2 2\n1 2\n3 4\n",  # libvips' matrix text format: a loader we never let through
    ],
)
def test_not_an_image_is_unsupported(data):
    with pytest.raises(UnsupportedImage):
        render(data, "w=10")


def test_libvips_itself_refuses_loaders_outside_the_allow_list():
    # Defence in depth behind sniff: even called directly, libvips will not pick these loaders.
    with pytest.raises(pyvips.Error):
        pyvips.Image.new_from_buffer(b"2 2\n1 2\n3 4\n", "")
    with pytest.raises(pyvips.Error):
        pyvips.Image.new_from_source(pyvips.Source.new_from_memory(b"1,2,3\n4,5,6\n"), "")


def test_svg_can_be_switched_off():
    drawing = svg(10, 10)
    try:
        vips.configure(concurrency=2, allow_svg=False)
        with pytest.raises(UnsupportedImage):
            render(drawing, "w=5")
    finally:
        vips.configure(concurrency=2)
    assert render(drawing, "w=5").width == 5


# --- SVG references -----------------------------------------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        body = png(solid(10, 10, RED))
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_origin() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []
    handler = type("Recorder", (_Recorder,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _svg_with_image(href: str) -> bytes:
    return svg(
        40,
        40,
        '<rect width="40" height="40" fill="white"/>'
        f'<image href="{href}" xlink:href="{href}" width="40" height="40"/>'
        f'<rect width="40" height="40" fill="url({href}#p)" opacity="0.5"/>',
    )


def test_svg_external_image_is_not_fetched_and_not_drawn(http_origin):
    base, hits = http_origin
    drawing = _svg_with_image(f"{base}/x.png")
    for query in ("", "w=20&fm=jpg"):
        image = decoded(render(drawing, query))
        assert close(mean_rgb(image, 0, 0, image.width, image.height), (255, 255, 255), 2)
    render(svg(8, 8, f"<style>@import url({base}/s.css);</style>"))
    assert hits == []
    # The recorder does answer: a fetch, had one happened, would have been seen.
    with urllib.request.urlopen(f"{base}/probe") as response:
        assert response.status == 200
    assert hits == ["/probe"]


def test_svg_local_file_reference_is_not_drawn(tmp_path):
    red_file = tmp_path / "red.png"
    red_file.write_bytes(png(solid(40, 40, RED)))
    for href in (red_file.as_uri(), str(red_file), "red.png"):
        image = decoded(render(_svg_with_image(href), "fm=png"))
        assert not close(mean_rgb(image, 0, 0, 40, 40), RED, 60), href


def test_svg_external_entities_are_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    doctype = f'<!DOCTYPE svg [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'.encode()
    with pytest.raises(UnsupportedImage) as caught:
        render(doctype + svg(40, 40, '<text y="20">&x;</text>'))
    assert "s3cret" not in caught.value.message


def test_svg_declaring_a_huge_size_is_refused_before_rendering():
    with pytest.raises(ImageTooLarge):
        render(svg(30_000, 30_000, '<rect width="9" height="9"/>'), "w=10")
