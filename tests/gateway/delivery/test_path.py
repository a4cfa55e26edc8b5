"""The request path from in-memory parts: resolve, gate, plan, hit or render, respond, record."""

from __future__ import annotations

import asyncio
import json

import pytest

from gateway.cache.keys import Kind
from gateway.web.responses import Answer
from tests.gateway.delivery.parts import Parts, request

pytestmark = pytest.mark.anyio


def code(answer: Answer) -> str:
    body: dict[str, dict[str, str]] = json.loads(answer.body)
    return body["error"]["code"]


def header(answer: Answer, name: str) -> str | None:
    return next((v.decode() for k, v in answer.headers if k == name.encode()), None)


async def test_a_miss_then_hits_from_either_front(parts: Parts) -> None:
    first = await parts.path.serve(request("/acme/photo-grey.jpg?w=40&fm=png"))
    assert (first.status, first.tier, first.kind) == (200, "miss", Kind.ORIGIN)
    assert first.body.startswith(b"\x89PNG") and header(first, "content-type") == "image/png"
    full = await parts.path.serve(request("/acme/photo-grey.jpg?w=40&fm=png"))
    fast = parts.path.hit(request("/acme/photo-grey.jpg?w=40&fm=png"))
    assert fast is not None and fast.tier == full.tier == "memory"
    assert (fast.status, fast.headers, fast.body) == (full.status, full.headers, full.body)
    assert parts.source.fetches == 1


async def test_the_memory_tier_is_looked_up_once_per_request(parts: Parts) -> None:
    await parts.path.serve(request("/acme/photo-grey.jpg?w=41"))
    assert parts.memory.lookups == 1  # the miss: the hit step looked, the render step did not look again
    await parts.path.serve(request("/acme/photo-grey.jpg?w=41"))
    parts.path.hit(request("/acme/photo-grey.jpg?w=41"))
    assert parts.memory.lookups == 3


async def test_the_fast_path_takes_only_what_it_can_answer_from_memory(parts: Parts) -> None:
    target = "/acme/photo-grey.jpg?w=42"
    assert parts.path.hit(request(target)) is None  # the workspace is not resolved yet
    await parts.tenancy.get("acme")
    assert parts.path.hit(request(target)) is None  # not planned yet
    await parts.path.serve(request(target))
    assert parts.path.hit(request(target)) is not None
    assert parts.path.hit(request("/acme/photo-grey.jpg?w=43")) is None  # another URL
    assert parts.path.hit(request("/acme")) is None  # no key
    assert parts.path.hit(request("/nobody/photo-grey.jpg?w=42")) is None
    assert parts.hooks.admitted == ["acme", "acme"]  # the two requests answered; none that was handed on


async def test_one_plan_serves_every_accept_without_changing(parts: Parts) -> None:
    target = "/acme/photo-grey.jpg?w=44&auto=format"
    answers = {
        accept: await parts.path.serve(request(target, headers=[("accept", accept)]))
        for accept in ("image/avif,image/webp,*/*", "image/webp,*/*", "*/*")
    }
    types = [header(answer, "content-type") for answer in answers.values()]
    assert types == ["image/avif", "image/webp", "image/jpeg"]
    assert all(header(answer, "vary") == "Accept" for answer in answers.values())
    tenant = parts.tenancy.peek("acme")
    assert tenant is not None
    plan = parts.path._planner.cached(tenant, "photo-grey.jpg", b"w=44&auto=format")
    assert plan is not None and len(plan.keys) == 3
    with pytest.raises(AttributeError):
        plan.max_age = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("query", "named"),
    [("w=1&w=2", "w"), ("mark=a&mark=b", "mark"), ("src=a&src=b", "src"), ("vw=1&vw=2", "vw"), ("x=1&x=2", "x")],
)
async def test_a_parameter_given_twice_is_refused_whoever_reads_it(parts: Parts, query: str, named: str) -> None:
    answer = await parts.path.serve(request(f"/acme/photo-grey.jpg?{query}"))
    assert answer.status == 400 and code(answer) == "VALIDATION_ERROR"
    assert json.loads(answer.body)["error"]["message"] == f"{named}: given more than once"
    assert header(answer, "cache-control") == "no-store"


