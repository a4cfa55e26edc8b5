"""Output quality stays honest: SSIM against a reference rendered from the full-size decode, over real photos.

The reference is what the slowest honest path gives: every pixel decoded, then libvips' ``resize`` with the same
kernel. Outputs are PNG, so the score measures the resampling alone, not JPEG's losses. Two checks per output:

- a floor (``FLOOR``), below the lowest score measured on the corpus (0.9706: a 5120 px photo at 1200 px, the
  reduction just past a DCT factor), so a change that blurs, shifts or aliases the result fails;
- at least the score of thumbor's way (Pillow's ``draft`` DCT-scaled decode, then ``LANCZOS``), less
  ``THUMBOR_SLACK``: measured equal to the fourth decimal on every corpus JPEG.

SSIM is scikit-image's (mean structural similarity over the three channels, 8-bit range).
"""

from __future__ import annotations

import importlib
import io
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import pyvips

from tests.conftest import require
from transforms import vips
from transforms.negotiate import choose_format
from transforms.params import parse_query
from transforms.pipeline import PixelBudget, run
from transforms.scale_on_load import KERNEL

FLOOR = 0.965
THUMBOR_SLACK = 0.001
WIDTHS = (400, 1200)
SOURCES = (
    "photo-kite.jpg",
    "photo-path.jpg",
    "photo-colorfulcups.jpg",  # progressive
    "photo-summer-1am.jpg",  # progressive
    "photo-eveningglow.jpg",
    "photo-grey.jpg",
    "large-safelanding-5120.jpg",
    "large-volna-5120-progressive.jpg",
    "webp-adwaita-4096.webp",
    "vector-blobs.svg",
    "large-milkyway-5120.png",
)


@pytest.fixture(autouse=True, scope="module")
def _hardened_libvips():
    vips.configure(concurrency=1)


def _library(name: str) -> ModuleType:
    # Dev dependencies (pyproject.toml): a laptop without them skips, CI fails.
    try:
        return importlib.import_module(name)
    except ImportError:
        require(False, f"{name} is not installed (a dev dependency)")
        raise


class Quality:
    """The metric, the references and the three renderings, over numpy arrays of 8-bit RGB."""

    def __init__(self) -> None:
        self.np: Any = _library("numpy")
        self.metrics: Any = _library("skimage.metrics")
        self.pil: Any = _library("PIL.Image")

    def pixels(self, image: Any) -> Any:
        if image.bands < 3:
            image = image.colourspace("srgb")
        if image.hasalpha():
            image = image.flatten(background=[255, 255, 255])
        shape = [image.height, image.width, image.bands]
        return self.np.ndarray(buffer=image.write_to_memory(), dtype=self.np.uint8, shape=shape)

    def ssim(self, a: Any, b: Any) -> float:
        assert a.shape == b.shape
        return float(self.metrics.structural_similarity(a, b, channel_axis=2, data_range=255))

    def reference(self, data: bytes, width: int) -> Any:
        full = pyvips.Image.new_from_buffer(data, "").autorot()
        height = max(1, int(full.height * width / full.width + 0.5))
        return self.pixels(full.resize(width / full.width, vscale=height / full.height, kernel=KERNEL))

    def imgate(self, data: bytes, width: int) -> Any:
        options = parse_query(f"w={width}&fm=png")
        chosen, _ = choose_format(options, None)
        return self.pixels(pyvips.Image.new_from_buffer(run(data, options, chosen, PixelBudget()).data, ""))

    def thumbors_way(self, data: bytes, width: int) -> Any:
        image = self.pil.open(io.BytesIO(data))
        height = max(1, int(image.height * width / image.width + 0.5))
        image.draft("RGB", (width, height))
        return self.np.asarray(image.convert("RGB").resize((width, height), self.pil.LANCZOS))


@pytest.fixture(scope="module")
def quality() -> Quality:
    return Quality()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", SOURCES)
def test_outputs_stay_above_the_floor_and_at_thumbors_quality(
    corpus: Path, quality: Quality, name: str, width: int
) -> None:
    path = corpus / name
    require(path.is_file(), f"{name} is not in the shared corpus")
    data = path.read_bytes()
    expected = quality.reference(data, width)
    score = quality.ssim(quality.imgate(data, width), expected)
    assert score >= FLOOR, f"{name} at {width} px: SSIM {score:.4f} under the floor {FLOOR}"
    if name.endswith(".jpg"):
        theirs = quality.ssim(quality.thumbors_way(data, width), expected)
        assert score >= theirs - THUMBOR_SLACK, f"{name} at {width} px: SSIM {score:.4f}, thumbor's way {theirs:.4f}"


def test_the_floor_catches_a_blurred_result(corpus: Path, quality: Quality) -> None:
    # The metric must be able to fail: the same photo decoded at 1/8 and enlarged back scores under the floor.
    data = (corpus / "photo-path.jpg").read_bytes()
    expected = quality.reference(data, 1200)
    decoded = pyvips.Image.new_from_buffer(data, "", shrink=8)
    blurred = decoded.resize(1200 / decoded.width, vscale=expected.shape[0] / decoded.height, kernel="linear")
    assert quality.ssim(quality.pixels(blurred), expected) < FLOOR


@pytest.mark.parametrize("name", ["photo-kite.jpg", "photo-colorfulcups.jpg", "large-safelanding-5120.jpg"])
def test_a_rect_cut_from_a_scaled_decode_stays_above_the_floor(corpus: Path, quality: Quality, name: str) -> None:
    data = (corpus / name).read_bytes()
    full = pyvips.Image.new_from_buffer(data, "").autorot()
    region = (full.width // 4, full.height // 4, full.width // 2, full.height // 2)
    width = region[2] // 4  # a 4x reduction of the cut: decoded at 1/4, then cut
    options = parse_query(f"rect={','.join(map(str, region))}&w={width}&fm=png")
    chosen, _ = choose_format(options, None)
    out = quality.pixels(pyvips.Image.new_from_buffer(run(data, options, chosen, PixelBudget()).data, ""))
    cut = full.extract_area(*region)
    height = max(1, int(cut.height * width / cut.width + 0.5))
    expected = quality.pixels(cut.resize(width / cut.width, vscale=height / cut.height, kernel=KERNEL))
    score = quality.ssim(out, expected)
    assert score >= FLOOR, f"{name}, rect at {width} px: SSIM {score:.4f} under the floor {FLOOR}"
