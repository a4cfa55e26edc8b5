"""Faces, text overlays and mark=<key> over the request path: parsed, keyed and rendered like any parameter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import pyvips

from tests.gateway.delivery.parts import PHOTOS, Parts, request

pytestmark = pytest.mark.anyio

PORTRAIT = (Path(__file__).parents[2] / "transforms" / "fixtures" / "astronaut.jpg").read_bytes()
LOGO = PHOTOS["alpha-elarun.png"]


@pytest.fixture
def portrait(parts: Parts) -> Parts:
    parts.source.objects["people/astronaut.jpg"] = PORTRAIT
    return parts


async def test_fm_json_with_faces_answers_the_boxes_and_is_its_own_entry(portrait: Parts) -> None:
    with_faces = await portrait.path.serve(request("/acme/people/astronaut.jpg?fm=json&faces=1"))
    plain = await portrait.path.serve(request("/acme/people/astronaut.jpg?fm=json"))
    assert with_faces.status == plain.status == 200
    (face,) = json.loads(with_faces.body)["faces"]
    assert abs(face["x"] - 177) < 10 and abs(face["width"] - 97) < 10
    assert "faces" not in json.loads(plain.body)


async def test_a_face_crop_and_a_text_overlay_render(portrait: Parts) -> None:
    cropped = await portrait.path.serve(request("/acme/people/astronaut.jpg?w=300&h=100&fit=crop&crop=faces"))
    assert cropped.status == 200
    image = pyvips.Image.new_from_buffer(cropped.body, "")
    assert (image.width, image.height) == (300, 100)
    texted = await portrait.path.serve(request("/acme/people/astronaut.jpg?w=200&txt=%3Cb%3EHi&txt-size=30"))
    plain = await portrait.path.serve(request("/acme/people/astronaut.jpg?w=200"))
    assert texted.status == 200 and texted.body != plain.body
    refused = await portrait.path.serve(request("/acme/people/astronaut.jpg?w=200&txt-font=Arial"))
    assert refused.status == 400 and "txt-font" in json.loads(refused.body)["error"]["message"]


async def test_mark_key_from_the_origin_and_never_a_url(portrait: Parts) -> None:
    portrait.source.objects["brand/logo.png"] = LOGO
    marked = await portrait.path.serve(request("/acme/photo-grey.jpg?w=200&mark=brand/logo.png&mark-scale=30"))
    plain = await portrait.path.serve(request("/acme/photo-grey.jpg?w=200"))
    assert marked.status == 200 and marked.body != plain.body
    url = await portrait.path.serve(request("/acme/photo-grey.jpg?w=200&mark=https://evil.example/x.png"))
    assert url.status == 400 and "never a URL" in json.loads(url.body)["error"]["message"]
