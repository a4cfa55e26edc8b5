from __future__ import annotations

import gzip
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web

from gateway.errors import (
    BlockedAddress,
    GatewayError,
    NotFound,
    OriginError,
    SourceTooLarge,
    Timeout,
    ValidationError,
)
from gateway.netguard import NO_PUBLIC_ADDRESS, DenyList, DenyRules, NetGuard
from gateway.sources.base import FetchLimits
from gateway.sources.external import ExternalFetcher
from gateway.sources.fetching import MAX_REDIRECTS, fetch_url, new_session
from gateway.sources.http import HttpSource
from loopback.ports import free_port
from tests.support.origin_server import OriginServer, silent_listener

pytestmark = pytest.mark.integration

LIMITS = FetchLimits(max_bytes=64 * 1024, connect_timeout=2.0, total_timeout=5.0)
QUICK = FetchLimits(max_bytes=64 * 1024, connect_timeout=0.3, total_timeout=0.3)
TRUST_ORIGIN = NetGuard(["127.0.0.1/32"])
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40 + b"\xff\xd9"
REPO = Path(__file__).resolve().parents[3]
CORPUS = REPO.parent / "shared" / "corpus"


@pytest.fixture
def origin() -> Iterator[OriginServer]:
    with OriginServer() as server:
        server.file("/images/a.jpg", JPEG, "image/jpeg; charset=binary")
        yield server


@pytest.fixture
async def source(origin: OriginServer) -> AsyncIterator[HttpSource]:
    source = HttpSource(origin.url("/images"), LIMITS, TRUST_ORIGIN)
    yield source
    await source.aclose()


def assert_no_address(message: str) -> None:
    assert "127.0.0" not in message and "169.254" not in message and "::1" not in message


# -- names that do not resolve -------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_name_that_does_not_resolve_is_answered_like_an_internal_one() -> None:
    # If the two answers differed, any ?src= (or an HTTP origin a tenant points anywhere) would tell
    # which names exist in the gateway's internal DNS. 'localhost' resolves, to loopback; '.invalid' never does.
    external = ExternalFetcher(LIMITS, NetGuard())
    answers = []
    try:
        for url in ("http://localhost:9/x.jpg", "http://no-such-host.invalid/x.jpg"):
            with pytest.raises(GatewayError) as caught:
                await external.fetch(url)
            answers.append((type(caught.value), caught.value.code, caught.value.status, caught.value.message))
        for base in ("http://localhost:9/img", "http://no-such-host.invalid/img"):
            source = HttpSource(base, LIMITS, NetGuard())
            try:
                with pytest.raises(GatewayError) as caught:
                    await source.fetch("x.jpg")
            finally:
                await source.aclose()
            answers.append((type(caught.value), caught.value.code, caught.value.status, caught.value.message))
    finally:
        await external.aclose()
    assert answers == [(BlockedAddress, "BLOCKED_ADDRESS", 403, NO_PUBLIC_ADDRESS)] * 4


# -- the operator's deny lists -------------------------------------------------------------------


@pytest.mark.anyio
async def test_deny_lists_apply_to_origins_and_external_sources_even_when_trusted(origin: OriginServer) -> None:
    guard = NetGuard(["127.0.0.1/32"], DenyRules.parse(networks=["127.0.0.1/32"]))
    external = ExternalFetcher(LIMITS, guard)
    source = HttpSource(origin.url("/images"), LIMITS, guard)
    try:
        with pytest.raises(BlockedAddress):
            await external.fetch(origin.url("/images/a.jpg"))
        with pytest.raises(BlockedAddress):
            await source.fetch("a.jpg")
    finally:
        await external.aclose()
        await source.aclose()
    assert origin.requests == []


