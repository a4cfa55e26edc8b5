"""The URL shaping page over HTTP, inside the whole gateway: a preset saved in the page expands in an image URL
(overridable, or locked), default parameters reach every URL, allowed widths round up or refuse, the imgix
migration mode switches strict/lenient; parameters are refused with the admin layer's message and the form keeps
them; CSRF on every POST, escaping, and a stranger who learns nothing."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pyvips

from gateway.accounts.presets import TransformPreset
from tests.gateway.dashboard.support import DASH, Dash, error_code
from tests.gateway.dashboard.whole_gateway import error_of, serve_demo_images, settle, whole_gateway

pytestmark = pytest.mark.anyio

PAGE = f"{DASH}/w/acme/shaping"
IMAGE = "/acme/photo-grey.jpg"


@pytest.fixture
async def dash(tmp_path: Path) -> AsyncIterator[Dash]:
    async for value in whole_gateway(tmp_path):
        yield value


async def _signed_up(dash: Dash) -> str:
    csrf = await dash.sign_up("ana@example.com", "acme")
    await serve_demo_images(dash, "acme")
    return csrf


def _presets(dash: Dash) -> tuple[TransformPreset, ...]:
    workspace = dash.store.get_workspace("acme")
    assert workspace is not None
    return workspace.presets


async def _size(dash: Dash, query: str) -> tuple[int, int]:
    """The width and height of the gateway's answer to ``IMAGE?query``."""
    answer = await dash.client.get(f"{IMAGE}?{query}")
    assert answer.status_code == 200, answer.text
    image = pyvips.Image.new_from_buffer(answer.content, "")
    return image.width, image.height


async def _preset(dash: Dash, csrf: str, name: str, params: str, *, locked: bool = False) -> httpx.Response:
    data = {"csrf": csrf, "name": name, "params": params, **({"locked": "on"} if locked else {})}
    return await dash.client.post(f"{PAGE}/presets", data=data)


async def test_a_preset_saved_in_the_page_expands_in_image_urls(dash: Dash) -> None:
    csrf = await _signed_up(dash)
    page = await dash.client.get(PAGE)
    assert page.status_code == 200 and 'aria-current="page">URL shaping</a>' in page.text
    assert "No presets yet." in page.text
    assert (await dash.client.get(f"{IMAGE}?preset=card")).status_code == 400  # no such preset yet

    saved = await _preset(dash, csrf, "card", "fit=crop&h=30&w=40")
    assert saved.status_code == 303 and saved.headers["location"] == f"{PAGE}?notice=preset#preset-card"
    [card] = _presets(dash)
    assert (card.name, card.locked) == ("card", False)
    shown = await dash.client.get(f"{PAGE}?notice=preset")
    assert "Preset saved." in shown.text
    row = shown.text.split('<tr id="preset-card">')[1].split("</tr>")[0]
    assert all(f'<code class="param">{pair}</code>' in row for pair in ("w=40", "h=30", "fit=crop"))
    assert "/acme/products/shoe.jpg?preset=card</code>" in shown.text  # the example URL, with its copy button
    await settle()

    assert await _size(dash, "preset=card") == (40, 30)
    assert await _size(dash, "preset=card&w=60") == (60, 30)  # the URL's own parameters win

    # Edit: the form is filled with the stored preset; saving it locked makes its values win.
    editing = await dash.client.get(PAGE, params={"edit": "card"})
    assert 'name="name" value="card"' in editing.text and "Edit “card”" in editing.text
    assert f'name="params" value="{html.escape(card.params)}"' in editing.text
    relocked = await _preset(dash, csrf, "card", card.params, locked=True)
    assert relocked.status_code == 303 and _presets(dash)[0].locked
    shown = await dash.client.get(PAGE)
    assert 'title="URL parameters cannot override its values">locked</span>' in shown.text
    await settle()
    assert await _size(dash, "preset=card&w=60") == (40, 30)

    rows = dash.store.list_audit("acme", 10).entries
    assert any(r.operation == "preset.put" and r.actor == "user:ana@example.com" for r in rows)


async def test_deleting_a_preset(dash: Dash) -> None:
    csrf = await _signed_up(dash)
    await _preset(dash, csrf, "thumb", "w=20")
    page = await dash.client.get(PAGE)
    assert 'data-confirm="Delete the preset thumb? URLs naming it will answer 400."' in page.text
    await settle()
    assert (await _size(dash, "preset=thumb"))[0] == 20
    deleted = await dash.client.post(f"{PAGE}/presets/delete", data={"csrf": csrf, "name": "thumb"})
    assert deleted.status_code == 303 and deleted.headers["location"] == f"{PAGE}?notice=preset-deleted"
    assert _presets(dash) == ()
    await settle()
    refused = await dash.client.get(f"{IMAGE}?preset=thumb")
    assert refused.status_code == 400 and error_of(refused) == "VALIDATION_ERROR"
    again = await dash.client.post(f"{PAGE}/presets/delete", data={"csrf": csrf, "name": "thumb"})
    assert again.status_code == 404 and error_code(again) == "NOT_FOUND"


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("card", "w=abc", "params: w: must be an integer"),
        ("card", "src=https://example.com/a.jpg", "params: src cannot be part of a preset"),
        ("card", "w=10&w=20", "params: a parameter is given more than once"),
        ("card", "nonsense=1", "params: nonsense: is not a known parameter"),
        ("Card!", "w=10", "preset name must be 1-63 characters"),
    ],
)
async def test_bad_presets_are_refused_with_the_admin_message(dash: Dash, name: str, params: str, message: str) -> None:
    csrf = await _signed_up(dash)
    refused = await _preset(dash, csrf, name, params)
    assert refused.status_code == 400 and error_code(refused) == "VALIDATION_ERROR"
    assert html.escape(message, quote=True) in refused.text
    # The form keeps what was typed, to correct it.
    assert f'name="name" value="{html.escape(name)}"' in refused.text
    assert f'name="params" value="{html.escape(params)}"' in refused.text
    assert _presets(dash) == ()


