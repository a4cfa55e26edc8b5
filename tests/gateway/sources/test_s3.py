"""Bucket origins against a real S3 API (moto in server mode), and the ``workspace check`` diagnosis."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from email.utils import formatdate
from pathlib import Path

import pytest
import pyvips
from aiohttp import web
from aiohttp.abc import ResolveResult

from gateway.errors import BlockedAddress, NotFound, OriginError, SourceTooLarge, Timeout
from gateway.netguard import DenyList, DenyRules, NetGuard
from gateway.sources.base import FetchLimits
from gateway.sources.s3 import LazyS3Client, S3OriginSettings, S3Source
from gateway.sources.s3check import Problem, diagnose
from loopback.ports import free_port
from tests.conftest import CORPUS, require
from tests.support.moto_server import (
    DUMMY_KEY_ID,
    DUMMY_SECRET,
    LoopbackResolver,
    create_iam_user,
    moto_auth_enforced,
    new_bucket,
    s3_admin,
    s3_read_policy,
)

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

LIMITS = FetchLimits(max_bytes=2_000_000, connect_timeout=2.0, total_timeout=10.0)
LOOPBACK = NetGuard(["127.0.0.0/8"])


def thumbnail(name: str) -> bytes:
    require((CORPUS / name).is_file(), f"corpus image {name} (see the shared corpus README)")
    image = pyvips.Image.thumbnail(str(CORPUS / name), 96)
    data: bytes = image.jpegsave_buffer(Q=70) if name.endswith(".jpg") else image.pngsave_buffer()
    return data


def put(endpoint: str, bucket: str, key: str, body: bytes, content_type: str = "image/jpeg") -> None:
    s3_admin(endpoint).put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)


def settings_for(endpoint: str, bucket: str, **changes: object) -> S3OriginSettings:
    options: dict[str, object] = {
        "bucket": bucket,
        "endpoint_url": endpoint,
        "addressing_style": "path",
        "access_key_id": DUMMY_KEY_ID,
        "secret_access_key": DUMMY_SECRET,
    }
    options.update(changes)
    return S3OriginSettings(**options)  # type: ignore[arg-type]


@asynccontextmanager
async def open_source(
    settings: S3OriginSettings, limits: FetchLimits = LIMITS, **kwargs: object
) -> AsyncIterator[S3Source]:
    source = S3Source(settings, limits, **kwargs)  # type: ignore[arg-type]
    try:
        yield source
    finally:
        await source.aclose()


# -- settings ------------------------------------------------------------------------------------


def test_prefix_is_a_folder_and_secret_is_hidden() -> None:
    settings = S3OriginSettings(
        bucket="photos", prefix="/originals/", access_key_id="AKIA1", secret_access_key="s3cr3t"
    )
    assert settings.prefix == "originals/"
    assert S3OriginSettings(bucket="photos", prefix="originals").prefix == "originals/"
    assert S3OriginSettings(bucket="photos", prefix="/").prefix == ""
    assert "s3cr3t" not in repr(settings)


@pytest.mark.parametrize(
    "changes",
    [
        {"bucket": "a"},
        {"bucket": "bad/name"},
        {"prefix": "a/../b"},
        {"endpoint_url": "ftp://store.example"},
        {"endpoint_url": "https://user:pw@store.example"},
        {"endpoint_url": "https://store.example/path"},
        {"addressing_style": "dns"},
        {"access_key_id": "AKIA1"},
    ],
)
def test_invalid_settings_are_refused(changes: dict[str, object]) -> None:
    options: dict[str, object] = {"bucket": "photos"}
    options.update(changes)
    with pytest.raises(ValueError):
        S3OriginSettings(**options)  # type: ignore[arg-type]


def test_r2_settings() -> None:
    account = "0123456789abcdef0123456789abcdef"
    settings = S3OriginSettings.r2(account, "photos", access_key_id="k", secret_access_key="s")
    assert settings.endpoint_url == f"https://{account}.r2.cloudflarestorage.com"
    assert settings.region == "auto"
    eu = S3OriginSettings.r2(account, "photos", jurisdiction="eu")
    assert eu.endpoint_url == f"https://{account}.eu.r2.cloudflarestorage.com"
    with pytest.raises(ValueError):
        S3OriginSettings.r2("not-an-account", "photos")


def test_from_origin_fields() -> None:
    settings = S3OriginSettings.from_origin(
        {
            "bucket": "photos",
            "prefix": "a",
            "endpoint_url": "http://minio.example:9000",
            "addressing_style": "path",
            "access_key_id": "AKIA1",
        },
        "s3cr3t",
    )
    assert (settings.bucket, settings.prefix, settings.addressing_style) == ("photos", "a/", "path")
    assert settings.secret_access_key == "s3cr3t"
    with pytest.raises(ValueError, match="addressing_style"):
        S3OriginSettings.from_origin({"bucket": "photos", "addressing_style": "dns"}, None)


def test_identity_names_the_object_without_credentials() -> None:
    settings = S3OriginSettings(
        bucket="photos",
        prefix="shop",
        endpoint_url="http://Minio.example:9000",
        access_key_id="AKIAIDENTITY",
        secret_access_key="s3cr3t",
    )
    source = S3Source(settings, LIMITS)
    assert source.identity("a/b.jpg") == "s3:minio.example:9000/photos/shop/a/b.jpg"
    other = S3Source(S3OriginSettings(bucket="photos", prefix="other"), LIMITS)
    assert other.identity("a/b.jpg") == "s3:s3.us-east-1.amazonaws.com/photos/other/a/b.jpg"
    assert "s3cr3t" not in source.identity("a/b.jpg") and "AKIAIDENTITY" not in source.identity("a/b.jpg")


# -- reading -------------------------------------------------------------------------------------


async def test_reads_corpus_images_path_style(moto_endpoint: str) -> None:
    bucket = new_bucket(moto_endpoint)
    uploads = {
        "photos/kite.jpg": (thumbnail("photo-kite.jpg"), "image/jpeg"),
        "photos/grey.jpg": (thumbnail("photo-grey.jpg"), "image/jpeg"),
        "alpha/elarun.png": (thumbnail("alpha-elarun.png"), "image/png"),
    }
    for key, (body, content_type) in uploads.items():
        put(moto_endpoint, bucket, key, body, content_type)
    async with open_source(settings_for(moto_endpoint, bucket), guard=LOOPBACK) as source:
        for key, (body, content_type) in uploads.items():
            original = await source.fetch(key)
            assert original.data == body
            assert original.content_type == content_type


class RecordingResolver(LoopbackResolver):
    def __init__(self) -> None:
        self.names: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.names.append(host)
        return await super().resolve(host, port, family)


async def test_reads_virtual_host_style(moto_endpoint: str) -> None:
    bucket = new_bucket(moto_endpoint)
    put(moto_endpoint, bucket, "shoe.jpg", b"virtual bytes")
    port = moto_endpoint.rsplit(":", 1)[1]
    resolver = RecordingResolver()
    settings = settings_for(moto_endpoint, bucket, endpoint_url=f"http://localhost:{port}", addressing_style="virtual")
    async with open_source(settings, resolver=resolver) as source:
        assert (await source.fetch("shoe.jpg")).data == b"virtual bytes"
    # The bucket travelled in the host name, not in the path.
    assert f"{bucket}.localhost" in resolver.names


async def test_prefix_confines_keys(moto_endpoint: str) -> None:
    bucket = new_bucket(moto_endpoint)
    put(moto_endpoint, bucket, "acme/logo.png", b"acme's")
    put(moto_endpoint, bucket, "globex/secret.png", b"globex's")
    async with open_source(settings_for(moto_endpoint, bucket, prefix="acme")) as source:
        assert (await source.fetch("logo.png")).data == b"acme's"
        for key in [
            "../globex/secret.png",
            "./../globex/secret.png",
            "/globex/secret.png",
            "a/../../globex/secret.png",
            "..\\globex\\secret.png",
            "%2e%2e/globex/secret.png",
            "logo.png\x00",
            "globex/secret.png",
            "",
        ]:
            with pytest.raises(NotFound):
                await source.fetch(key)


async def test_second_workspace_cannot_reach_the_first_bucket(moto_endpoint: str) -> None:
    first, second = new_bucket(moto_endpoint, "first"), new_bucket(moto_endpoint, "second")
    put(moto_endpoint, first, "private/plan.png", b"first's secret")
    put(moto_endpoint, first, "plan.png", b"first's secret")
    async with open_source(settings_for(moto_endpoint, second, prefix="tenant")) as source:
        attempts = [
            f"../../{first}/plan.png",
            f"../{first}/plan.png",
            f"/{first}/plan.png",
            f"//{first}/plan.png",
            f"%2e%2e/%2e%2e/{first}/plan.png",
            f"%2E%2E%2F{first}%2Fplan.png",
            f"..%2f{first}%2fplan.png",
            f"..\\..\\{first}\\plan.png",
            f"{first}/plan.png",
            f"s3://{first}/plan.png",
            "plan.png",
            "private/plan.png",
        ]
        for key in attempts:
            with pytest.raises(NotFound):
                await source.fetch(key)


async def test_missing_key_is_not_found(moto_endpoint: str) -> None:
    bucket = new_bucket(moto_endpoint)
    async with open_source(settings_for(moto_endpoint, bucket)) as source:
        with pytest.raises(NotFound) as caught:
            await source.fetch("nope.jpg")
    assert caught.value.status == 404


async def test_missing_bucket_is_an_origin_error_naming_it(moto_endpoint: str) -> None:
    async with open_source(settings_for(moto_endpoint, "no-such-bucket-imgate", prefix="p")) as source:
        with pytest.raises(OriginError) as caught:
            await source.fetch("a.jpg")
    assert caught.value.status == 502
    assert "no-such-bucket-imgate" in caught.value.message
    assert "127.0.0.1" not in caught.value.message


async def test_oversize_object_is_refused(moto_endpoint: str) -> None:
    bucket = new_bucket(moto_endpoint)
    put(moto_endpoint, bucket, "big.jpg", b"x" * 5000)
    put(moto_endpoint, bucket, "fits.jpg", b"x" * 1000)
    small = FetchLimits(max_bytes=1000, connect_timeout=2.0, total_timeout=10.0)
    async with open_source(settings_for(moto_endpoint, bucket), small) as source:
        with pytest.raises(SourceTooLarge):
            await source.fetch("big.jpg")
        assert len((await source.fetch("fits.jpg")).data) == 1000


async def test_concurrent_first_requests_share_one_client(moto_endpoint: str) -> None:
    client = LazyS3Client(settings_for(moto_endpoint, "any-bucket"), connect_timeout=1.0, read_timeout=1.0)
    try:
        clients = await asyncio.gather(*(client.get() for _ in range(8)))
        assert all(c is clients[0] for c in clients)
        assert await client.get() is clients[0]
    finally:
        await client.aclose()


# -- credentials (moto checks signatures only while auth is enforced) ------------------------------


async def test_wrong_secret_and_unknown_key_are_origin_errors(
    moto_endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    bucket = new_bucket(moto_endpoint)
    put(moto_endpoint, bucket, "a.jpg", b"signed bytes")
    key_id, secret = create_iam_user(
        moto_endpoint, s3_read_policy(f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*")
    )
    wrong_secret = "wrong-" + secret[6:]
    caplog.set_level(logging.DEBUG)
    with moto_auth_enforced(moto_endpoint):
        async with open_source(
            settings_for(moto_endpoint, bucket, access_key_id=key_id, secret_access_key=secret)
        ) as ok:
            assert (await ok.fetch("a.jpg")).data == b"signed bytes"
        wrong = settings_for(moto_endpoint, bucket, access_key_id=key_id, secret_access_key=wrong_secret)
        unknown = settings_for(moto_endpoint, bucket, access_key_id="AKIAUNKNOWN000000000", secret_access_key=secret)
        for settings in (wrong, unknown):
            async with open_source(settings) as source:
                with pytest.raises(OriginError) as caught:
                    await source.fetch("a.jpg")
            assert "credentials" in caught.value.message and bucket in caught.value.message
            assert secret not in caught.value.message and wrong_secret not in caught.value.message
    for record in caplog.records:
        text = record.getMessage()
        assert secret not in text and wrong_secret not in text


async def test_credentials_for_another_bucket_are_denied(moto_endpoint: str) -> None:
    mine, theirs = new_bucket(moto_endpoint, "mine"), new_bucket(moto_endpoint, "theirs")
    put(moto_endpoint, theirs, "a.jpg", b"theirs")
    key_id, secret = create_iam_user(moto_endpoint, s3_read_policy(f"arn:aws:s3:::{mine}", f"arn:aws:s3:::{mine}/*"))
    with moto_auth_enforced(moto_endpoint):
        async with open_source(
            settings_for(moto_endpoint, theirs, access_key_id=key_id, secret_access_key=secret)
        ) as source:
            with pytest.raises(OriginError) as caught:
                await source.fetch("a.jpg")
    assert "denied" in caught.value.message


# -- network: SSRF guard, timeouts -----------------------------------------------------------------


async def test_guard_refuses_loopback_endpoints(moto_endpoint: str) -> None:
    bucket = new_bucket(moto_endpoint)
    put(moto_endpoint, bucket, "a.jpg", b"internal")
    strict = NetGuard()
    # An IP literal: aiohttp would connect without resolving, so it is checked before the client exists.
    async with open_source(settings_for(moto_endpoint, bucket), guard=strict) as source:
        with pytest.raises(BlockedAddress):
            await source.fetch("a.jpg")
    # A name: checked on what it resolves to, at connect time.
    port = moto_endpoint.rsplit(":", 1)[1]
    named = settings_for(moto_endpoint, bucket, endpoint_url=f"http://localhost:{port}")
    async with open_source(named, guard=strict, resolver=LoopbackResolver()) as source:
        with pytest.raises(BlockedAddress):
            await source.fetch("a.jpg")
    async with open_source(named, guard=LOOPBACK, resolver=LoopbackResolver()) as source:
        assert (await source.fetch("a.jpg")).data == b"internal"


async def test_deny_lists_apply_to_bucket_endpoints_even_when_trusted(moto_endpoint: str, tmp_path: Path) -> None:
    bucket = new_bucket(moto_endpoint)
    put(moto_endpoint, bucket, "a.jpg", b"internal")
    port = moto_endpoint.rsplit(":", 1)[1]
    named = settings_for(moto_endpoint, bucket, endpoint_url=f"http://storage.corp.localhost:{port}")
    by_name = NetGuard(["127.0.0.0/8"], DenyRules.parse(hosts=["*.corp.localhost"]))
    async with open_source(named, guard=by_name, resolver=LoopbackResolver()) as source:
        with pytest.raises(BlockedAddress):
            await source.fetch("a.jpg")
    # Added while the client is open (an IP-literal endpoint, which botocore reaches without resolving):
    # the next request is refused.
    watched = tmp_path / "gateway.toml"
    watched.write_text("before")
    now = [0.0]
    live = DenyList(DenyRules(), lambda: DenyRules.parse(networks=["127.0.0.1/32"]), watched, clock=lambda: now[0])
    async with open_source(settings_for(moto_endpoint, bucket), guard=NetGuard(["127.0.0.0/8"], live)) as source:
        assert (await source.fetch("a.jpg")).data == b"internal"
        watched.write_text("after, and longer")
        now[0] += 1.5
        with pytest.raises(BlockedAddress):
            await source.fetch("a.jpg")


@asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """Accepts connections and never answers."""
    accepted: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_silent_endpoint_times_out() -> None:
    quick = FetchLimits(max_bytes=1000, connect_timeout=0.5, total_timeout=0.5)
    async with silent_server() as endpoint:
        async with open_source(settings_for(endpoint, "silent-bucket"), quick) as source:
            with pytest.raises(Timeout):
                await source.fetch("a.jpg")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def fake_s3(handler: Handler) -> AsyncIterator[str]:
    """A loopback HTTP server answering every request with ``handler``: S3 behaviours moto cannot produce."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock)
    await site.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        await runner.cleanup()


