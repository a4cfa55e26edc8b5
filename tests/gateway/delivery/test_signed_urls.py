"""A workspace that requires signed URLs: refused before planning, verified on the hit fast path too, and a
signed URL shares its cache entry with the same URL unsigned."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cryptography.fernet import Fernet
from imgix import UrlBuilder

from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.accounts.secrets import SecretBox
from gateway.accounts.signing import SigningKey
from gateway.policy.signing import sign_url
from gateway.routes.fasthits import FastHits
from tests.conftest import DEMO_IMAGES
from tests.gateway.web.running import Sent, call, running

pytestmark = pytest.mark.anyio

FERNET_KEY = Fernet.generate_key().decode()
SECRET = "a-signing-secret-for-tests-0123456789"
TOKEN = "imgixTokenForTests01"


def store(signing: str = "required") -> MemoryAccountStore:
    box = SecretBox(FERNET_KEY.encode())
    keys = (
        SigningKey("0000000a", "imgate", box.seal(SECRET), 1.0),
        SigningKey("0000000b", "imgix", box.seal(TOKEN), 1.0),
    )
    accounts = MemoryAccountStore()
    origin = {"root": str(DEMO_IMAGES)}
    accounts.create_workspace(
        Workspace(namespace="signed", origin_kind="local", origin=origin, signing=signing, signing_keys=keys)
    )
    return accounts


def code(sent: Sent) -> str:
    return str(json.loads(sent.body)["error"]["code"])


async def get(app: FastHits, url: str) -> Sent:
    parts = urlsplit(url)
    return await call(app, parts.path, parts.query.encode())


async def test_unsigned_and_wrongly_signed_urls_are_refused(tmp_path: Path) -> None:
    async with running(tmp_path, store(), secret_key=FERNET_KEY) as app:
        unsigned = await get(app, "/signed/photo-grey.jpg?w=50")
        assert (unsigned.status, code(unsigned)) == (403, "BAD_SIGNATURE")
        assert unsigned.header("cache-control") == "no-store"
        forged = await get(app, sign_url("/signed/photo-grey.jpg", [("w", "50")], "not-the-secret-0123456789"))
        assert (forged.status, code(forged)) == (403, "BAD_SIGNATURE")
        # Refused before planning: an unknown parameter is not even looked at.
        junk = await get(app, "/signed/photo-grey.jpg?nonsense=1")
        assert code(junk) == "BAD_SIGNATURE"


async def test_a_signed_url_is_served_and_a_hit_is_never_served_unsigned(tmp_path: Path) -> None:
    async with running(tmp_path, store(), secret_key=FERNET_KEY) as app:
        url = sign_url("/signed/photo-grey.jpg", [("w", "50")], SECRET)
        first = await get(app, url)
        assert first.status == 200 and first.header("x-imgate-cache") == "miss"
        again = await get(app, url)
        assert again.status == 200 and again.header("x-imgate-cache") == "memory"
        # The same URL unsigned maps to the same cache entry, which is in memory now: still refused, by both fronts.
        for front in (app, app.app):
            unsigned = await call(front, "/signed/photo-grey.jpg", b"w=50")
            assert (unsigned.status, code(unsigned)) == (403, "BAD_SIGNATURE")


async def test_an_expired_signed_url_is_refused_even_as_a_hit(tmp_path: Path) -> None:
    async with running(tmp_path, store(), secret_key=FERNET_KEY) as app:
        soon = int(time.time()) + 2
        url = sign_url("/signed/photo-grey.jpg", [("w", "51")], SECRET, expires=soon)
        assert (await get(app, url)).status == 200
        assert (await get(app, url)).header("x-imgate-cache") == "memory"
        past = sign_url("/signed/photo-grey.jpg", [("w", "51")], SECRET, expires=int(time.time()) - 1)
        expired = await get(app, past)
        assert (expired.status, code(expired)) == (403, "SIGNATURE_EXPIRED")


async def test_imgix_python_signed_urls_are_served(tmp_path: Path) -> None:
    builder = UrlBuilder("img.example.com", sign_key=TOKEN, include_library_param=False)
    async with running(tmp_path, store(), secret_key=FERNET_KEY) as app:
        for url in builder.create_srcset("signed/photo-grey.jpg", widths=[40, 80]).split(","):
            sent = await get(app, url.strip().split(" ")[0])
            assert sent.status == 200 and sent.header("content-type") == "image/jpeg"


async def test_signed_and_unsigned_urls_share_one_cache_entry(tmp_path: Path) -> None:
    accounts = store()
    async with running(tmp_path, accounts, secret_key=FERNET_KEY, tenancy_ttl="0.05") as app:
        signed = await get(app, sign_url("/signed/photo-grey.jpg", [("w", "52")], SECRET))
        assert signed.header("x-imgate-cache") == "miss"
        current = accounts.get_workspace("signed")
        assert current is not None
        accounts.update_workspace(dataclasses.replace(current, signing="off"))
        time.sleep(0.1)
        unsigned = await call(app, "/signed/photo-grey.jpg", b"w=52")
        assert unsigned.status == 200 and unsigned.header("x-imgate-cache") == "memory"
        assert unsigned.body == signed.body and unsigned.header("etag") == signed.header("etag")


async def test_with_signing_off_signatures_are_not_read(tmp_path: Path) -> None:
    async with running(tmp_path, store("off"), secret_key=FERNET_KEY) as app:
        assert (await call(app, "/signed/photo-grey.jpg", b"w=53&s=" + b"0" * 64)).status == 200
