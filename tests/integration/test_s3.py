"""Bucket origins and the shared S3 result store against a real moto server."""

from __future__ import annotations

import http.client
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.servers import GatewayProcess
from tests.integration.servers import imgate as run_cli
from tests.support.moto_server import (
    MotoServer,
    create_iam_user,
    moto_auth_enforced,
    new_bucket,
    s3_admin,
    s3_read_policy,
)

pytestmark = pytest.mark.integration

SECRET = "s3cret-Value-that-must-never-leak-0123456789"


def imgate(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # The CLI reads the same settings as the gateway: the moto server lives on a trusted loopback address.
    return run_cli(data_dir, *args, IMGATE_TRUSTED_NETWORKS="127.0.0.1/32", **env)


def raw_status(base: str, path: str) -> int:
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.fixture(scope="module")
def bucket(moto_endpoint: str, images_dir: Path) -> str:
    name = new_bucket(moto_endpoint, "originals")
    admin = s3_admin(moto_endpoint)
    admin.put_object(Bucket=name, Key="shop/kite.jpg", Body=(images_dir / "photo-kite.jpg").read_bytes())
    admin.put_object(Bucket=name, Key="shop/nested/grey.jpg", Body=(images_dir / "photo-grey.jpg").read_bytes())
    admin.put_object(Bucket=name, Key="private/secret.jpg", Body=(images_dir / "photo-path.jpg").read_bytes())
    admin.put_object(Bucket=name, Key="shop-private/secret.jpg", Body=(images_dir / "photo-path.jpg").read_bytes())
    return name


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, moto_endpoint: str, bucket: str) -> Iterator[GatewayProcess]:
    data = tmp_path_factory.mktemp("s3gw")
    for namespace, prefix, style in (("shop", "shop/", "path"), ("other", "private/", "path")):
        created = imgate(
            data,
            "workspace",
            "create",
            namespace,
            "--origin",
            "s3",
            "--bucket",
            bucket,
            "--prefix",
            prefix,
            "--endpoint",
            moto_endpoint,
            "--addressing-style",
            style,
            "--access-key-id",
            "AKIAIMGATETESTING000",
            IMGATE_ORIGIN_SECRET_ACCESS_KEY=SECRET,
        )
        assert created.returncode == 0, created.stderr
    with GatewayProcess(data, trusted_networks="127.0.0.1/32") as gw:
        yield gw


def test_bucket_origin_serves_with_a_prefix(gateway: GatewayProcess) -> None:
    response = httpx.get(f"{gateway.url}/shop/kite.jpg?w=60&fm=png", timeout=20)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert httpx.get(f"{gateway.url}/shop/nested/grey.jpg?w=60", timeout=20).status_code == 200


def test_missing_key_is_404(gateway: GatewayProcess) -> None:
    response = httpx.get(f"{gateway.url}/shop/nope.jpg?w=60", timeout=20)
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    "path",
    [
        "/shop/../private/secret.jpg",
        "/shop/%2e%2e/private/secret.jpg",
        "/shop/..%2fprivate%2fsecret.jpg",
        "/shop//private/secret.jpg",
        "/shop/%2fprivate/secret.jpg",
        "/shop/..\\private\\secret.jpg",
        "/other/../shop/kite.jpg",
    ],
)
def test_a_workspace_cannot_read_outside_its_prefix(gateway: GatewayProcess, path: str) -> None:
    assert raw_status(gateway.url, path) == 404


def test_prefix_is_a_folder_not_a_string_prefix(gateway: GatewayProcess) -> None:
    # "shop/" must not reach "shop-private/": the key "-private/secret.jpg" is not under "shop/".
    assert raw_status(gateway.url, "/shop/-private/secret.jpg") == 404


def test_secret_is_sealed_at_rest_and_never_logged_or_shown(gateway: GatewayProcess) -> None:
    database = (gateway.data_dir / "imgate.sqlite3").read_bytes()
    wal = gateway.data_dir / "imgate.sqlite3-wal"
    assert SECRET.encode() not in database
    assert not wal.exists() or SECRET.encode() not in wal.read_bytes()
    shown = imgate(gateway.data_dir, "workspace", "show", "shop")
    assert SECRET not in shown.stdout and json.loads(shown.stdout)["origin_secret_set"] is True
    httpx.get(f"{gateway.url}/shop/nope.jpg", timeout=20)
    assert SECRET not in gateway.log_path.read_text()


