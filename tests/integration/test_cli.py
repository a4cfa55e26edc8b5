"""The ``imgate`` command as an operator uses it, against a running gateway."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from cryptography.fernet import Fernet

from gateway.accounts.keys import digest, looks_like_secret
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


def database_bytes(data: Path) -> bytes:
    """Everything the account store wrote: the SQLite file with its write-ahead log."""
    return b"".join(path.read_bytes() for path in data.glob("imgate.sqlite3*") if path.is_file())


def audit_table(data: Path) -> str:
    with sqlite3.connect(data / "imgate.sqlite3") as db:
        return json.dumps(db.execute("SELECT * FROM audit").fetchall())


def test_a_key_secret_is_shown_once_and_never_again(tmp_path: Path) -> None:
    data = tmp_path / "gw"
    assert imgate(data, "workspace", "create", "acme").returncode == 0
    created = imgate(data, "key", "create", "acme", "--name", "Production", "--scope", "write")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert looks_like_secret(secret) and created.stdout == secret + "\n"
    assert "will not be shown again" in created.stderr and secret not in created.stderr
    prefix = secret[:12]
    listed = imgate(data, "key", "list", "acme")
    assert listed.returncode == 0 and listed.stdout.startswith(f"{prefix}\tProduction\twrite\tcreated ")
    assert "last used never\tactive" in listed.stdout
    audit = imgate(data, "audit", "acme")
    assert "\tcli\tkey.create\t200\t" in audit.stdout
    revoked = imgate(data, "key", "revoke", "acme", prefix)
    assert revoked.returncode == 0 and prefix in revoked.stdout
    assert "\trevoked 20" in imgate(data, "key", "list", "acme").stdout
    for shown in (listed.stdout, listed.stderr, audit.stdout, audit.stderr, revoked.stdout, revoked.stderr):
        assert secret not in shown and secret[12:] not in shown
    written = database_bytes(data)
    assert digest(secret).encode() in written  # the store keeps the digest ...
    assert secret.encode() not in written and secret[12:].encode() not in written  # ... and never the secret
    assert secret not in audit_table(data)
    assert "prefix" in one_error_line(imgate(data, "key", "revoke", "acme", "imk_live_zzz"))
    line = one_error_line(imgate(data, "key", "revoke", "acme", secret))
    assert "prefix" in line and secret not in line


def test_cli_operations_are_audited_without_what_was_sent(tmp_path: Path, images_dir: Path) -> None:
    data = tmp_path / "gw"
    planted_secret = "planted-bucket-secret-0123456789"
    planted_url = "https://planted-origin.example.com/originals/"
    assert imgate(data, "workspace", "create", "acme", "--origin", "local", "--root", str(images_dir)).returncode == 0
    s3 = ("--origin", "s3", "--bucket", "planted-bucket", "--access-key-id", "AKIAPLANTED")
    assert (
        imgate(data, "workspace", "update", "acme", *s3, IMGATE_ORIGIN_SECRET_ACCESS_KEY=planted_secret).returncode == 0
    )
    assert imgate(data, "workspace", "update", "acme", "--origin", "http", "--base-url", planted_url).returncode == 0
    assert imgate(data, "mark", "create", "acme", "credit", "--text", "planted body text").returncode == 0
    assert imgate(data, "rule", "add", "acme", "credit", "--keys", "planted-glob/**").returncode == 0
    assert imgate(data, "purge", "acme", "products/planted-key.jpg").returncode == 0
    secret = imgate(data, "key", "create", "acme", "--name", "Planted label").stdout.strip()
    assert imgate(data, "member", "add", "acme", "planted@example.com", "--role", "owner").returncode == 0
    one_error_line(imgate(data, "member", "remove", "acme", "planted@example.com"))  # the last owner: 409
    one_error_line(imgate(data, "workspace", "update", "acme", "--allowed-origins", "https://planted-bad.example/x?y"))
    shown = imgate(data, "audit", "acme", "--limit", "500")
    assert shown.returncode == 0, shown.stderr
    rows = [line.split("\t") for line in shown.stdout.splitlines()]
    assert [(row[1], row[2], row[3]) for row in reversed(rows)] == [
        ("cli", "workspace.create", "200"),
        ("cli", "workspace.update", "200"),
        ("cli", "workspace.update", "200"),
        ("cli", "mark.create", "200"),
        ("cli", "rule.add", "200"),
        ("cli", "workspace.purge", "200"),
        ("cli", "key.create", "200"),
        ("cli", "member.add", "200"),
        ("cli", "member.remove", "409"),
        ("cli", "workspace.update", "400"),
    ]
    stored = audit_table(data)
    for planted in (
        planted_secret,
        planted_url,
        "planted-origin",
        "planted-bucket",
        "AKIAPLANTED",
        "planted body",
        "planted-glob",
        "planted-key",
        "Planted label",
        "planted@example.com",
        "planted-bad",
        secret,
        secret[:12],
        str(images_dir),
    ):
        assert planted not in stored and planted not in shown.stdout, planted
    page = imgate(data, "audit", "acme", "--limit", "4")
    assert len(page.stdout.splitlines()) == 4 and "--cursor" in page.stderr
    cursor = page.stderr.split("--cursor ")[1].split()[0]
    rest = imgate(data, "audit", "acme", "--limit", "500", "--cursor", cursor)
    assert len(rest.stdout.splitlines()) == len(rows) - 4
    assert "limit" in one_error_line(imgate(data, "audit", "acme", "--limit", "0"))
    assert "cursor" in one_error_line(imgate(data, "audit", "acme", "--cursor", "junk"))
    pruned = imgate(data, "audit", "--prune")
    assert pruned.returncode == 0 and "pruned 0 audit rows older than 90 days" in pruned.stdout


def test_export_holds_everything_and_delete_signs_a_receipt(tmp_path: Path, images_dir: Path) -> None:
    data = tmp_path / "gw"
    logo = tmp_path / "logo.png"
    logo.write_bytes((REPO / "config" / "demo" / "images" / "alpha-elarun.png").read_bytes())
    created = imgate(data, "workspace", "create", "acme", "--origin", "local", "--root", str(images_dir))
    assert created.returncode == 0, created.stderr
    assert imgate(data, "mark", "create", "acme", "logo", "--image-file", str(logo)).returncode == 0
    assert imgate(data, "rule", "add", "acme", "logo", "--keys", "premium/**").returncode == 0
    assert imgate(data, "member", "add", "acme", "owner@example.com", "--role", "owner").returncode == 0
    secret = imgate(data, "key", "create", "acme", "--name", "Production").stdout.strip()
    limits = imgate(data, "workspace", "limits", "acme", "--requests-per-second", "42", "--signed-webhooks", "yes")
    assert limits.returncode == 0, limits.stderr
    shown = json.loads(limits.stdout)
    assert shown["limits"]["requests_per_second"] == 42 and shown["limit_overrides"]["signed_webhooks"] is True
    kept = json.loads(imgate(data, "workspace", "limits", "acme", "--requests-per-second", "plan").stdout)
    assert kept["limit_overrides"] == {"signed_webhooks": True}
    assert imgate(data, "workspace", "billing", "acme", "--stripe-customer", "cus_Acme123").returncode == 0

    exported = imgate(data, "workspace", "export", "acme")
    assert exported.returncode == 0, exported.stderr
    document = json.loads(exported.stdout)
    assert document["workspace"]["origin"] == {"kind": "local", "root": str(images_dir.resolve())}
    assert base64.b64decode(document["marks"][0]["image_data_base64"]) == logo.read_bytes()
    assert document["rules"][0]["key_patterns"] == ["premium/**"]
    assert document["members"][0]["email"] == "owner@example.com"
    assert [key["prefix"] for key in document["keys"]] == [secret[:12]]
    assert document["billing"]["stripe_customer_id"] == "cus_Acme123"
    assert {"workspace.create", "mark.create", "key.create", "workspace.limits"} <= {
        row["operation"] for row in document["audit"]
    }
    assert secret not in exported.stdout and secret[12:] not in exported.stdout

    deleted = imgate(data, "workspace", "delete", "acme")
    assert deleted.returncode == 0, deleted.stderr
    receipt = json.loads(deleted.stdout)
    assert receipt["namespace"] == "acme" and receipt["removed"]["marks"] == 1 and receipt["removed"]["api_keys"] == 1
    assert imgate(data, "workspace", "list").stdout == ""
    assert "acme" in one_error_line(imgate(data, "audit", "acme"))  # its rows went with it
    one_error_line(imgate(data, "workspace", "export", "acme"))
    receipt_file = tmp_path / "receipt.json"
    receipt_file.write_text(deleted.stdout)
    verified = imgate(data, "receipt", "verify", str(receipt_file))
    assert verified.returncode == 0 and "genuine: workspace acme deleted" in verified.stdout, verified.stderr
    from_stdin = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "receipt", "verify", "-"],
        cwd=REPO,
        env={**os.environ, "IMGATE_DATA_DIR": str(data)},
        input=deleted.stdout,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert from_stdin.returncode == 0, from_stdin.stderr
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps({**receipt, "removed": {**receipt["removed"], "marks": 0}}))
    assert "not genuine" in one_error_line(imgate(data, "receipt", "verify", str(tampered)))
    other_key = imgate(data, "receipt", "verify", str(receipt_file), IMGATE_SECRET_KEY=Fernet.generate_key().decode())
    assert "not genuine" in one_error_line(other_key)
    junk = tmp_path / "junk.json"
    junk.write_text("not json at all")
    assert "not a JSON receipt" in one_error_line(imgate(data, "receipt", "verify", str(junk)))
    assert "no such file" in one_error_line(imgate(data, "receipt", "verify", str(tmp_path / "missing.json")))


def test_members_from_the_command_line(tmp_path: Path) -> None:
    data = tmp_path / "gw"
    assert imgate(data, "workspace", "create", "acme").returncode == 0
    added = imgate(data, "member", "add", "acme", "Owner@Example.com", "--role", "owner")
    assert added.returncode == 0 and added.stdout.startswith("owner@example.com\towner\t"), added.stderr
    assert imgate(data, "member", "add", "acme", "dev@example.com").returncode == 0
    assert "last owner" in one_error_line(imgate(data, "member", "remove", "acme", "owner@example.com"))
    assert imgate(data, "member", "role", "acme", "dev@example.com", "owner").returncode == 0
    assert imgate(data, "member", "remove", "acme", "owner@example.com").returncode == 0
    assert [line.split("\t")[:2] for line in imgate(data, "member", "list", "acme").stdout.splitlines()] == [
        ["dev@example.com", "owner"]
    ]
    line = one_error_line(imgate(data, "member", "add", "acme", "not-an-address"))
    assert "email" in line and "not-an-address" not in line


def test_capture_domains_are_switched_off_and_on_one_by_one(tmp_path: Path) -> None:
    data = tmp_path / "gw"
    created = imgate(data, "workspace", "create", "shots", "--capture-domains", "www.example.com,*.example.org")
    assert created.returncode == 0, created.stderr
    off = imgate(data, "workspace", "update", "shots", "--disable-capture-domain", "*.EXAMPLE.org")
    assert off.returncode == 0, off.stderr
    assert json.loads(off.stdout)["capture_domains"] == [
        {"pattern": "www.example.com", "enabled": True},
        {"pattern": "*.example.org", "enabled": False},
    ]
    both = imgate(
        data,
        "workspace",
        "update",
        "shots",
        "--enable-capture-domain",
        "*.example.org",
        "--disable-capture-domain",
        "www.example.com",
    )
    assert [d["enabled"] for d in json.loads(both.stdout)["capture_domains"]] == [False, True]
    line = one_error_line(imgate(data, "workspace", "update", "shots", "--disable-capture-domain", "shop.example.net"))
    assert "shop.example.net" in line and "capture domains" in line