async def test_size_cap_holds_while_streaming_without_a_length() -> None:
    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(20):
            await response.write(b"x" * 512)
        await response.write_eof()
        return response

    async with fake_s3(chunked) as endpoint:
        async with open_source(settings_for(endpoint, "stream-bucket"), FetchLimits(4096, 2.0, 10.0)) as source:
            with pytest.raises(SourceTooLarge):
                await source.fetch("a.jpg")
        async with open_source(settings_for(endpoint, "stream-bucket"), FetchLimits(20_000, 2.0, 10.0)) as source:
            assert len((await source.fetch("a.jpg")).data) == 20 * 512


# -- imgate workspace check ---------------------------------------------------------------------


async def test_check_reads_the_first_object(moto_endpoint: str) -> None:
    bucket = new_bucket(moto_endpoint)
    put(moto_endpoint, bucket, "shop/first.jpg", b"x")
    diagnosis = await diagnose(settings_for(moto_endpoint, bucket, prefix="shop"), guard=LOOPBACK)
    assert diagnosis.ok, diagnosis.message
    assert diagnosis.key == "first.jpg"
    assert diagnosis.warnings == ()


async def test_check_names_the_missing_parts(moto_endpoint: str) -> None:
    bucket = new_bucket(moto_endpoint)
    put(moto_endpoint, bucket, "shop/first.jpg", b"x")
    missing_bucket = await diagnose(settings_for(moto_endpoint, "no-such-bucket-imgate"))
    assert missing_bucket.problem is Problem.BUCKET_MISSING
    assert "no-such-bucket-imgate" in missing_bucket.message
    missing_key = await diagnose(settings_for(moto_endpoint, bucket, prefix="shop"), "nope.jpg")
    assert missing_key.problem is Problem.KEY_MISSING and "nope.jpg" in missing_key.message
    empty = await diagnose(settings_for(moto_endpoint, bucket, prefix="other"))
    assert empty.problem is Problem.EMPTY


