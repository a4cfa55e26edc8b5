"""Property: any valid combination of parameters renders at the size the oracle predicts from the options."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.transforms.images import noisy, png
from tests.transforms.oracle import predict_size
from tests.transforms.render import decoded, render
from transforms import vips
from transforms.errors import ImageTooLarge, InvalidParameter
from transforms.options import number_text
from transforms.params import parse_query


@pytest.fixture(autouse=True, scope="module")
def _hardened_libvips():
    vips.configure(concurrency=1)


pixels_or_ratio = st.integers(1, 240).map(str) | st.integers(1, 9999).map(lambda k: number_text(k / 10_000))
maybe = st.none().__or__


@st.composite
def requests(draw: st.DrawFn) -> tuple[int, int, str]:
    """(source width, source height, query) with every value valid and every combination allowed."""
    width, height = draw(st.integers(1, 160)), draw(st.integers(1, 160))
    params: dict[str, str | None] = {}
    shape = draw(st.sampled_from(["", "w", "h", "wh", "w+ar", "h+ar", "ar"]))
    if "w" in shape:
        params["w"] = draw(pixels_or_ratio)
    if "h" in shape:
        params["h"] = draw(pixels_or_ratio)
    if "ar" in shape:
        params["ar"] = draw(st.sampled_from(["1:1", "16:9", "3:4", "1.91:1", "2:5"]))
    params["dpr"] = draw(maybe(st.sampled_from(["1", "1.5", "2"])))
    params["fit"] = draw(maybe(st.sampled_from(["clip", "crop", "fill", "fillmax", "clamp", "max", "min", "scale"])))
    crop = draw(maybe(st.sampled_from(["top", "left", "bottom,right", "entropy", "attention", "focalpoint"])))
    params["crop"] = crop
    if crop == "focalpoint":
        params["fp-x"] = draw(maybe(st.integers(0, 100).map(lambda k: number_text(k / 100))))
        params["fp-y"] = draw(maybe(st.integers(0, 100).map(lambda k: number_text(k / 100))))
        params["fp-z"] = draw(maybe(st.sampled_from(["1", "1.5", "3"])))
    if draw(st.booleans()):
        x, y = draw(st.integers(0, width - 1)), draw(st.integers(0, height - 1))
        rect_w, rect_h = draw(st.integers(1, width - x)), draw(st.integers(1, height - y))
        params["rect"] = f"{x},{y},{rect_w},{rect_h}"
    params["orient"] = draw(maybe(st.sampled_from(["0", "90", "180", "270"])))
    params["flip"] = draw(maybe(st.sampled_from(["h", "v", "hv"])))
    params["pad"] = draw(maybe(st.integers(0, 12).map(str)))
    for side in ("top", "right", "bottom", "left"):
        params[f"pad-{side}"] = draw(maybe(st.integers(0, 12).map(str)))
    adjustments = st.sampled_from(
        [
            ("blur", "30"),
            ("sat", "-100"),
            ("sharp", "40"),
            ("rot", "33"),
            ("px", "5"),
            ("border", "3,red"),
            ("mask", "ellipse"),
            ("usm", "40"),
            ("duotone", "navy,gold"),
            ("fill", "blur"),
        ]
    )
    for name, value in draw(st.lists(adjustments, max_size=2, unique=True)):
        params[name] = value
    params["fm"] = draw(st.sampled_from(["png", "png", "jpg", "webp", "png8"]))
    query = "&".join(f"{name}={value}" for name, value in params.items() if value is not None)
    return width, height, query


@given(requests())
def test_any_valid_combination_renders_at_the_predicted_size(request):
    width, height, query = request
    expected = predict_size(parse_query(query), width, height)
    source = png(noisy(width, height))
    if expected is None:
        with pytest.raises((InvalidParameter, ImageTooLarge)):
            render(source, query)
        return
    output = render(source, query)
    assert (output.width, output.height) == expected, query
    image = decoded(output)
    assert (image.width, image.height) == expected
