"""The hit fast path answers exactly what the full application answers, and only for plain hits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.accounts.memory import MemoryAccountStore
from gateway.accounts.models import Workspace
from gateway.routes.fasthits import FastHits
from gateway.web.request import ImageRequest
from gateway.web.responses import Answer
from tests.conftest import DEMO_IMAGES
from tests.gateway.web.running import RecordingHooks, call, running

pytestmark = pytest.mark.anyio

SHOP = "https://shop.example"
WEBP = [("accept", "image/webp,*/*")]


def store() -> MemoryAccountStore:
    accounts = MemoryAccountStore()
    accounts.create_workspace(Workspace(namespace="open", origin_kind="local", origin={"root": str(DEMO_IMAGES)}))
    accounts.create_workspace(
        Workspace(namespace="locked", origin_kind="local", origin={"root": str(DEMO_IMAGES)}, allowed_origins=(SHOP,))
    )
    return accounts


def spy_on(app: FastHits) -> list[str]:
    """Which front answered each request: "fast", or "slow" when the fast path handed it on."""
    seen: list[str] = []
    assert app.path is not None
    hit = app.path.hit

    def spy(request: ImageRequest) -> Answer | None:
        answer = hit(request)
        seen.append("fast" if answer is not None else "slow")
        return answer

    app.path.hit = spy  # type: ignore[method-assign]
    return seen


async def test_fast_hits_match_the_full_path(tmp_path: Path) -> None:
    async with running(tmp_path, store()) as app:
        path, query = "/open/photo-grey.jpg", b"w=50&auto=format"
        first = await call(app, path, query, headers=WEBP)
        assert first.status == 200 and first.header("x-imgate-cache") == "miss"
        seen = spy_on(app)
        fast = await call(app, path, query, headers=WEBP)
        slow = await call(app.app, path, query, headers=WEBP)
        assert seen == ["fast"]
        assert fast == slow  # status, every header in order, and the bytes
        assert fast.header("x-imgate-cache") == "memory" and fast.header("content-type") == "image/webp"
        assert fast.header("access-control-allow-origin") == "*" and fast.vary() == ["Accept"]
        head = await call(app, path, query, method="HEAD", headers=WEBP)
        assert head.status == 200 and head.body == b"" and head.headers == fast.headers
        etag = fast.header("etag") or ""
        conditional = [*WEBP, ("if-none-match", etag)]
        not_modified = await call(app, path, query, headers=conditional)
        assert not_modified.status == 304 and not_modified.body == b""
        assert not_modified == await call(app.app, path, query, headers=conditional)
        # Another Accept is another key: not yet rendered, so the full path answers it.
        seen.clear()
        assert (await call(app, path, query, headers=[("accept", "image/avif")])).header("content-type") == "image/avif"
        assert seen == ["slow"]


async def test_restricted_cors_hits_are_answered_alike_by_both_fronts(tmp_path: Path) -> None:
    # The CORS gate is one function both fronts call, so restricted lists get fast hits too, with the same
    # headers; a refused origin is not a hit and goes to the full path, which answers 403.
    async with running(tmp_path, store()) as app:
        path, query = "/locked/photo-grey.jpg", b"w=50"
        await call(app, path, query)
        seen = spy_on(app)
        for headers in ([], [("origin", SHOP)]):
            fast = await call(app, path, query, headers=headers)
            assert fast == await call(app.app, path, query, headers=headers)
            assert fast.status == 200 and fast.header("x-imgate-cache") == "memory" and "Origin" in fast.vary()
        assert seen == ["fast", "fast"]
        refused = await call(app, path, query, headers=[("origin", "https://evil.example")])
        assert refused.status == 403 and seen[-1] == "slow"


async def test_both_fronts_call_the_hooks_once_per_request(tmp_path: Path) -> None:
    hooks = RecordingHooks(add=((b"ratelimit", b"limit=100, remaining=99"),))
    async with running(tmp_path, store(), hooks) as app:
        path, query = "/open/photo-grey.jpg", b"w=40"
        miss = await call(app, path, query)
        hit = await call(app, path, query)
        assert (miss.header("x-imgate-cache"), hit.header("x-imgate-cache")) == ("miss", "memory")
        assert miss.header("ratelimit") == hit.header("ratelimit") == "limit=100, remaining=99"
        assert hooks.admitted == ["open", "open"]
        assert [(o.namespace, o.status, o.tier, o.kind) for o in hooks.outcomes] == [
            ("open", 200, "miss", "o"),
            ("open", 200, "memory", "o"),
        ]
        assert hooks.outcomes[1].bytes_out == len(hit.body) > 0
        hooks.refuse = True
        for front in (app, app.app):
            refused = await call(front, path, query)
            assert refused.status == 429 and refused.header("retry-after") == "7"
            assert refused.header("access-control-allow-origin") == "*"  # a page can read it
            assert hooks.outcomes[-1].code == "RATE_LIMITED"
        assert len(hooks.admitted) == len(hooks.outcomes) == 4


async def test_the_full_path_reuses_what_the_fast_path_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with running(tmp_path, store()) as app:
        read: list[str] = []
        original = ImageRequest.read

        def counting(cls: type[ImageRequest], scope: Any, hosts: Any = None) -> ImageRequest | None:
            read.append(scope["path"])
            return original(scope, hosts)

        monkeypatch.setattr(ImageRequest, "read", classmethod(counting))
        assert (await call(app, "/open/photo-grey.jpg", b"w=33")).status == 200  # a miss: through both fronts
        assert read == ["/open/photo-grey.jpg"]
