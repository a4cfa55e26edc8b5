"""``mark_spec``: the one builder from a stored preset and URL overrides to the ``MarkSpec`` that is stamped."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import pyvips

from gateway.accounts.models import MarkPreset
from gateway.marks.presets import mark_spec
from transforms.errors import InvalidParameter, UnsupportedImage

IMAGE = bytes(pyvips.Image.black(20, 10).new_from_image([255, 255, 255]).pngsave_buffer())
TEXT = MarkPreset(
    "acme",
    "credit",
    kind="text",
    text="ACME",
    font="serif bold",
    font_size=28,
    color="f00",
    background="80000000",
    align="top,left",
    alpha=70,
    scale=0.2,
    pad=4,
    w=200,
    h=40,
    tile=True,
)
LOGO = MarkPreset("acme", "logo", kind="image", image_key="brand/logo.png")


def test_a_text_preset_keeps_every_field() -> None:
    spec = mark_spec(TEXT, None)
    assert (spec.text, spec.font, spec.font_size, spec.color, spec.background) == (
        "ACME",
        "serif bold",
        28,
        "ff0000",
        "80000000",
    )
    assert (spec.align, spec.alpha, spec.scale, spec.pad, spec.w, spec.h, spec.tile) == (
        ("top", "left"),
        70,
        0.2,
        4,
        200,
        40,
        True,
    )
    assert spec.image is None


def test_an_image_preset_takes_the_image_bytes() -> None:
    spec = mark_spec(LOGO, IMAGE)
    assert spec.image == IMAGE and spec.text is None and spec.align == ("bottom", "right")
    with pytest.raises(InvalidParameter):
        mark_spec(LOGO, None)
    with pytest.raises(UnsupportedImage):
        mark_spec(LOGO, b"not an image")


def test_overrides_win_and_name_the_url_parameter() -> None:
    overrides = {
        "mark-align": "middle,center",
        "mark-alpha": "10",
        "mark-scale": "50",
        "mark-pad": "0",
        "mark-w": "30",
        "mark-h": "5",
    }
    spec = mark_spec(TEXT, None, overrides)
    assert (spec.align, spec.alpha, spec.scale, spec.pad, spec.w, spec.h) == (("middle", "center"), 10, 0.5, 0, 30, 5)
    assert spec.tile is True  # not a URL override: the owner decides
    for name, bad in overrides.items():
        with pytest.raises(InvalidParameter) as refused:
            mark_spec(TEXT, None, {name: bad + "x"})
        assert refused.value.param == name


def test_other_names_are_not_overrides() -> None:
    for name in ("mark", "mark-tile", "alpha", "mark-color"):
        with pytest.raises(InvalidParameter) as refused:
            mark_spec(TEXT, None, {name: "1"})
        assert refused.value.param == name


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("alpha", 101),
        ("scale", 1.5),
        ("pad", 5000),
        ("w", 0),
        ("h", 10_000),
        ("align", "up,left"),
        ("color", "nothex"),
        ("background", "12345"),
        ("font", "a,b"),
        ("font_size", 0),
    ],
)
def test_every_stored_field_is_validated_under_its_own_name(field: str, value: Any) -> None:
    # Stores are written by more than one program: a preset read back is checked like any input.
    preset = dataclasses.replace(TEXT, **{field: value})
    with pytest.raises(InvalidParameter) as refused:
        mark_spec(preset, None)
    assert refused.value.param == field


def test_the_fingerprint_covers_placement_and_content() -> None:
    base = mark_spec(TEXT, None).fingerprint()
    assert mark_spec(TEXT, None).fingerprint() == base
    for changed in (
        dataclasses.replace(TEXT, tile=False),
        dataclasses.replace(TEXT, alpha=71),
        dataclasses.replace(TEXT, text="ACME!"),
    ):
        assert mark_spec(changed, None).fingerprint() != base
    assert mark_spec(TEXT, None, {"mark-pad": "5"}).fingerprint() != base