def test_workspace_check_reports_in_plain_words(gateway: GatewayProcess, moto_endpoint: str) -> None:
    ok = imgate(gateway.data_dir, "workspace", "check", "shop", "--key", "kite.jpg")
    assert ok.returncode == 0 and ok.stdout.startswith("ok"), ok.stdout + ok.stderr
    missing = imgate(gateway.data_dir, "workspace", "check", "shop", "--key", "nope.jpg")
    assert missing.returncode == 1 and "problem" in missing.stdout
    assert (
        imgate(
            gateway.data_dir,
            "workspace",
            "create",
            "ghost",
            "--origin",
            "s3",
            "--bucket",
            "no-such-bucket-here",
            "--endpoint",
            moto_endpoint,
            "--access-key-id",
            "AKIAIMGATETESTING000",
            IMGATE_ORIGIN_SECRET_ACCESS_KEY=SECRET,
        ).returncode
        == 0
    )
    ghost = imgate(gateway.data_dir, "workspace", "check", "ghost")
    assert ghost.returncode == 1 and "bucket" in ghost.stdout.lower()
    assert SECRET not in ghost.stdout + ghost.stderr


def test_wrong_secret_is_a_safe_502(gateway: GatewayProcess, moto_endpoint: str, bucket: str) -> None:
    key_id, secret = create_iam_user(
        moto_endpoint, s3_read_policy(f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*")
    )
    for namespace, given in (("signed", secret), ("badsig", secret[:-4] + "XXXX")):
        result = imgate(
            gateway.data_dir,
            "workspace",
            "create",
            namespace,
            "--origin",
            "s3",
            "--bucket",
            bucket,
            "--prefix",
            "shop/",
            "--endpoint",
            moto_endpoint,
            "--access-key-id",
            key_id,
            IMGATE_ORIGIN_SECRET_ACCESS_KEY=given,
        )
        assert result.returncode == 0, result.stderr
    with moto_auth_enforced(moto_endpoint):
        good = httpx.get(f"{gateway.url}/signed/kite.jpg?w=30&v=auth", timeout=20)
        bad = httpx.get(f"{gateway.url}/badsig/kite.jpg?w=30&v=auth", timeout=20)
    assert good.status_code == 200, good.text
    assert bad.status_code == 502 and bad.json()["error"]["code"] == "ORIGIN_ERROR"
    assert secret[:-4] not in bad.text
    assert "bucket" in bad.json()["error"]["message"]


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def test_two_nodes_share_the_s3_result_store(tmp_path: Path, images_dir: Path, own_moto: MotoServer) -> None:
    bucket = new_bucket(own_moto.endpoint, "results")
    shared = {
        "result_store": "s3",
        "result_s3_bucket": bucket,
        "result_s3_endpoint": own_moto.endpoint,
        "result_s3_access_key_id": "AKIAIMGATETESTING000",
        "result_s3_secret_access_key": "imgate-test-secret-not-real",
    }
    data = tmp_path / "nodes"
    assert imgate(data, "workspace", "create", "demo", "--origin", "local", "--root", str(images_dir)).returncode == 0
    env = {f"IMGATE_{k.upper()}": v for k, v in shared.items()}
    with GatewayProcess(data, settings=shared) as a, GatewayProcess(data, settings=shared) as b:
        url = "/demo/photo-kite.jpg?w=77&fm=webp"
        assert httpx.get(a.url + url, timeout=20).headers["x-imgate-cache"] == "miss"
        wait_for(lambda: httpx.get(b.url + url, timeout=20).headers["x-imgate-cache"] in ("store", "memory"))
        listed = s3_admin(own_moto.endpoint).list_objects_v2(Bucket=bucket).get("Contents", [])
        assert any(obj["Key"].startswith("imgate/demo/o/photo-kite.jpg/") for obj in listed)

        purged = imgate(data, "purge", "demo", "photo-kite", **env)
        assert purged.returncode == 0 and "0 stored" not in purged.stdout, purged.stdout + purged.stderr
        assert not s3_admin(own_moto.endpoint).list_objects_v2(Bucket=bucket).get("Contents")
        time.sleep(0.4)  # tenancy TTL in tests: 0.2 s
        assert httpx.get(a.url + url, timeout=20).headers["x-imgate-cache"] == "miss"

        # The store goes away: every request still succeeds (transforming), and health says degraded.
        own_moto.stop()
        started = time.monotonic()
        for width in (81, 82, 83):
            assert httpx.get(f"{b.url}/demo/photo-grey.jpg?w={width}", timeout=20).status_code == 200
        assert time.monotonic() - started < 10
        wait_for(lambda: httpx.get(b.url + "/_/health", timeout=20).json()["status"] == "degraded")
        # It comes back: the gateway notices by itself.
        own_moto.start()
        wait_for(lambda: httpx.get(b.url + "/_/health", timeout=20).json()["status"] == "ok", timeout=20)
