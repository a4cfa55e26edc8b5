"""The Signed URLs page over HTTP, inside the whole gateway: a secret shown once and never again, "required" that
the image route enforces at once (unsigned 403, signed with the shown secret 200, the page's own snippets
included), an imported imgix token that imgix-python signs with, rotation, removal after a confirmation; CSRF on
every POST, escaping, and a stranger who learns nothing."""

from __future__ import annotations

import contextlib
import html
import io
import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from imgix import UrlBuilder

from gateway.policy.signing import sign_url
from tests.gateway.dashboard.support import BASE, DASH, Dash, csrf_of, error_code
from tests.gateway.dashboard.whole_gateway import error_of, serve_demo_images, settle, whole_gateway

pytestmark = pytest.mark.anyio

PAGE = f"{DASH}/w/acme/signing"
IMAGE = "/acme/photo-grey.jpg"
TOKEN = "imgixTokenFromTheirAccount01"


@pytest.fixture
async def dash(tmp_path: Path) -> AsyncIterator[Dash]:
    async for value in whole_gateway(tmp_path):
        yield value


async def _signed_up(dash: Dash) -> str:
    csrf = await dash.sign_up("ana@example.com", "acme")
    await serve_demo_images(dash, "acme")
    return csrf


def _shown_secret(page: str) -> str:
    found = re.search(r'<code id="new-secret" class="secret">([^<]+)</code>', page)
    assert found is not None, "no secret is shown"
    return html.unescape(found[1])


def _keys(dash: Dash, scheme: str | None = None) -> list[str]:
    workspace = dash.store.get_workspace("acme")
    assert workspace is not None
    return [key.key_id for key in workspace.signing_keys if scheme is None or key.scheme == scheme]


def _mode(dash: Dash) -> str:
    workspace = dash.store.get_workspace("acme")
    assert workspace is not None
    return workspace.signing


def _snippet(page: str, scheme: str) -> str:
    found = re.search(rf'<pre class="snippet code" id="snippet-{scheme}">(.*?)</pre>', page, re.S)
    assert found is not None, f"no {scheme} snippet"
    return html.unescape(found[1])


@contextlib.contextmanager
def _environ(name: str, value: str) -> Iterator[None]:
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            del os.environ[name]
        else:
            os.environ[name] = before


def _printed_by(snippet: str, variable: str, secret: str) -> str:
    """What the page's snippet prints when it runs with the secret in its environment variable."""
    out = io.StringIO()
    with _environ(variable, secret), contextlib.redirect_stdout(out):
        exec(compile(snippet, "snippet", "exec"), {"__name__": "snippet"})  # noqa: S102 - the page's own code
    return out.getvalue().strip()


async def _rotate(dash: Dash, csrf: str, scheme: str = "imgate") -> httpx.Response:
    made = await dash.client.post(f"{PAGE}/rotate", data={"csrf": csrf, "scheme": scheme})
    assert made.status_code == 200, made.text
    return made