async def test_check_tells_bad_credentials_from_denied(moto_endpoint: str) -> None:
    bucket = new_bucket(moto_endpoint)
    put(moto_endpoint, bucket, "a.jpg", b"x")
    key_id, secret = create_iam_user(
        moto_endpoint, s3_read_policy(f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*")
    )
    other_id, other_secret = create_iam_user(moto_endpoint, s3_read_policy("arn:aws:s3:::elsewhere/*"))
    with moto_auth_enforced(moto_endpoint):
        good = await diagnose(settings_for(moto_endpoint, bucket, access_key_id=key_id, secret_access_key=secret))
        wrong = await diagnose(
            settings_for(moto_endpoint, bucket, access_key_id=key_id, secret_access_key="x" + secret[1:]),
            "a.jpg",
        )
        denied = await diagnose(
            settings_for(moto_endpoint, bucket, access_key_id=other_id, secret_access_key=other_secret),
            "a.jpg",
        )
        list_denied = await diagnose(
            settings_for(moto_endpoint, bucket, access_key_id=other_id, secret_access_key=other_secret)
        )
    assert good.ok, good.message
    assert wrong.problem is Problem.BAD_CREDENTIALS and "secret access key" in wrong.message
    assert denied.problem is Problem.DENIED and "s3:GetObject" in denied.message
    assert list_denied.problem is Problem.LIST_DENIED
    for diagnosis in (good, wrong, denied, list_denied):
        assert secret not in diagnosis.message and other_secret not in diagnosis.message


async def test_check_unreachable_and_blocked_endpoints() -> None:
    closed_port = free_port()
    unreachable = await diagnose(settings_for(f"http://127.0.0.1:{closed_port}", "any-bucket"), "a.jpg", timeout=3)
    assert unreachable.problem is Problem.UNREACHABLE
    assert f"127.0.0.1:{closed_port}" in unreachable.message
    blocked = await diagnose(settings_for(f"http://127.0.0.1:{closed_port}", "any-bucket"), "a.jpg", guard=NetGuard())
    assert blocked.problem is Problem.BLOCKED


async def test_check_explains_clock_skew() -> None:
    async def skewed(_request: web.Request) -> web.StreamResponse:
        body = (
            "<?xml version='1.0' encoding='UTF-8'?><Error><Code>RequestTimeTooSkewed</Code>"
            "<Message>The difference between the request time and the current time is too large.</Message></Error>"
        )
        return web.Response(status=403, text=body, content_type="application/xml")

    async with fake_s3(skewed) as endpoint:
        diagnosis = await diagnose(settings_for(endpoint, "skew-bucket"), "a.jpg")
    assert diagnosis.problem is Problem.CLOCK_SKEW
    assert "clock" in diagnosis.message


async def test_check_warns_when_the_clock_drifts() -> None:
    async def an_hour_ahead(_request: web.Request) -> web.StreamResponse:
        import time

        headers = {"Date": formatdate(time.time() + 3600, usegmt=True), "Content-Range": "bytes 0-0/10"}
        return web.Response(status=206, body=b"x", headers=headers, content_type="image/jpeg")

    async with fake_s3(an_hour_ahead) as endpoint:
        diagnosis = await diagnose(settings_for(endpoint, "drift-bucket"), "a.jpg")
    assert diagnosis.ok, diagnosis.message
    assert len(diagnosis.warnings) == 1 and "behind" in diagnosis.warnings[0]


async def test_check_reports_a_silent_endpoint() -> None:
    async with silent_server() as endpoint:
        diagnosis = await diagnose(settings_for(endpoint, "silent-bucket"), "a.jpg", timeout=0.5)
    assert diagnosis.problem is Problem.TIMEOUT
    assert "did not answer" in diagnosis.message
