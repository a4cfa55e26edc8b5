"""The load generator's Lua script against a real HTTP server on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.errors import BenchError
from bench.wrk import Load, parse_wrk_output, run_load

pytestmark = pytest.mark.integration


class _Recorder(BaseHTTPRequestHandler):
    seen: list[str] = []
    ports: list[int] = []
    lock = threading.Lock()
    protocol_version = "HTTP/1.1"  # keep-alive unless the client says otherwise

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        with self.lock:
            self.seen.append(self.path)
            self.ports.append(self.client_address[1])
            _HOSTS.append(self.headers.get("Host", ""))
        status = 404 if self.path.startswith("/missing") else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base class name
        pass


_PORTS: list[int] = []
_HOSTS: list[str] = []


@pytest.fixture
def server(wrk: str) -> Iterator[tuple[str, list[str]]]:
    """A recording HTTP server for wrk to load (parsing wrk's output needs neither)."""
    seen: list[str] = []
    _PORTS.clear()
    handler = type("Handler", (_Recorder,), {"seen": seen, "ports": _PORTS, "lock": threading.Lock()})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_plain_mode_requests_exactly_the_listed_paths(server: tuple[str, list[str]], tmp_path: Path) -> None:
    base_url, seen = server
    paths = ["/a.jpg?w=1", "/b.jpg?w=2", "/c.jpg?w=3"]
    stats = run_load(Load(base_url, paths, bust=False, concurrency=2, duration_s=1), tmp_path)
    assert stats.requests > 0
    assert stats.errors == 0
    assert set(seen) == set(paths)


def test_a_host_header_can_be_sent_instead_of_the_urls(server: tuple[str, list[str]], tmp_path: Path) -> None:
    base_url, _ = server
    _HOSTS.clear()
    run_load(Load(base_url, ["/a.jpg"], bust=False, concurrency=1, duration_s=1, host="img.bench.test"), tmp_path)
    assert _HOSTS and set(_HOSTS) == {"img.bench.test"}
    _HOSTS.clear()
    run_load(Load(base_url, ["/a.jpg"], bust=False, concurrency=1, duration_s=1), tmp_path)
    assert _HOSTS and set(_HOSTS) == {base_url.removeprefix("http://")}


def test_bust_mode_makes_every_request_a_new_key(server: tuple[str, list[str]], tmp_path: Path) -> None:
    base_url, seen = server
    stats = run_load(Load(base_url, ["/a.jpg?w=1", "/b.jpg"], bust=True, concurrency=2, duration_s=1), tmp_path)
    assert stats.requests > 0
    assert len(seen) == len(set(seen)), "a cache-busted path repeated"
    assert all("v=" in path for path in seen)
    assert any(path.startswith("/b.jpg?v=") for path in seen), "a path without a query needs '?'"
    assert any(path.startswith("/a.jpg?w=1&v=") for path in seen)


def test_originals_each_gives_every_request_a_new_original(server: tuple[str, list[str]], tmp_path: Path) -> None:
    base_url, seen = server
    paths = ["/o/{origin}/a.jpg?w=1", "/o/{origin}/a.jpg?w=2"]
    run_load(Load(base_url, paths, bust=False, concurrency=2, duration_s=1, originals="each"), tmp_path)
    tags = [path.split("/")[2] for path in seen]
    assert seen and "{origin}" not in "".join(seen)
    assert len(tags) == len(set(tags)), "two requests shared an original"


def test_originals_burst_shares_one_original_per_pass(server: tuple[str, list[str]], tmp_path: Path) -> None:
    base_url, seen = server
    paths = [f"/o/{{origin}}/a.jpg?w={width}" for width in (1, 2, 3)]
    run_load(Load(base_url, paths, bust=False, concurrency=1, duration_s=1, originals="burst"), tmp_path)
    by_tag: dict[str, list[str]] = {}
    for path in seen:
        by_tag.setdefault(path.split("/")[2], []).append(path.rsplit("=", 1)[1])
    assert len(by_tag) > 1, "a new original per pass over the list"
    complete = [widths for widths in by_tag.values() if len(widths) == 3]
    assert complete and all(sorted(widths) == ["1", "2", "3"] for widths in complete)


def test_connections_are_kept_unless_reconnect_is_asked(server: tuple[str, list[str]], tmp_path: Path) -> None:
    base_url, seen = server
    run_load(Load(base_url, ["/a.jpg"], bust=False, concurrency=2, duration_s=1), tmp_path)
    assert len(seen) > 10
    assert len(set(_PORTS)) <= 2, "two connections, each reused"
    _PORTS.clear()
    seen.clear()
    run_load(Load(base_url, ["/a.jpg"], bust=False, concurrency=2, duration_s=1, reconnect=True), tmp_path)
    assert len(seen) > 10
    assert len(set(_PORTS)) > len(seen) // 2, "a new connection (client port) for most requests"


def test_non_2xx_answers_count_as_errors_not_throughput(server: tuple[str, list[str]], tmp_path: Path) -> None:
    base_url, _ = server
    stats = run_load(Load(base_url, ["/missing.jpg"], bust=False, concurrency=2, duration_s=1), tmp_path)
    assert stats.requests > 0
    assert stats.errors >= stats.requests
    assert stats.requests_per_s == 0


def test_paths_files_are_removed_after_the_run(server: tuple[str, list[str]], tmp_path: Path) -> None:
    base_url, _ = server
    run_load(Load(base_url, ["/a.jpg"], bust=False, concurrency=1, duration_s=1), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_output_without_the_result_line_is_an_error() -> None:
    with pytest.raises(BenchError, match="no result line"):
        parse_wrk_output("Running 1s test @ http://127.0.0.1:1\n  0 requests in 1.00s\n")