@pytest.mark.anyio
async def test_a_redirect_to_a_denied_host_is_refused_before_it_resolves(origin: OriginServer) -> None:
    origin.redirect("/go", "http://metadata.google.internal/computeMetadata/v1/")
    guard = NetGuard(["127.0.0.1/32"], DenyRules.parse(hosts=["metadata.google.internal"]))
    async with new_session(guard) as session:
        with pytest.raises(BlockedAddress) as caught:
            await fetch_url(session, origin.url("/go"), LIMITS, guard)
    assert caught.value.message == NO_PUBLIC_ADDRESS
    assert origin.requests == ["/go"]


@pytest.mark.anyio
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_a_deny_rule_added_while_running_stops_the_next_fetch(
    origin: OriginServer, tmp_path: Path, host: str
) -> None:
    # The session keeps its connection to the origin alive (and, for a name, its DNS answer cached); the rule
    # still applies to the next request, before it is written.
    watched = tmp_path / "gateway.toml"
    watched.write_text("before")
    now = [0.0]
    deny = DenyList(DenyRules(), lambda: DenyRules.parse(networks=["127.0.0.1/32"]), watched, clock=lambda: now[0])
    guard = NetGuard(["127.0.0.1/32", "::1/128"], deny)
    source = HttpSource(f"http://{host}:{origin.port}/images", LIMITS, guard)
    try:
        assert (await source.fetch("a.jpg")).data == JPEG
        assert (await source.fetch("a.jpg")).data == JPEG
        watched.write_text("after, and longer")
        now[0] += 1.5
        with pytest.raises(BlockedAddress):
            await source.fetch("a.jpg")
    finally:
        await source.aclose()
    assert origin.hits("/images/a.jpg") == 2


# -- fetching ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_fetches_a_file_under_the_prefix(source: HttpSource, origin: OriginServer) -> None:
    original = await source.fetch("a.jpg")
    assert original.data == JPEG
    assert original.content_type == "image/jpeg"
    assert origin.requests == ["/images/a.jpg"]


@pytest.mark.anyio
async def test_fetches_a_real_photo_byte_for_byte(origin: OriginServer) -> None:
    photo = CORPUS / "photo-kite.jpg"
    if not photo.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the corpus is missing: {photo}")
        pytest.skip("the shared corpus is not next to this repository")
    data = photo.read_bytes()
    origin.file("/photos/kite.jpg", data, "image/jpeg", chunked=True)
    source = HttpSource(origin.url("/photos/"), FetchLimits(len(data), 2.0, 10.0), TRUST_ORIGIN)
    try:
        assert (await source.fetch("kite.jpg")).data == data
    finally:
        await source.aclose()


@pytest.mark.anyio
async def test_reuses_one_session_across_fetches(source: HttpSource, origin: OriginServer) -> None:
    await source.fetch("a.jpg")
    first = source._client()
    await source.fetch("a.jpg")
    assert source._client() is first
    assert origin.hits("/images/a.jpg") == 2


def test_can_be_built_outside_an_event_loop() -> None:
    # Sources are built from settings before the server's loop runs; the session must wait for it.
    source = HttpSource("https://cdn.example.com/img", LIMITS, NetGuard())
    assert source.prefix == "https://cdn.example.com/img/"


@pytest.mark.anyio
async def test_a_closed_source_refuses_to_fetch(origin: OriginServer) -> None:
    source = HttpSource(origin.url("/images"), LIMITS, TRUST_ORIGIN)
    await source.fetch("a.jpg")
    session = source._client()
    await source.aclose()
    assert session.closed
    with pytest.raises(RuntimeError):
        await source.fetch("a.jpg")


