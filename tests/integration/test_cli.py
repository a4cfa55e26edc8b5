"""The ``imgate`` command as an operator uses it, against a running gateway."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.servers import REPO, GatewayProcess, imgate

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
