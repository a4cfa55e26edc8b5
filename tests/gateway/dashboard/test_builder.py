"""The URL builder without JavaScript: the form is a GET that renders the URL, the preview and the snippets."""

from __future__ import annotations

import html

import pytest
from starlette.datastructures import QueryParams

from gateway.dashboard.builder_pages import build, imgix_snippet, srcset
from tests.gateway.dashboard.support import DASH, Dash

pytestmark = pytest.mark.anyio


def test_build_writes_the_parameters_in_a_fixed_order() -> None:
    url, params = build("acme", QueryParams("fm=webp&target=products/red shoe.jpg&w=640&fit=crop&h=&blur=3"))
    assert url == "/acme/products/red%20shoe.jpg?w=640&fit=crop&fm=webp&blur=3"
    assert params == {"w": "640", "fit": "crop", "fm": "webp", "blur": "3"}
    src, _ = build("acme", QueryParams("source=src&target=https://cdn.example.com/a.jpg&w=100"))
    assert src == "/acme/?src=https%3A%2F%2Fcdn.example.com%2Fa.jpg&w=100"
    capture, _ = build("acme", QueryParams("source=capture&target=https://example.com/&w=600"))
    assert capture.startswith("/acme/?capture=https%3A%2F%2Fexample.com%2F&w=600")


def test_snippets() -> None:
    tag = srcset("http://img.example/acme/a.jpg?w=300&fm=webp")
    assert "a.jpg?fm=webp&w=320 320w" in tag and "a.jpg?fm=webp&w=1920 1920w" in tag and 'sizes="' in tag
    assert 'client.buildURL("/acme/a.jpg", {"w": "640"})' in imgix_snippet("img.example", "/acme/a.jpg", {"w": "640"})


async def test_the_page_renders_the_url_and_the_preview(dash: Dash) -> None:
    await dash.sign_up("ana@example.com", "acme")
    page = await dash.client.get(f"{DASH}/w/acme/builder", params={"target": "kite.jpg", "w": "320", "fm": "webp"})
    assert page.status_code == 200
    assert 'src="/acme/kite.jpg?w=320&amp;fm=webp"' in page.text
    assert html.escape("http://127.0.0.1/acme/kite.jpg?w=320&fm=webp", quote=False) in page.text
    evil = await dash.client.get(f"{DASH}/w/acme/builder", params={"target": '"><script>alert(1)</script>'})
    assert "<script>alert(1)</script>" not in evil.text