# -- keys and identity ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_keys_are_percent_encoded_per_segment(source: HttpSource, origin: OriginServer) -> None:
    origin.file("/images/dir/a%20b%3Fc%23d%25e.jpg", JPEG, "image/jpeg")
    assert (await source.fetch("dir/a b?c#d%e.jpg")).data == JPEG
    assert origin.requests == ["/images/dir/a%20b%3Fc%23d%25e.jpg"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "key",
    ["..", "../secret", "a/../../secret", "./a.jpg", "a/.", "",
     # what a server that reads ';' as a parameter, '\\' as '/', or decodes twice would resolve outside
     "..;/secret", "a/..;x/..;/secret", "..\\secret", "a\\..\\..\\secret", "dir/a\\b.jpg",
     "%2e%2e/secret", "%2E./secret", "%252e%252e/secret", "a%2f..%2f..%2fsecret", "a%5c..%5csecret",
     "%c0%ae%c0%ae/secret", "%c0%af", "a\x00.jpg"],
)  # fmt: skip
async def test_dot_segments_never_reach_the_origin(
    source: HttpSource,
    origin: OriginServer,
    key: str,
) -> None:
    with pytest.raises(NotFound):
        await source.fetch(key)
    with pytest.raises(NotFound):
        source.identity(key)
    assert origin.requests == []


@pytest.mark.anyio
async def test_encoded_dots_are_refused_not_sent(source: HttpSource, origin: OriginServer) -> None:
    # Sent as %252e%252e, a server that decodes twice would read '..'; a key never holds one legitimately.
    with pytest.raises(NotFound):
        await source.fetch("%2e%2e/secret")
    assert origin.requests == []


@pytest.mark.anyio
async def test_ordinary_odd_keys_still_reach_the_origin(source: HttpSource, origin: OriginServer) -> None:
    for path in ("/images/50%25off.jpg", "/images/...", "/images/a;b.jpg", "/images/caf%C3%A9.jpg"):
        origin.file(path, JPEG, "image/jpeg")
    for key in ("50%off.jpg", "...", "a;b.jpg", "café.jpg"):
        assert (await source.fetch(key)).data == JPEG, key


@pytest.mark.anyio
async def test_a_key_cannot_name_another_host(source: HttpSource, origin: OriginServer) -> None:
    with pytest.raises(NotFound):
        await source.fetch("//evil.example/x.jpg")
    assert origin.requests == ["/images///evil.example/x.jpg"]


def test_identity_is_the_full_url() -> None:
    source = HttpSource("https://cdn.example.com/img", LIMITS, NetGuard())
    assert source.identity("a b/c.jpg") == "http:https://cdn.example.com/img/a%20b/c.jpg"
    other = HttpSource("https://cdn.example.com/other/", LIMITS, NetGuard())
    assert other.identity("a b/c.jpg") != source.identity("a b/c.jpg")


@pytest.mark.parametrize(
    "base_url",
    [
        "ftp://cdn.example.com/",
        "file:///srv/images",
        "/relative/path",
        "https://user:secret@cdn.example.com/",
        "https://cdn.example.com/img?token=abc",
        "https://cdn.example.com/img#frag",
        "https:///no-host",
    ],
)
def test_refuses_prefixes_that_are_not_plain_http_folders(base_url: str) -> None:
    with pytest.raises(ValueError) as caught:
        HttpSource(base_url, LIMITS, NetGuard())
    assert "secret" not in str(caught.value)


# -- origin answers ------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("status", [404, 410])
async def test_missing_at_the_origin_is_not_found(
    source: HttpSource,
    origin: OriginServer,
    status: int,
) -> None:
    origin.status("/images/gone.jpg", status)
    with pytest.raises(NotFound):
        await source.fetch("gone.jpg")


@pytest.mark.anyio
@pytest.mark.parametrize("status", [500, 503, 403, 401, 300, 304])
async def test_other_statuses_are_origin_errors(
    source: HttpSource,
    origin: OriginServer,
    status: int,
) -> None:
    origin.status("/images/bad.jpg", status)
    with pytest.raises(OriginError) as caught:
        await source.fetch("bad.jpg")
    assert str(status) in caught.value.message
    assert_no_address(caught.value.message)


@pytest.mark.anyio
async def test_a_closed_port_is_an_origin_error_without_the_address() -> None:
    port = free_port()
    source = HttpSource(f"http://127.0.0.1:{port}/", LIMITS, TRUST_ORIGIN)
    try:
        with pytest.raises(OriginError) as caught:
            await source.fetch("a.jpg")
    finally:
        await source.aclose()
    assert_no_address(caught.value.message)
    assert str(port) not in caught.value.message