async def test_a_secret_is_shown_once_and_required_is_enforced_by_the_gateway(dash: Dash) -> None:
    csrf = await _signed_up(dash)
    page = await dash.client.get(PAGE)
    assert page.status_code == 200 and 'aria-current="page">Signing</a>' in page.text
    assert "not required" in page.text and 'disabled title="Create a secret first"' in page.text
    assert (await dash.client.get(IMAGE, params={"w": "50"})).status_code == 200

    # "required" before a secret exists: refused with the admin layer's message, nothing changes.
    early = await dash.client.post(f"{PAGE}/mode", data={"csrf": csrf, "mode": "required"})
    assert early.status_code == 400 and error_code(early) == "VALIDATION_ERROR"
    assert "create a signing secret before requiring signed URLs" in early.text and _mode(dash) == "off"

    made = await _rotate(dash, csrf)
    secret = _shown_secret(made.text)
    [key_id] = _keys(dash, "imgate")
    assert f"<code>{key_id}</code>" in made.text and "shown once and never again" in made.text
    assert len(secret) >= 32 and secret not in repr(dash.store.get_workspace("acme"))

    again = await dash.client.get(PAGE)
    assert secret not in again.text and 'id="new-secret"' not in again.text
    assert f'id="key-{key_id}"' in again.text

    required = await dash.client.post(f"{PAGE}/mode", data={"csrf": csrf, "mode": "required"})
    assert required.status_code == 303 and required.headers["location"] == f"{PAGE}?notice=required"
    shown = await dash.client.get(required.headers["location"])
    assert "unsigned image URLs of this workspace answer 403" in shown.text and "Stop requiring" in shown.text
    assert _mode(dash) == "required"
    await settle()

    unsigned = await dash.client.get(IMAGE, params={"w": "50"})
    assert unsigned.status_code == 403 and error_of(unsigned) == "BAD_SIGNATURE"
    signed = await dash.client.get(sign_url(IMAGE, [("w", "50")], secret))
    assert signed.status_code == 200 and signed.headers["content-type"] == "image/jpeg"
    forged = await dash.client.get(sign_url(IMAGE, [("w", "50")], secret + "x"))
    assert forged.status_code == 403 and error_of(forged) == "BAD_SIGNATURE"

    # The page's own Python snippet, run as a customer would, signs URLs the gateway answers.
    url = _printed_by(_snippet(shown.text, "imgate"), "IMGATE_SIGNING_SECRET", secret)
    assert url.startswith(f"{BASE}/acme/products/shoe.jpg?") and "&s=" in url
    example = url.removeprefix(BASE).replace("products/shoe.jpg", "photo-grey.jpg")
    assert (await dash.client.get(example)).status_code == 403  # another path: the signature no longer fits
    query = [tuple(item.split("=", 1)) for item in url.split("?", 1)[1].split("&") if not item.startswith("s=")]
    for_image = sign_url(IMAGE, [(name, value) for name, value in query], secret)
    assert (await dash.client.get(for_image)).status_code == 200

    off = await dash.client.post(f"{PAGE}/mode", data={"csrf": csrf, "mode": "off"})
    assert off.headers["location"] == f"{PAGE}?notice=off"
    await settle()
    assert (await dash.client.get(IMAGE, params={"w": "50"})).status_code == 200

    rows = dash.store.list_audit("acme", 20).entries
    operations = {r.operation for r in rows if r.actor == "user:ana@example.com"}
    assert {"signing.rotate", "signing.mode"} <= operations
    assert all(secret not in repr(r) for r in rows)


async def test_the_snippet_signs_exactly_what_the_gateway_verifies(dash: Dash) -> None:
    """The snippet's signing function, called on the test's own path and parameters."""
    csrf = await _signed_up(dash)
    secret = _shown_secret((await _rotate(dash, csrf)).text)
    await dash.client.post(f"{PAGE}/mode", data={"csrf": csrf, "mode": "required"})
    await settle()
    snippet = _snippet((await dash.client.get(PAGE)).text, "imgate")
    scope: dict[str, object] = {"__name__": "snippet"}
    with _environ("IMGATE_SIGNING_SECRET", secret), contextlib.redirect_stdout(io.StringIO()):
        exec(compile(snippet, "snippet", "exec"), scope)  # noqa: S102 - the page's own code
    signed = scope["signed"]
    assert callable(signed)
    params = [("w", "64"), ("fit", "crop"), ("h", "40"), ("expires", "4102444800")]
    url = signed(IMAGE, params)
    assert url == sign_url(IMAGE, params, secret)
    served = await dash.client.get(url)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"


async def test_the_snippets_name_the_public_host_never_the_requests(dash: Dash) -> None:
    await _signed_up(dash)
    forged = await dash.client.get(PAGE, headers={"Host": "attacker.example"})
    assert forged.status_code == 404 and "attacker.example" not in forged.text
    # Another of the gateway's own hosts: the snippets still name the first public host.
    other = await dash.client.get(PAGE, headers={"Host": "localhost"})
    assert other.status_code == 200 and "localhost" not in other.text
    assert f'print("{BASE}" + signed(' in _snippet(other.text, "imgate")
    assert 'UrlBuilder("127.0.0.1", use_https=False' in _snippet(other.text, "imgix")


