"""Every parameter of imgix's published list is either implemented or refused as one imgate does not support.

The list is imgix's own (``fixtures/imgix_url_params.json``: names and aliases of the ``imgix-url-params``
package, whose version and licence the fixture names). A name the gateway reads itself (marks, signing, presets)
counts as implemented; every other one must parse, or be refused with "is an imgix parameter imgate does not
support", never "is not a known parameter"; and lenient mode renders without each of them instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.delivery.plans import GATEWAY_PARAMETERS, split_query
from transforms.capabilities import lacking
from transforms.errors import InvalidParameter
from transforms.imgix import ALIASES, IMGIX_LIST_VERSION, PUBLISHED, canonical_name
from transforms.params import PARAMETERS, parse

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "imgix_url_params.json").read_text())
# A value each implemented parameter takes, so the test also shows it parses (not only that the name is known).
SAMPLES = {
    "ar": "16:9",
    "auto": "format",
    "bg": "red",
    "blend": "ff0000",
    "blend-color": "red",
    "blend-mode": "screen",
    "border": "4,000",
    "border-radius": "4",
    "corner-radius": "1,2,3,4",
    "crop": "edges",
    "duotone": "black,white",
    "fill": "blur",
    "fit": "fillmax",
    "flip": "hv",
    "fm": "PNG8",
    "lossless": "True",
    "mask": "ellipse",
    "orient": "6",
    "palette": "json",
    "rect": "0,0,10,10",
    "trim": "alpha",
}


def _aliases() -> dict[str, str]:
    # The package also lists a name as its own alias, and one entry that is a parameter with a value.
    return {alias: name for alias, name in FIXTURE["aliases"].items() if alias != name and "=" not in alias}


def test_the_code_carries_the_published_list() -> None:
    assert IMGIX_LIST_VERSION == FIXTURE["version"]
    assert frozenset(FIXTURE["parameters"]) == PUBLISHED
    assert _aliases() == dict(ALIASES)


@pytest.mark.parametrize("written", sorted(FIXTURE["parameters"]) + sorted(_aliases()))
def test_each_published_name_is_implemented_or_refused_as_unsupported(written: str) -> None:
    name = canonical_name(written)
    if name in GATEWAY_PARAMETERS:
        return  # the gateway reads it itself (marks, signed URLs, presets); its own tests cover it
    if name in PARAMETERS:
        value = SAMPLES.get(name, "1")
        try:
            parse([(written, value)])
        except InvalidParameter as exc:  # a value the sample does not fit, or one imgate lacks (fm=jp2)
            assert "does not support" not in exc.message or written == "fm", exc.message
            assert exc.param == written
        return
    with pytest.raises(InvalidParameter) as caught:
        parse([(written, "1")])
    assert caught.value.message.startswith(f"{written}: is an imgix parameter imgate does not support")
    ignored: list[str] = []
    assert parse([(written, "1"), ("w", "10")], ignored=ignored).w == 10
    assert ignored == [written]


def test_implemented_samples_parse_in_their_imgix_spelling() -> None:
    for name, value in SAMPLES.items():
        parse([(name, value)])  # raises on any refusal


def test_aliases_arrive_under_the_published_name() -> None:
    assert split_query(b"width=10&f=crop&or=90&mono=red") == {
        "w": "10",
        "fit": "crop",
        "orient": "90",
        "monochrome": "red",
    }
    assert parse(split_query(b"width=10&height=20&f=crop").items()).canonical() == "fit=crop&h=20&w=10"
    with pytest.raises(Exception, match="w: given more than once"):
        split_query(b"w=10&width=20")


def test_unsupported_values_are_refused_or_left_out_in_lenient_mode() -> None:
    for query, message in (
        ("fm=jp2", "fm: jp2 is an imgix format imgate does not support: " + lacking("jp2ksave", "JPEG 2000 saver")),
        ("auto=format,enhance", "auto: enhance is an imgix value imgate does not support"),
    ):
        name, value = query.split("=", 1)
        with pytest.raises(InvalidParameter) as caught:
            parse([(name, value)])
        assert caught.value.message.startswith(message)
        ignored: list[str] = []
        assert parse([(name, value)], ignored=ignored).fm is None
        assert ignored == [name]


def test_names_imgix_does_not_have_stay_unknown_in_both_modes() -> None:
    modes: tuple[list[str] | None, ...] = (None, [])
    for ignored in modes:
        with pytest.raises(InvalidParameter) as caught:
            parse([("wdth", "5")], ignored=ignored)
        assert caught.value.message == "wdth: is not a known parameter"


def test_ixlib_is_checked_and_left_out() -> None:
    assert parse([("ixlib", "python-4.0.0"), ("w", "5")]).canonical() == "w=5"
    for bad in ("", "a b", "x" * 41, "js/3.8"):
        with pytest.raises(InvalidParameter) as caught:
            parse([("ixlib", bad)])
        assert caught.value.param == "ixlib"