async def test_default_parameters_reach_every_url(dash: Dash) -> None:
    csrf = await _signed_up(dash)
    saved = await dash.client.post(f"{PAGE}/defaults", data={"csrf": csrf, "params": "fm=webp&w=30"})
    assert saved.status_code == 303 and saved.headers["location"] == f"{PAGE}?notice=defaults#defaults"
    workspace = dash.store.get_workspace("acme")
    assert workspace is not None and workspace.default_params
    page = await dash.client.get(PAGE)
    assert f'name="params" value="{html.escape(workspace.default_params)}"' in page.text
    await settle()
    plain = await dash.client.get(IMAGE)
    assert plain.status_code == 200 and plain.headers["content-type"] == "image/webp"
    assert (await _size(dash, ""))[0] == 30 and (await _size(dash, "w=50"))[0] == 50

    refused = await dash.client.post(f"{PAGE}/defaults", data={"csrf": csrf, "params": "fm=tiff"})
    assert refused.status_code == 400 and error_code(refused) == "VALIDATION_ERROR"
    assert "default_params: fm:" in refused.text and 'name="params" value="fm=tiff"' in refused.text
    cleared = await dash.client.post(f"{PAGE}/defaults", data={"csrf": csrf, "params": ""})
    assert cleared.status_code == 303
    await settle()
    assert (await dash.client.get(IMAGE)).headers["content-type"] == "image/jpeg"


async def test_allowed_widths_round_up_or_refuse(dash: Dash) -> None:
    csrf = await _signed_up(dash)
    saved = await dash.client.post(f"{PAGE}/widths", data={"csrf": csrf, "widths": "100, 50 25", "rounding": "up"})
    assert saved.status_code == 303 and saved.headers["location"] == f"{PAGE}?notice=widths#widths"
    workspace = dash.store.get_workspace("acme")
    assert workspace is not None and (workspace.allowed_widths, workspace.width_rounding) == ((25, 50, 100), "up")
    page = await dash.client.get(PAGE)
    assert 'name="widths" value="25, 50, 100"' in page.text
    assert 'value="up" checked' in page.text
    await settle()
    assert (await _size(dash, "w=30"))[0] == 50
    assert (await _size(dash, "w=400"))[0] == 100  # above the largest: the largest

    refuse = await dash.client.post(f"{PAGE}/widths", data={"csrf": csrf, "widths": "25,50,100", "rounding": "refuse"})
    assert refuse.status_code == 303
    await settle()
    refused = await dash.client.get(f"{IMAGE}?w=30")
    assert refused.status_code == 400 and error_of(refused) == "VALIDATION_ERROR"
    assert (await _size(dash, "w=50"))[0] == 50
    assert 'value="refuse" checked' in (await dash.client.get(PAGE)).text

    for text, message in (("320, abc", "allowed_widths: whole numbers"), ("0, 10", "between 1 and 8192")):
        bad = await dash.client.post(f"{PAGE}/widths", data={"csrf": csrf, "widths": text, "rounding": "up"})
        assert bad.status_code == 400 and error_code(bad) == "VALIDATION_ERROR" and message in bad.text
        assert f'name="widths" value="{text}"' in bad.text
    sloppy = await dash.client.post(f"{PAGE}/widths", data={"csrf": csrf, "widths": "10", "rounding": "down"})
    assert sloppy.status_code == 400 and "rounding: must be one of up, refuse" in sloppy.text
    workspace = dash.store.get_workspace("acme")
    assert workspace is not None and (workspace.allowed_widths, workspace.width_rounding) == ((25, 50, 100), "refuse")

    cleared = await dash.client.post(f"{PAGE}/widths", data={"csrf": csrf, "widths": "", "rounding": "up"})
    assert cleared.status_code == 303
    await settle()
    assert (await _size(dash, "w=30"))[0] == 30


