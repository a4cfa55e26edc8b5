"""The peers the harness starts itself, on loopback, answering the URLs the workloads use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import pyvips

from bench.jobs import Job
from bench.peers.gateway import GatewayPeer
from bench.peers.nginx import NginxPeer, write_hot_files
from bench.peers.pyvips_limit import LOOP_SCRIPT, run_loop, variants
from bench.peers.thumbor import ThumborPeer, prepare_root
from bench.probe import check_image
from bench.procs import http_get
from bench.rss import process_tree


def _photo(folder: Path) -> Job:
    folder.mkdir(parents=True, exist_ok=True)
    image = pyvips.Image.black(640, 400, bands=3) + 128
    image.write_to_file(str(folder / "photo-test.jpg"))
    return Job("photo-test.jpg", 200, "jpg")


@pytest.mark.integration
@pytest.mark.usefixtures("nginx")
def test_nginx_serves_the_hot_files_and_stops_with_its_workers(tmp_path: Path) -> None:
    job = _photo(tmp_path / "corpus")
    body = pyvips.Image.thumbnail(str(tmp_path / "corpus" / job.source), job.width).write_to_buffer(job.vips_suffix)
    root = tmp_path / "root"
    write_hot_files(root, job, body, 3)
    peer = NginxPeer(root, tmp_path / "work", workers=2)
    try:
        tree = process_tree(peer.rss_roots()[0])
        assert len(tree) == 3, "a master and two workers"
        for index in range(3):
            status, answer, content_type = http_get(peer.base_url + peer.hot_path(job, index))
            check_image("nginx", peer.hot_path(job, index), job, status, answer)
            assert answer == body
            assert content_type == "image/jpeg"
    finally:
        peer.stop()
    assert all(process_tree(pid) == [] for pid in tree)


@pytest.mark.parametrize("variant", [0, 1], ids=["threads", "processes"])
def test_the_pyvips_loop_makes_the_jobs_outputs(tmp_path: Path, variant: int) -> None:
    job = _photo(tmp_path / "corpus")
    stats = run_loop(variants(2)[variant], [job], tmp_path / "corpus", tmp_path / "work", duration_s=0.5)
    assert stats.requests > 0
    assert stats.requests_per_s > 0
    assert stats.errors == 0
    assert stats.peak_rss_bytes and stats.peak_rss_bytes > 0
    assert stats.p50_ms <= stats.p99_ms
    assert list((tmp_path / "work").iterdir()) == [], "the job file is removed"


def test_the_loop_script_reports_images_and_time(tmp_path: Path) -> None:
    job = _photo(tmp_path)
    spec = tmp_path / "jobs.json"
    spec.write_text(
        json.dumps({"corpus": str(tmp_path), "jobs": [{"source": job.source, "width": 100, "suffix": ".webp[Q=80]"}]})
    )
    done = subprocess.run(
        [sys.executable, str(LOOP_SCRIPT), str(spec), "--threads", "1", "--duration", "0.3"],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["images"] == len(result["latencies_ms"]) > 0
    assert result["seconds"] > 0


_THUMBOR = Path(__file__).resolve().parents[2] / "bench-results" / "work" / "thumbor-venv" / "bin" / "thumbor"


@pytest.mark.integration
@pytest.mark.skipif(not _THUMBOR.exists(), reason="thumbor's venv is made by `make bench`; not part of `make test`")
@pytest.mark.parametrize("result_storage", [False, True], ids=["misses", "result-storage"])
def test_thumbor_answers_the_bench_urls(tmp_path: Path, result_storage: bool) -> None:
    job = _photo(tmp_path / "corpus")
    webp = Job(job.source, 120, "webp")
    root = tmp_path / "root"
    prepare_root(tmp_path / "corpus", root, job.source)
    peer = ThumborPeer(_THUMBOR, root, tmp_path / "work", processes=1, result_storage=result_storage)
    try:
        for item, path in [(job, peer.miss_path(job)), (webp, peer.miss_path(webp)), (job, peer.hot_path(job, 7))]:
            status, body, _ = http_get(peer.base_url + path)
            check_image("thumbor", path, item, status, body)
        stored = peer.stored_results()
    finally:
        peer.stop()
    assert stored == (3 if result_storage else 0)


@pytest.mark.integration
@pytest.mark.usefixtures("imgate")
def test_the_gateway_answers_the_bench_urls_with_distinct_keys(tmp_path: Path) -> None:
    job = _photo(tmp_path / "corpus")
    peer = GatewayPeer(tmp_path / "corpus", tmp_path / "work", workers=1)
    try:
        for item in (job, Job(job.source, 120, "webp")):
            status, body, _ = http_get(peer.base_url + peer.miss_path(item) + "&v=1")
            check_image("imgate", peer.miss_path(item), item, status, body)
        status, body, _ = http_get(peer.base_url + peer.hot_path(job, 3))
        check_image("imgate", peer.hot_path(job, 3), job, status, body)
        expected = pyvips.Image.thumbnail(str(tmp_path / "corpus" / job.source), job.width)
        assert len(body) == len(expected.write_to_buffer(job.vips_suffix)), "the loop encodes what imgate does"
    finally:
        peer.stop()