async def test_an_imported_imgix_token_is_write_only_and_imgix_python_signs_with_it(dash: Dash) -> None:
    csrf = await _signed_up(dash)
    page = await dash.client.get(PAGE)
    assert 'type="password" name="token"' in page.text

    short = await dash.client.post(f"{PAGE}/import", data={"csrf": csrf, "token": "tooShort"})
    assert short.status_code == 400 and error_code(short) == "VALIDATION_ERROR"
    assert "16-256 printable ASCII characters" in short.text and "tooShort" not in short.text
    assert _keys(dash) == []

    imported = await dash.client.post(f"{PAGE}/import", data={"csrf": csrf, "token": TOKEN})
    assert imported.status_code == 303 and imported.headers["location"] == f"{PAGE}?notice=imported"
    shown = await dash.client.get(imported.headers["location"])
    assert "imgix token imported" in shown.text and TOKEN not in shown.text
    [key_id] = _keys(dash, "imgix")
    assert f'id="key-{key_id}"' in shown.text.split('id="scheme-imgix"')[1]

    await dash.client.post(f"{PAGE}/mode", data={"csrf": csrf, "mode": "required"})
    await settle()
    builder = UrlBuilder("127.0.0.1", use_https=False, sign_key=TOKEN, include_library_param=False)
    url = builder.create_url("acme/photo-grey.jpg", {"w": 48})
    served = await dash.client.get(url.removeprefix(BASE))
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    # The page's imgix-python snippet builds its URL with the same token.
    printed = _printed_by(_snippet(shown.text, "imgix"), "IMGIX_TOKEN", TOKEN)
    assert printed.startswith(f"{BASE}/acme/products/shoe.jpg?") and re.search(r"&s=[0-9a-f]{32}$", printed)
    unsigned = await dash.client.get("/acme/photo-grey.jpg?w=48")
    assert error_of(unsigned) == "BAD_SIGNATURE"


async def test_a_third_secret_retires_the_older_of_two(dash: Dash) -> None:
    csrf = await _signed_up(dash)
    first = _shown_secret((await _rotate(dash, csrf)).text)
    [first_id] = _keys(dash)
    await _rotate(dash, csrf)
    assert len(_keys(dash, "imgate")) == 2
    third = await _rotate(dash, csrf)
    assert f"<code>{first_id}</code>, was retired" in third.text
    assert first_id not in _keys(dash) and len(_keys(dash, "imgate")) == 2
    assert _shown_secret(third.text) != first
    # Another scheme is counted apart.
    imgix = await _rotate(dash, csrf, "imgix")
    assert re.fullmatch(r"[A-Za-z0-9]{32}", _shown_secret(imgix.text)) and len(_keys(dash, "imgix")) == 1
    unknown = await dash.client.post(f"{PAGE}/rotate", data={"csrf": csrf, "scheme": "md5"})
    assert unknown.status_code == 400 and "scheme: must be one of imgate, imgix" in unknown.text


async def test_remove_asks_first_and_never_leaves_required_without_a_secret(dash: Dash) -> None:
    csrf = await _signed_up(dash)
    await _rotate(dash, csrf)
    [key_id] = _keys(dash)
    listed = await dash.client.get(PAGE)
    assert f"{PAGE}/remove?key_id={key_id}" in listed.text

    await dash.client.post(f"{PAGE}/mode", data={"csrf": csrf, "mode": "required"})
    confirm = await dash.client.get(f"{PAGE}/remove", params={"key_id": key_id})
    assert confirm.status_code == 200 and f"<code>{key_id}</code>?" in confirm.text
    assert "This is the last secret and signed URLs are required" in confirm.text
    assert _keys(dash) == [key_id]  # looking at the question changes nothing
    refused = await dash.client.post(f"{PAGE}/remove", data={"csrf": csrf_of(confirm.text), "key_id": key_id})
    assert refused.status_code == 400 and error_code(refused) == "VALIDATION_ERROR"
    assert "the last secret of a workspace that requires signed URLs cannot be removed" in refused.text
    assert _keys(dash) == [key_id]

    await dash.client.post(f"{PAGE}/mode", data={"csrf": csrf, "mode": "off"})
    confirm = await dash.client.get(f"{PAGE}/remove", params={"key_id": key_id})
    assert "This is the last secret" not in confirm.text
    removed = await dash.client.post(f"{PAGE}/remove", data={"csrf": csrf, "key_id": key_id})
    assert removed.status_code == 303 and removed.headers["location"] == f"{PAGE}?notice=removed"
    page = await dash.client.get(removed.headers["location"])
    assert "Secret removed." in page.text and key_id not in page.text and _keys(dash) == []
    gone = await dash.client.get(f"{PAGE}/remove", params={"key_id": key_id})
    assert gone.status_code == 404 and error_code(gone) == "NOT_FOUND"