async def test_the_imgix_migration_mode(dash: Dash) -> None:
    csrf = await _signed_up(dash)
    page = await dash.client.get(PAGE)
    imgix = page.text.split('id="imgix"')[1]
    assert '<span class="tag">strict</span>' in imgix and 'name="mode" value="lenient"' in imgix
    strict = await dash.client.get(f"{IMAGE}?w=40&auto=enhance")
    assert strict.status_code == 400 and error_of(strict) == "VALIDATION_ERROR"

    lenient = await dash.client.post(f"{PAGE}/imgix-compat", data={"csrf": csrf, "mode": "lenient"})
    assert lenient.status_code == 303 and lenient.headers["location"] == f"{PAGE}?notice=lenient#imgix"
    imgix = (await dash.client.get(f"{PAGE}?notice=lenient")).text.split('id="imgix"')[1]
    assert '<span class="tag warn">lenient</span>' in imgix and "Switch to strict" in imgix
    await settle()
    served = await dash.client.get(f"{IMAGE}?w=40&auto=enhance")
    assert served.status_code == 200 and "auto" in served.headers["x-imgate-ignored"]

    bad = await dash.client.post(f"{PAGE}/imgix-compat", data={"csrf": csrf, "mode": "sloppy"})
    assert bad.status_code == 400 and "strict or lenient" in bad.text
    back = await dash.client.post(f"{PAGE}/imgix-compat", data={"csrf": csrf, "mode": "strict"})
    assert back.headers["location"] == f"{PAGE}?notice=strict#imgix"
    await settle()
    assert (await dash.client.get(f"{IMAGE}?w=40&auto=enhance")).status_code == 400


async def test_markup_is_escaped(dash: Dash) -> None:
    csrf = await _signed_up(dash)
    evil = '"><script>alert(1)</script>'
    refused = await _preset(dash, csrf, evil, f"w=10&txt-font={evil}")
    assert refused.status_code == 400 and "<script>alert(1)</script>" not in refused.text
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in refused.text
    # A stored text holding markup: shown as text, never as markup.
    saved = await _preset(dash, csrf, "caption", f"txt={evil}&w=40")
    assert saved.status_code == 303
    for answer in (
        await dash.client.get(PAGE),
        await dash.client.get(PAGE, params={"edit": "caption"}),
        await dash.client.get(PAGE, params={"edit": evil, "notice": evil}),
        await dash.client.post(f"{PAGE}/widths", data={"csrf": csrf, "widths": evil}),
        await dash.client.post(f"{PAGE}/defaults", data={"csrf": csrf, "params": evil}),
    ):
        assert answer.status_code in (200, 400) and "<script>alert" not in answer.text
    [caption] = _presets(dash)
    assert "%3Cscript%3E" in caption.params  # stored in canonical form; shown decoded, and escaped
    page = await dash.client.get(PAGE)
    assert '<code class="param">txt=&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</code>' in page.text
    editing = await dash.client.get(PAGE, params={"edit": "caption"})
    assert f'name="params" value="{html.escape(caption.params)}"' in editing.text


async def test_a_stranger_learns_nothing(dash: Dash) -> None:
    csrf = await _signed_up(dash)
    await _preset(dash, csrf, "secretpreset", "w=10")
    stranger = dash.browser()
    async with stranger:
        stranger_csrf = await dash.sign_up("eve@example.com", "eve", stranger)
        for answer in (
            await stranger.get(PAGE),
            await stranger.get(PAGE, params={"edit": "secretpreset"}),
            await stranger.post(f"{PAGE}/presets", data={"csrf": stranger_csrf, "name": "x", "params": "w=1"}),
            await stranger.post(f"{PAGE}/presets/delete", data={"csrf": stranger_csrf, "name": "secretpreset"}),
            await stranger.post(f"{PAGE}/defaults", data={"csrf": stranger_csrf, "params": "w=1"}),
            await stranger.post(f"{PAGE}/widths", data={"csrf": stranger_csrf, "widths": "1"}),
            await stranger.post(f"{PAGE}/imgix-compat", data={"csrf": stranger_csrf, "mode": "lenient"}),
        ):
            assert answer.status_code == 404 and error_code(answer) == "NOT_FOUND"
            assert "secretpreset" not in answer.text
        other = await stranger.get(f"{DASH}/w/eve/shaping", params={"edit": "secretpreset"})
        assert other.status_code == 200 and "secretpreset" not in other.text
    workspace = dash.store.get_workspace("acme")
    assert workspace is not None
    assert [p.name for p in workspace.presets] == ["secretpreset"]
    assert (workspace.default_params, workspace.allowed_widths, workspace.imgix_compat) == ("", (), "strict")


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/presets", {"name": "card", "params": "w=10"}),
        ("/presets/delete", {"name": "keep"}),
        ("/defaults", {"params": "w=10"}),
        ("/widths", {"widths": "10", "rounding": "refuse"}),
        ("/imgix-compat", {"mode": "lenient"}),
    ],
)
async def test_every_post_needs_the_csrf_token(dash: Dash, path: str, fields: dict[str, str]) -> None:
    csrf = await _signed_up(dash)
    await _preset(dash, csrf, "keep", "w=20")
    before = dash.store.get_workspace("acme")
    for token in ("", "0" * 64):
        refused = await dash.client.post(PAGE + path, data={"csrf": token, **fields})
        assert refused.status_code == 403 and error_code(refused) == "CSRF_FAILED"
    assert dash.store.get_workspace("acme") == before
