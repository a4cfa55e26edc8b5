"""The ``imgate`` command as an operator uses it, against a running gateway."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.integration.servers import REPO, GatewayProcess, imgate
from tests.support.origin_server import OriginServer

pytestmark = pytest.mark.integration


def test_workspace_lifecycle_takes_effect_without_restart(tmp_path: Path, images_dir: Path) -> None:
    data = tmp_path / "gw"
    created = imgate(data, "workspace", "create", "shop", "--origin", "local", "--root", str(images_dir))
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["origin"]["kind"] == "local"
    assert imgate(data, "workspace", "create", "shop", "--origin", "none").returncode != 0
    assert "shop\tactive\tlocal" in imgate(data, "workspace", "list").stdout
    bad = imgate(data, "workspace", "create", "Bad_Name", "--origin", "none")
    assert bad.returncode != 0 and "namespace" in bad.stderr

    with GatewayProcess(data) as gw:
        url = f"{gw.url}/shop/photo-kite.jpg?w=64"
        assert httpx.get(url, timeout=20).status_code == 200
        assert imgate(data, "workspace", "update", "shop", "--deactivate").returncode == 0
        deadline = time.monotonic() + 5
        while httpx.get(url, timeout=20).status_code != 404:
            assert time.monotonic() < deadline, "deactivation did not show within the tenancy TTL"
            time.sleep(0.1)
        assert imgate(data, "workspace", "update", "shop", "--activate").returncode == 0
        deadline = time.monotonic() + 5
        while httpx.get(url, timeout=20).status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.1)


def test_purge_drops_outputs_from_memory_and_store(tmp_path: Path, images_dir: Path) -> None:
    data = tmp_path / "gw"
    assert imgate(data, "workspace", "create", "shop", "--origin", "local", "--root", str(images_dir)).returncode == 0
    with GatewayProcess(data) as gw:
        kite = f"{gw.url}/shop/photo-kite.jpg?w=65"
        grey = f"{gw.url}/shop/photo-grey.jpg?w=65"
        assert httpx.get(kite, timeout=20).headers["x-imgate-cache"] == "miss"
        assert httpx.get(grey, timeout=20).headers["x-imgate-cache"] == "miss"
        time.sleep(0.3)  # write-behind to the disk store
        assert httpx.get(kite, timeout=20).headers["x-imgate-cache"] == "memory"
        stored = list((data / "results").rglob("*"))
        assert any(p.is_file() for p in stored)
        purged = imgate(data, "purge", "shop", "photo-kite")
        assert purged.returncode == 0, purged.stderr
        assert "1 stored outputs" in purged.stdout
        time.sleep(0.4)  # tenancy TTL in tests is 0.2 s
        assert httpx.get(kite, timeout=20).headers["x-imgate-cache"] == "miss"
        assert httpx.get(grey, timeout=20).headers["x-imgate-cache"] == "memory"


def test_demo_seeds_a_workspace_and_prints_working_urls(tmp_path: Path) -> None:
    data = tmp_path / "gw"
    seeded = imgate(data, "demo")
    assert seeded.returncode == 0, seeded.stderr
    urls = [line.strip() for line in seeded.stdout.splitlines() if line.strip().startswith("http")]
    assert len(urls) >= 4
    with GatewayProcess(data) as gw:
        for url in urls:
            response = httpx.get(url.replace("http://127.0.0.1:8080", gw.url), timeout=30)
            assert response.status_code == 200, (url, response.text)


def test_invalid_setting_stops_start_up_naming_it(tmp_path: Path) -> None:
    env = {**os.environ, "IMGATE_DATA_DIR": str(tmp_path), "IMGATE_MAX_OUTPUT_SIDE": "-3"}
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "serve"], cwd=REPO, env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2 and "max_output_side" in result.stderr


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The command failed with exactly one ``error: ...`` line on stderr (besides warnings), and no traceback."""
    lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("warning: ")]
    assert result.returncode != 0, result.stdout
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_every_cli_error_is_one_line(tmp_path: Path, images_dir: Path) -> None:
    data = tmp_path / "gw"
    assert imgate(data, "workspace", "create", "shop", "--origin", "local", "--root", str(images_dir)).returncode == 0
    (tmp_path / "folder").mkdir()
    for args, named in (
        (("mark", "create", "shop", "logo", "--image-file", str(tmp_path / "missing.png")), "missing.png"),
        (("mark", "create", "shop", "logo", "--image-file", str(tmp_path / "folder")), "folder"),
        (("mark", "create", "shop", "logo", "--text", "x", "--alpha", "300"), "alpha"),
        (("mark", "delete", "shop", "ghost"), "ghost"),
        (("workspace", "show", "ghost"), "ghost"),
        (("workspace", "update", "shop", "--retention", "soon"), "retention"),
        (("workspace", "update", "shop", "--origin", "ftp"), "origin"),
        (("workspace", "create"), "namespace"),
        (("rule", "move", "shop", "1", "1"), "rule"),
        (("nonsense",), "nonsense"),
        ((), "command"),
    ):
        assert named in one_error_line(imgate(data, *args)), args
    assert imgate(data, "workspace", "create").returncode == 2
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    assert "account store" in one_error_line(imgate(data, "workspace", "list", IMGATE_DATABASE=str(junk)))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    one_error_line(imgate(data, "workspace", "list", IMGATE_DATABASE=str(blocker / "db.sqlite3")))
    bad_setting = imgate(data, "workspace", "list", IMGATE_MAX_OUTPUT_SIDE="-3")
    assert bad_setting.returncode == 2 and "max_output_side" in one_error_line(bad_setting)


