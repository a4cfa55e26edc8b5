"""Marks and rules pages over HTTP, checked through the admin layer."""

from __future__ import annotations

import pytest

from gateway import admin
from gateway.dashboard.runtime import DashboardRuntime
from tests.conftest import DEMO_IMAGES
from tests.gateway.dashboard.support import DASH, Dash, error_code

pytestmark = pytest.mark.anyio


async def test_text_marks_placement_and_rules(dash: Dash) -> None:
    csrf = await dash.sign_up("ana@example.com", "acme")
    ctx = DashboardRuntime.of(dash.transport.app).ctx
    made = await dash.client.post(
        f"{DASH}/w/acme/marks",
        data={
            "csrf": csrf,
            "name": "credit",
            "kind": "text",
            "text": "© <b>Acme</b>",
            "alpha": "70",
            "align": "top,left",
        },
    )
    assert made.status_code == 303
    [mark] = await admin.list_marks(ctx, "acme")
    assert (mark.name, mark.text, mark.alpha, mark.align) == ("credit", "© <b>Acme</b>", 70, "top,left")
    page = await dash.client.get(f"{DASH}/w/acme/marks")
    assert "© &lt;b&gt;Acme&lt;/b&gt;" in page.text and "<b>Acme</b>" not in page.text
    bad = await dash.client.post(
        f"{DASH}/w/acme/marks/update", data={"csrf": csrf, "name": "credit", "alpha": "170", "align": "top,left"}
    )
    assert bad.status_code == 400 and error_code(bad) == "VALIDATION_ERROR" and "alpha" in bad.text
    moved = await dash.client.post(
        f"{DASH}/w/acme/marks/update",
        data={"csrf": csrf, "name": "credit", "alpha": "40", "align": "bottom,right", "scale": "25", "tile": "on"},
    )
    assert moved.status_code == 303
    mark = await admin.show_mark(ctx, "acme", "credit")
    assert (mark.alpha, mark.align, mark.scale, mark.tile) == (40, "bottom,right", 0.25, True)

    for keys in ("premium/**", "*.png"):
        added = await dash.client.post(
            f"{DASH}/w/acme/rules", data={"csrf": csrf, "preset": "credit", "key_patterns": keys}
        )
        assert added.status_code == 303
    first, second = await admin.list_rules(ctx, "acme")
    assert (first.key_patterns, second.key_patterns) == (("premium/**",), ("*.png",))
    await dash.client.post(
        f"{DASH}/w/acme/rules/move", data={"csrf": csrf, "rule_id": str(second.rule_id), "position": "1"}
    )
    assert [r.rule_id for r in await admin.list_rules(ctx, "acme")] == [second.rule_id, first.rule_id]
    in_use = await dash.client.post(f"{DASH}/w/acme/marks/delete", data={"csrf": csrf, "name": "credit"})
    assert in_use.status_code == 409
    no_pattern = await dash.client.post(f"{DASH}/w/acme/rules", data={"csrf": csrf, "preset": "credit"})
    assert no_pattern.status_code == 400
    for rule in (first, second):
        await dash.client.post(f"{DASH}/w/acme/rules/delete", data={"csrf": csrf, "rule_id": str(rule.rule_id)})
    assert await admin.list_rules(ctx, "acme") == []
    gone = await dash.client.post(f"{DASH}/w/acme/marks/delete", data={"csrf": csrf, "name": "credit"})
    assert gone.status_code == 303 and await admin.list_marks(ctx, "acme") == []


async def test_the_preview_is_the_gateways_own_output(dash: Dash) -> None:
    csrf = await dash.sign_up("ana@example.com", "acme")
    await dash.client.post(f"{DASH}/w/acme/marks", data={"csrf": csrf, "name": "logo", "kind": "text", "text": "A"})
    page = await dash.client.get(f"{DASH}/w/acme/marks", params={"sample": "photos/kite one.jpg"})
    assert 'src="/acme/photos/kite%20one.jpg?w=480&amp;mark=logo"' in page.text


async def test_an_uploaded_image_mark_is_checked_and_stored(dash: Dash) -> None:
    csrf = await dash.sign_up("ana@example.com", "acme")
    ctx = DashboardRuntime.of(dash.transport.app).ctx
    png = (DEMO_IMAGES / "alpha-elarun.png").read_bytes()
    made = await dash.client.post(
        f"{DASH}/w/acme/marks",
        data={"csrf": csrf, "name": "stamp", "kind": "upload", "alpha": "50"},
        files={"image_file": ("stamp.png", png, "image/png")},
    )
    assert made.status_code == 303, made.text
    mark = await admin.show_mark(ctx, "acme", "stamp")
    assert (mark.kind, mark.uploaded_bytes, mark.alpha) == ("image", len(png), 50)
    not_an_image = await dash.client.post(
        f"{DASH}/w/acme/marks",
        data={"csrf": csrf, "name": "junk", "kind": "upload"},
        files={"image_file": ("junk.png", b"<svg onload=alert(1)>" * 10, "image/png")},
    )
    assert not_an_image.status_code == 400 and error_code(not_an_image) == "VALIDATION_ERROR"
    too_big = await dash.client.post(
        f"{DASH}/w/acme/marks",
        data={"csrf": csrf, "name": "big", "kind": "upload"},
        files={"image_file": ("big.png", b"\0" * (4 * 1024 * 1024), "image/png")},
    )
    assert too_big.status_code == 413 and error_code(too_big) == "PAYLOAD_TOO_LARGE"
    no_token = await dash.client.post(
        f"{DASH}/w/acme/marks",
        data={"name": "sneaky", "kind": "upload"},
        files={"image_file": ("stamp.png", png, "image/png")},
    )
    assert no_token.status_code == 403
    assert [m.name for m in await admin.list_marks(ctx, "acme")] == ["stamp"]