async def test_typed_markup_is_never_reflected(dash: Dash) -> None:
    csrf = await _signed_up(dash)
    evil = '"><script>alert(1)</script>'
    for answer in (
        await dash.client.get(f"{PAGE}/remove", params={"key_id": evil}),
        await dash.client.get(PAGE, params={"notice": evil}),
        await dash.client.post(f"{PAGE}/mode", data={"csrf": csrf, "mode": evil}),
        await dash.client.post(f"{PAGE}/remove", data={"csrf": csrf, "key_id": evil}),
    ):
        assert "<script>alert(1)</script>" not in answer.text
        assert answer.status_code in (200, 400, 404)
    assert _keys(dash) == [] and _mode(dash) == "off"
    # Markup is printable ASCII, so it is a token that may be imported; it is never shown, escaped or not.
    token = evil + "0123456789abcdef"
    imported = await dash.client.post(f"{PAGE}/import", data={"csrf": csrf, "token": token})
    assert imported.status_code == 303
    page = await dash.client.get(imported.headers["location"])
    assert "alert(1)" not in page.text and len(_keys(dash, "imgix")) == 1


async def test_a_stranger_learns_nothing(dash: Dash) -> None:
    csrf = await _signed_up(dash)
    await _rotate(dash, csrf)
    [key_id] = _keys(dash)
    stranger = dash.browser()
    async with stranger:
        stranger_csrf = await dash.sign_up("eve@example.com", "eve", stranger)
        for answer in (
            await stranger.get(PAGE),
            await stranger.get(f"{PAGE}/remove", params={"key_id": key_id}),
            await stranger.post(f"{PAGE}/mode", data={"csrf": stranger_csrf, "mode": "required"}),
            await stranger.post(f"{PAGE}/rotate", data={"csrf": stranger_csrf, "scheme": "imgate"}),
            await stranger.post(f"{PAGE}/import", data={"csrf": stranger_csrf, "token": TOKEN}),
            await stranger.post(f"{PAGE}/remove", data={"csrf": stranger_csrf, "key_id": key_id}),
        ):
            assert answer.status_code == 404 and error_code(answer) == "NOT_FOUND"
            assert key_id not in answer.text
        # Nor through their own workspace: a secret of another workspace is no secret of theirs.
        other = await stranger.post(f"{DASH}/w/eve/signing/remove", data={"csrf": stranger_csrf, "key_id": key_id})
        assert other.status_code == 404
    assert _keys(dash) == [key_id] and _mode(dash) == "off"


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/mode", {"mode": "required"}),
        ("/rotate", {"scheme": "imgate"}),
        ("/import", {"token": TOKEN}),
        ("/remove", {"key_id": "KEY"}),
    ],
)
async def test_every_post_needs_the_csrf_token(dash: Dash, path: str, fields: dict[str, str]) -> None:
    csrf = await _signed_up(dash)
    await _rotate(dash, csrf)
    [key_id] = _keys(dash)
    data = {name: key_id if value == "KEY" else value for name, value in fields.items()}
    for token in ("", "0" * 64):
        refused = await dash.client.post(PAGE + path, data={"csrf": token, **data})
        assert refused.status_code == 403 and error_code(refused) == "CSRF_FAILED"
        assert 'id="new-secret"' not in refused.text
    assert _keys(dash) == [key_id] and _mode(dash) == "off"