async def test_unknown_and_invalid_workspaces_are_404_readable_by_any_page(parts: Parts) -> None:
    for target in ("/nobody/photo-grey.jpg", "/NOPE/photo-grey.jpg", "/", "/acme-/x"):
        answer = await parts.path.serve(request(target, headers=[("origin", "https://a.example")]))
        assert (answer.status, code(answer)) == (404, "NOT_FOUND")
        assert header(answer, "access-control-allow-origin") == "*" and header(answer, "vary") is None
    assert parts.hooks.admitted == []


async def test_errors_are_never_cached(parts: Parts) -> None:
    for _ in range(2):
        answer = await parts.path.serve(request("/acme/missing.jpg?w=10"))
        assert (answer.status, code(answer)) == (404, "NOT_FOUND")
    assert parts.source.fetches == 2 and len(parts.memory) == 0


async def test_concurrent_misses_render_once_and_a_client_that_leaves_hurts_nobody(parts: Parts) -> None:
    parts.source.delay = 0.05
    target = "/acme/photo-kite.jpg?w=64"
    first = asyncio.create_task(parts.path.serve(request(target)))
    await asyncio.sleep(0.01)
    others = [asyncio.create_task(parts.path.serve(request(target))) for _ in range(4)]
    await asyncio.sleep(0.01)
    first.cancel()  # its client disconnected
    answers = await asyncio.gather(*others)
    assert [answer.status for answer in answers] == [200] * 4
    assert {answer.tier for answer in answers} == {"coalesced"} and parts.source.fetches == 1


async def test_the_record_hook_hears_every_request_and_no_url(parts: Parts) -> None:
    request_one = request("/acme/photo-grey.jpg?w=45&v=secret-token")
    answer = await parts.path.serve(request_one)
    parts.path.finished(request_one, answer)
    missing = request("/acme/missing.jpg?w=45")
    parts.path.finished(missing, await parts.path.serve(missing))
    head = request("/acme/photo-grey.jpg?w=45&v=secret-token", method="HEAD")
    parts.path.finished(head, await parts.path.serve(head))
    seen = [(o.namespace, o.status, o.tier, o.code, o.kind) for o in parts.hooks.outcomes]
    assert seen == [
        ("acme", 200, "miss", None, Kind.ORIGIN),
        ("acme", 404, None, "NOT_FOUND", Kind.ORIGIN),
        ("acme", 200, "memory", None, Kind.ORIGIN),
    ]
    assert parts.hooks.outcomes[0].bytes_out == len(answer.body) and parts.hooks.outcomes[2].bytes_out == 0
    assert all(o.seconds >= 0 for o in parts.hooks.outcomes)
    fields = [getattr(o, name) for o in parts.hooks.outcomes for name in o.__slots__]
    assert not any("secret-token" in str(value) or "photo-grey" in str(value) for value in fields)


async def test_a_preflight_is_answered_without_admission(parts: Parts) -> None:
    preflight = [("origin", "https://a.example"), ("access-control-request-method", "GET")]
    answer = await parts.path.serve(request("/acme/photo-grey.jpg", method="OPTIONS", headers=preflight))
    assert answer.status == 204 and header(answer, "access-control-allow-origin") == "*"
    assert parts.hooks.admitted == []


@pytest.mark.parametrize("key", ["photo-grey.jpg\r\nX-Injected: 1", "photo\n.jpg", "\x00photo.jpg", "photo\x7f.jpg"])
async def test_a_key_holding_a_control_character_is_a_400_with_the_workspace_cors(parts: Parts, key: str) -> None:
    parts.change("acme", allowed_origins=("https://shop.example",))
    for method, headers in (("GET", []), ("OPTIONS", [("access-control-request-method", "GET")])):
        answer = await parts.path.serve(
            request(f"/acme/{key}", method=method, headers=[("origin", "https://shop.example"), *headers])
        )
        assert (answer.status, code(answer)) == (400, "VALIDATION_ERROR"), method
        assert header(answer, "access-control-allow-origin") == "https://shop.example"
        assert header(answer, "cache-control") == "no-store"
    assert parts.source.fetches == 0 and parts.hooks.admitted == []