def test_origin_urls_with_credentials_are_refused_and_never_shown(tmp_path: Path) -> None:
    data = tmp_path / "gw"
    for url in (
        "http://user:pass@127.0.0.1:9999/x.jpg",
        "http://127.0.0.1:9999\\@evil.example/",
        "http://127.0.0.1:9999%2f@evil.example/",
        "http://evil.example#@127.0.0.1/",
        "http://evil.example?@127.0.0.1/",
    ):
        line = one_error_line(imgate(data, "workspace", "create", "web", "--origin", "http", "--base-url", url))
        assert "base_url" in line and "pass" not in line and "evil" not in line, url
    assert imgate(data, "workspace", "list").stdout == ""
    created = imgate(data, "workspace", "create", "web", "--origin", "http", "--base-url", "HTTPS://CDN.Example.com/i")
    assert created.returncode == 0, created.stderr
    assert (
        json.loads(imgate(data, "workspace", "show", "web").stdout)["origin"]["base_url"]
        == "https://cdn.example.com/i/"
    )


def test_changing_the_origin_kind_replaces_its_settings(tmp_path: Path) -> None:
    data = tmp_path / "gw"
    secret = {"IMGATE_ORIGIN_SECRET_ACCESS_KEY": "not-a-real-secret-0123456789"}
    s3 = ("--origin", "s3", "--bucket", "photos", "--prefix", "products/", "--region", "eu-west-1")
    assert imgate(data, "workspace", "create", "acme", *s3, "--access-key-id", "AKIAONE", **secret).returncode == 0
    endpoint = "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com"
    r2 = ("--origin", "r2", "--bucket", "photos", "--endpoint", endpoint, "--access-key-id", "R2KEY")
    moved = imgate(data, "workspace", "update", "acme", *r2, **secret)
    assert moved.returncode == 0, moved.stderr
    origin = json.loads(moved.stdout)["origin"]
    assert origin == {
        "kind": "r2",
        "bucket": "photos",
        "endpoint_url": endpoint,
        "region": "auto",
        "access_key_id": "R2KEY",
    }
    minio = ("--origin", "s3", "--bucket", "originals", "--endpoint", "https://minio.example.com:9000")
    origin = json.loads(imgate(data, "workspace", "update", "acme", *minio).stdout)["origin"]
    assert origin == {"kind": "s3", "bucket": "originals", "endpoint_url": "https://minio.example.com:9000"}
    same_kind = json.loads(imgate(data, "workspace", "update", "acme", "--prefix", "shop/").stdout)["origin"]
    assert same_kind["endpoint_url"] == "https://minio.example.com:9000" and same_kind["prefix"] == "shop/"


def test_purge_deletes_src_outputs_from_the_store(tmp_path: Path, images_dir: Path) -> None:
    data = tmp_path / "gw"
    with OriginServer() as origin:
        origin.file("/img/kite.jpg", (images_dir / "photo-kite.jpg").read_bytes(), "image/jpeg")
        allowed = f"127.0.0.1:{origin.port}/img/"
        created = imgate(
            data, "workspace", "create", "shop", "--origin", "local", "--root", str(images_dir),
            "--allowed-sources", allowed,
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        with GatewayProcess(data, trusted_networks="127.0.0.1/32") as gw:
            src = f"{gw.url}/shop/?src={quote(origin.url('/img/kite.jpg'), safe='')}&w=61"
            key = f"{gw.url}/shop/photo-kite.jpg?w=61"
            assert httpx.get(src, timeout=20).headers["x-imgate-cache"] == "miss"
            assert httpx.get(key, timeout=20).headers["x-imgate-cache"] == "miss"
            time.sleep(0.3)  # write-behind to the disk store
            assert files(data / "results" / "shop" / "src") and files(data / "results" / "shop" / "o")
            purged = imgate(data, "purge", "shop", origin.url("/img/"))
            assert purged.returncode == 0 and "1 stored outputs" in purged.stdout, purged.stdout + purged.stderr
            assert not files(data / "results" / "shop" / "src")
            assert files(data / "results" / "shop" / "o")
            time.sleep(0.4)  # tenancy TTL in tests is 0.2 s
            assert httpx.get(src, timeout=20).headers["x-imgate-cache"] == "miss"
            assert httpx.get(key, timeout=20).headers["x-imgate-cache"] == "memory"


def files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def serve(data: Path, port: int, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "IMGATE_DATA_DIR": str(data), "IMGATE_PORT": str(port), "IMGATE_WORKERS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    if process.stdout is not None:
        process.stdout.close()


def refused(data: Path, port: int) -> str:
    process = serve(data, port)
    try:
        output, _ = process.communicate(timeout=30)
    finally:
        stop(process)
    assert process.returncode != 0, output
    lines = [line for line in output.strip().splitlines() if not line.startswith("warning: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    return lines[0]


def test_serve_refuses_a_port_in_use_unless_asked_to_share_it(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        line = refused(tmp_path / "plain", port)
        assert str(port) in line and "'port'" in line and "--reuse-port" in line
    with GatewayProcess(tmp_path / "first") as first:
        assert str(first.port) in refused(tmp_path / "second", first.port)
        sharing = serve(tmp_path / "second", first.port, "--reuse-port")
        seen: list[str] = []
        try:
            assert sharing.stdout is not None
            for line in sharing.stdout:
                seen.append(line)
                if f"Listening at: http://127.0.0.1:{first.port}" in line:
                    break
            else:
                raise AssertionError(f"the sharing server exited without listening: {''.join(seen)}")
            time.sleep(1)
            assert sharing.poll() is None, "".join(seen)
        finally:
            stop(sharing)
        assert httpx.get(first.url + "/_/health", timeout=10).status_code == 200
