"""Signed URLs and presets end to end: secrets made with the CLI and the API, URLs signed by imgix-python and by
imgate's own helper, served over real HTTP by a Granian-served gateway (which hands the raw path on as sent)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import pyvips
from imgix import UrlBuilder

from gateway.accounts.models import Workspace
from gateway.policy.signing import sign_url
from tests.integration.api_client import Api, create_key, error_code
from tests.integration.servers import GatewayProcess, imgate

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, images_dir: Path) -> Iterator[tuple[GatewayProcess, Api, Api]]:
    process = GatewayProcess(tmp_path_factory.mktemp("signed"))
    process.data_dir.mkdir(parents=True, exist_ok=True)
    for namespace in ("signed", "shaped"):
        process.add_workspace(Workspace(namespace=namespace, origin_kind="local", origin={"root": str(images_dir)}))
    key = create_key(process.data_dir, "signed", "Signer", "write")
    shaper = create_key(process.data_dir, "shaped", "Shaper", "write")
    with process:
        yield process, Api(process, key), Api(process, shaper)


def fetch(process: GatewayProcess, url: str) -> httpx.Response:
    parts = urlsplit(url)
    target = f"{parts.path}?{parts.query}" if parts.query else parts.path
    return httpx.get(f"{process.url}{target}", timeout=30)


def wait_for(check: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the change did not show in time"
        time.sleep(0.1)


def test_cli_secrets_sign_urls_the_gateway_verifies(gateway: tuple[GatewayProcess, Api, Api]) -> None:
    process, api, _ = gateway
    made = imgate(process.data_dir, "signing", "rotate", "signed")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    imported = imgate(
        process.data_dir, "signing", "rotate", "signed", "--scheme", "imgix", "--import",
        IMGATE_SIGNING_SECRET="CarriedOverImgixToken",
    )  # fmt: skip
    assert imported.returncode == 0 and imported.stdout == "", imported.stderr
    assert imgate(process.data_dir, "signing", "mode", "signed", "required").returncode == 0
    shown = imgate(process.data_dir, "signing", "show", "signed").stdout
    assert "signing required" in shown and secret not in shown and "CarriedOverImgixToken" not in shown

    wait_for(lambda: fetch(process, "/signed/photo-grey.jpg?w=60").status_code == 403)
    unsigned = fetch(process, "/signed/photo-grey.jpg?w=60")
    assert error_code(unsigned) == "BAD_SIGNATURE" and unsigned.headers["cache-control"] == "no-store"

    signed = fetch(process, sign_url("/signed/photo-grey.jpg", [("w", "60")], secret))
    assert signed.status_code == 200 and pyvips.Image.new_from_buffer(signed.content, "").width == 60
    hit = fetch(process, sign_url("/signed/photo-grey.jpg", [("w", "60")], secret))
    assert hit.headers["x-imgate-cache"] == "memory"
    assert fetch(process, "/signed/photo-grey.jpg?w=60").status_code == 403  # still, with the hit in memory

    # imgix-python's defaults: ixlib=python-… is appended (and signed), which imgate accepts and leaves out of the key.
    builder = UrlBuilder("img.example.com", sign_key="CarriedOverImgixToken")
    for url in builder.create_srcset("signed/photo-grey.jpg", {"ar": "1:1", "fit": "crop"}, widths=[48, 96]).split(","):
        served = fetch(process, url.strip().split(" ")[0])
        assert served.status_code == 200, served.text
        image = pyvips.Image.new_from_buffer(served.content, "")
        assert image.width == image.height in (48, 96)
    # A path re-encoded (same decoded key) is another text: refused.
    reencoded = builder.create_url("signed/photo-grey.jpg", {"w": 48}).replace("photo-grey", "photo%2Dgrey")
    assert error_code(fetch(process, reencoded)) == "BAD_SIGNATURE"

    expired = fetch(process, sign_url("/signed/photo-grey.jpg", [("w", "61")], secret, expires=int(time.time()) - 5))
    assert error_code(expired) == "SIGNATURE_EXPIRED"


def test_the_api_rotates_secrets_and_shows_them_once(gateway: tuple[GatewayProcess, Api, Api]) -> None:
    process, api, _ = gateway
    created = api.post("/workspaces/signed/signing/secrets", {"scheme": "imgate"})
    assert created.status_code == 201, created.text
    body = created.json()
    secret = body["secret"]
    assert len(secret) >= 43 and body["key"]["scheme"] == "imgate"
    assert api.get("/workspaces/signed").json()["signing"] == "required"
    listed = api.get("/workspaces/signed/signing").json()
    assert secret not in str(listed) and body["key"]["key_id"] in {key["key_id"] for key in listed["keys"]}
    wait_for(lambda: fetch(process, sign_url("/signed/photo-grey.jpg", [("w", "62")], secret)).status_code == 200)
    removed = api.delete(f"/workspaces/signed/signing/secrets/{body['key']['key_id']}")
    assert removed.status_code == 200
    wait_for(lambda: fetch(process, sign_url("/signed/photo-grey.jpg", [("w", "63")], secret)).status_code == 403)
    refused = api.patch("/workspaces/signed/signing", {"mode": "sometimes"})
    assert refused.status_code == 400 and error_code(refused) == "VALIDATION_ERROR"


def test_presets_defaults_and_widths_over_the_api(gateway: tuple[GatewayProcess, Api, Api]) -> None:
    process, _, api = gateway
    assert api.call("PUT", "/workspaces/shaped/presets/card", {"params": "w=120&h=90&fit=crop"}).status_code == 200
    assert api.call("PUT", "/workspaces/shaped/url-defaults", {"params": "fm=webp"}).status_code == 200
    widths = api.call("PUT", "/workspaces/shaped/allowed-widths", {"widths": [100, 200]})
    assert widths.status_code == 200 and widths.json()["allowed_widths"] == [100, 200]
    bad = api.call("PUT", "/workspaces/shaped/presets/broken", {"params": "w=0"})
    assert bad.status_code == 400 and "w: must be" in bad.json()["error"]["message"]

    def card_is_served() -> bool:
        answer = fetch(process, "/shaped/photo-grey.jpg?preset=card")
        return answer.status_code == 200 and answer.headers["content-type"] == "image/webp"

    wait_for(card_is_served)
    card = pyvips.Image.new_from_buffer(fetch(process, "/shaped/photo-grey.jpg?preset=card").content, "")
    assert (card.width, card.height) == (200, 90)  # w=120 rounded up to the allowed 200
    listed = api.get("/workspaces/shaped/presets").json()
    assert [preset["name"] for preset in listed["presets"]] == ["card"] and listed["default_params"] == "fm=webp"
    assert api.delete("/workspaces/shaped/presets/card").status_code == 204


def test_presets_from_the_cli(gateway: tuple[GatewayProcess, Api, Api]) -> None:
    process, _, _ = gateway
    made = imgate(process.data_dir, "preset", "set", "shaped", "square", "w=80&h=80&fit=crop", "--locked")
    assert made.returncode == 0 and "square: " in made.stdout, made.stderr
    refused = imgate(process.data_dir, "preset", "set", "shaped", "bad", "src=https://a.example/x.jpg")
    assert refused.returncode == 1 and "src cannot be part of a preset" in refused.stderr
    assert imgate(process.data_dir, "preset", "widths", "shaped", "100,200").returncode == 0
    listed = imgate(process.data_dir, "preset", "list", "shaped")
    assert '"name": "square"' in listed.stdout and '"locked": true' in listed.stdout

    def square_is_served() -> bool:
        answer = fetch(process, "/shaped/photo-grey.jpg?preset=square&w=300")
        return answer.status_code == 200

    wait_for(square_is_served)
    square = pyvips.Image.new_from_buffer(fetch(process, "/shaped/photo-grey.jpg?preset=square&w=300").content, "")
    assert (square.width, square.height) == (100, 80)  # locked: w=80 wins over the URL's, then rounded up to 100