# -- redirects -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_follows_a_redirect_chain(source: HttpSource, origin: OriginServer) -> None:
    origin.redirect("/images/r1.jpg", origin.url("/images/r2.jpg"), 301)
    origin.redirect("/images/r2.jpg", "r3.jpg", 307)  # relative Location
    origin.redirect("/images/r3.jpg", "/images/a.jpg", 308)
    assert (await source.fetch("r1.jpg")).data == JPEG
    assert origin.requests == ["/images/r1.jpg", "/images/r2.jpg", "/images/r3.jpg", "/images/a.jpg"]


@pytest.mark.anyio
async def test_follows_exactly_the_maximum_number_of_redirects(
    source: HttpSource,
    origin: OriginServer,
) -> None:
    for hop in range(MAX_REDIRECTS):
        origin.redirect(f"/images/hop{hop}.jpg", f"/images/hop{hop + 1}.jpg")
    origin.file(f"/images/hop{MAX_REDIRECTS}.jpg", JPEG)
    assert (await source.fetch("hop0.jpg")).data == JPEG

    origin.redirect(f"/images/hop{MAX_REDIRECTS}.jpg", "/images/a.jpg")
    with pytest.raises(OriginError, match="too many"):
        await source.fetch("hop0.jpg")


@pytest.mark.anyio
async def test_a_redirect_loop_stops(source: HttpSource, origin: OriginServer) -> None:
    origin.redirect("/images/loop.jpg", "/images/loop.jpg")
    with pytest.raises(OriginError, match="too many"):
        await source.fetch("loop.jpg")
    assert origin.hits("/images/loop.jpg") == MAX_REDIRECTS + 1


@pytest.mark.anyio
async def test_follows_a_redirect_to_another_trusted_port(source: HttpSource, origin: OriginServer) -> None:
    with OriginServer() as other:
        other.file("/elsewhere.jpg", b"other bytes", "image/png")
        origin.redirect("/images/moved.jpg", other.url("/elsewhere.jpg"))
        original = await source.fetch("moved.jpg")
        assert original.data == b"other bytes"
        assert original.content_type == "image/png"
        assert other.hits("/elsewhere.jpg") == 1


@pytest.mark.anyio
async def test_a_redirect_to_an_untrusted_loopback_address_is_blocked(
    source: HttpSource,
    origin: OriginServer,
) -> None:
    # 127.0.0.2 answers on Linux loopback, but only 127.0.0.1/32 is trusted.
    with OriginServer("127.0.0.2") as internal:
        internal.file("/admin", b"secret")
        origin.redirect("/images/evil.jpg", internal.url("/admin"))
        with pytest.raises(BlockedAddress) as caught:
            await source.fetch("evil.jpg")
        assert internal.requests == []
    assert_no_address(caught.value.message)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/",
        "http://[::ffff:169.254.169.254]/",
        "http://2130706434:9/",
        "http://0x7f.2:9/",
        "http://127.2:9/",
        "https://10.0.0.1/",
        "http://0.0.0.0:9/",
    ],
)
async def test_redirects_to_internal_addresses_are_blocked(
    source: HttpSource, origin: OriginServer, location: str
) -> None:
    origin.redirect("/images/evil.jpg", location)
    with pytest.raises(BlockedAddress) as caught:
        await source.fetch("evil.jpg")
    assert_no_address(caught.value.message)


@pytest.mark.anyio
@pytest.mark.parametrize("location", ["ftp://example.com/a.jpg", "file:///etc/passwd", "http://user:pw@x.example/"])
async def test_redirects_to_other_schemes_or_credentials_are_refused(
    source: HttpSource, origin: OriginServer, location: str
) -> None:
    origin.redirect("/images/odd.jpg", location)
    with pytest.raises(OriginError, match="unusable"):
        await source.fetch("odd.jpg")


@pytest.mark.anyio
async def test_a_redirect_without_location_is_an_origin_error(
    source: HttpSource,
    origin: OriginServer,
) -> None:
    async def no_location(request: web.Request) -> web.StreamResponse:
        return web.Response(status=302)

    origin.route("/images/nowhere.jpg", no_location)
    with pytest.raises(OriginError):
        await source.fetch("nowhere.jpg")


# -- the guard at the first hop ------------------------------------------------------------------


@pytest.mark.anyio
async def test_an_untrusting_guard_refuses_the_loopback_origin(origin: OriginServer) -> None:
    source = HttpSource(origin.url("/images"), LIMITS, NetGuard())
    try:
        with pytest.raises(BlockedAddress):
            await source.fetch("a.jpg")
    finally:
        await source.aclose()
    assert origin.requests == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "[::1]", "2130706433", "0x7f.1", "127.1", "0177.0.0.1", "localhost"],
)
async def test_fetch_url_refuses_every_spelling_of_loopback(origin: OriginServer, host: str) -> None:
    guard = NetGuard()
    session = new_session(guard)
    try:
        with pytest.raises(BlockedAddress):
            await fetch_url(session, f"http://{host}:{origin.port}/images/a.jpg", LIMITS, guard)
    finally:
        await session.close()
    assert origin.requests == []


@pytest.mark.anyio
@pytest.mark.parametrize("url", ["ftp://example.com/a.jpg", "http://user:pw@example.com/", "/a.jpg", "http://"])
async def test_fetch_url_refuses_unusable_urls(url: str) -> None:
    guard = NetGuard()
    session = new_session(guard)
    try:
        with pytest.raises(ValidationError):
            await fetch_url(session, url, LIMITS, guard)
    finally:
        await session.close()


# -- time limits ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_an_origin_that_never_answers_times_out(origin: OriginServer) -> None:
    origin.stall_headers("/images/slow.jpg")
    source = HttpSource(origin.url("/images"), QUICK, TRUST_ORIGIN)
    try:
        with pytest.raises(Timeout):
            await source.fetch("slow.jpg")
    finally:
        await source.aclose()


@pytest.mark.anyio
async def test_an_origin_that_stops_mid_body_times_out(origin: OriginServer) -> None:
    origin.stall_body("/images/half.jpg")
    source = HttpSource(origin.url("/images"), QUICK, TRUST_ORIGIN)
    try:
        with pytest.raises(Timeout):
            await source.fetch("half.jpg")
    finally:
        await source.aclose()


@pytest.mark.anyio
async def test_a_listener_that_never_reads_times_out() -> None:
    with silent_listener() as port:
        source = HttpSource(f"http://127.0.0.1:{port}/", QUICK, TRUST_ORIGIN)
        try:
            with pytest.raises(Timeout):
                await source.fetch("a.jpg")
        finally:
            await source.aclose()


# -- byte cap ------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_an_oversized_body_is_refused(source: HttpSource, origin: OriginServer, chunked: bool) -> None:
    origin.file("/images/big.jpg", b"\0" * (LIMITS.max_bytes + 1), "image/jpeg", chunked=chunked)
    with pytest.raises(SourceTooLarge):
        await source.fetch("big.jpg")


@pytest.mark.anyio
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_body_exactly_at_the_cap_is_accepted(
    source: HttpSource,
    origin: OriginServer,
    chunked: bool,
) -> None:
    origin.file("/images/full.jpg", b"\1" * LIMITS.max_bytes, "image/jpeg", chunked=chunked)
    assert len((await source.fetch("full.jpg")).data) == LIMITS.max_bytes


@pytest.mark.anyio
async def test_the_cap_counts_decompressed_bytes(source: HttpSource, origin: OriginServer) -> None:
    bomb = gzip.compress(b"\0" * (LIMITS.max_bytes * 16))
    assert len(bomb) < LIMITS.max_bytes

    async def gzipped(request: web.Request) -> web.StreamResponse:
        return web.Response(body=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "image/jpeg"})

    origin.route("/images/bomb.jpg", gzipped)
    with pytest.raises(SourceTooLarge):
        await source.fetch("bomb.jpg")
