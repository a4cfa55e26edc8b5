"""Webhook deliveries over real loopback HTTP: the signature, retries with backoff until a 2xx, redirects never
followed, and the SSRF guard at connect time (an address the submit-time check would have passed is still
refused when the connection is made)."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gateway.jobs.webhooks import SIGNATURE_HEADER, WebhookSender, new_secret, signature_header
from gateway.netguard import NetGuard
from tests.gateway.capture.testsite import Canary

pytestmark = pytest.mark.anyio


class Receiver:
    """Answers 503 to the first ``failures`` POSTs, then 200; a POST to /moved is a 307 to ``moved_to``."""

    def __init__(self, failures: int = 0, moved_to: str = "") -> None:
        self.calls: list[tuple[float, dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.calls.append((time.monotonic(), {k.lower(): v for k, v in self.headers.items()}, body))
                if self.path == "/moved":
                    self.send_response(307)
                    self.send_header("Location", moved_to)
                else:
                    self.send_response(503 if len(receiver.calls) <= failures else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def canary() -> Iterator[Canary]:
    server = Canary()
    yield server
    server.close()


def test_the_signature_is_an_hmac_of_the_timestamp_and_body() -> None:
    secret = new_secret()
    header = signature_header(secret, b'{"id":"x"}', 1700000000)
    expected = hmac.new(secret.encode(), b'1700000000.{"id":"x"}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert signature_header(new_secret(), b'{"id":"x"}', 1700000000) != header


async def test_failed_deliveries_are_retried_with_growing_gaps() -> None:
    receiver = Receiver(failures=2)
    sender = WebhookSender(NetGuard(["127.0.0.1/32"]), timeout=5, retry_for=10, first_backoff=0.2)
    try:
        assert await sender.deliver(receiver.url + "/hook", b'{"id":"x"}', "whsec_test")
    finally:
        receiver.close()
    times = [at for at, _, _ in receiver.calls]
    assert len(times) == 3
    assert times[1] - times[0] >= 0.2 and times[2] - times[1] >= 0.4  # 0.2 s, then twice that
    headers, body = receiver.calls[-1][1], receiver.calls[-1][2]
    assert body == b'{"id":"x"}' and headers[SIGNATURE_HEADER.lower()].startswith("t=")


async def test_retries_stop_at_the_retry_time() -> None:
    receiver = Receiver(failures=1000)
    sender = WebhookSender(NetGuard(["127.0.0.1/32"]), timeout=5, retry_for=1, first_backoff=0.2)
    try:
        started = time.monotonic()
        assert not await sender.deliver(receiver.url + "/hook", b"{}", "whsec_test")
        assert time.monotonic() - started < 3
    finally:
        receiver.close()
    assert 2 <= len(receiver.calls) <= 4


async def test_a_redirect_is_never_followed(canary: Canary) -> None:
    receiver = Receiver(moved_to=f"http://{canary.address}/")
    sender = WebhookSender(NetGuard(["127.0.0.1/32"]), timeout=5, retry_for=0.5, first_backoff=0.2)
    try:
        assert not await sender.deliver(receiver.url + "/moved", b"{}", "whsec_test")
    finally:
        receiver.close()
    assert receiver.calls and canary.hits == 0


async def test_the_guard_refuses_at_connect_time(canary: Canary) -> None:
    # Nothing trusted: the canary's loopback address is refused when the connection is made.
    sender = WebhookSender(NetGuard(), timeout=5, retry_for=0.5, first_backoff=0.2)
    assert not await sender.deliver(f"http://{canary.address}/hook", b"{}", "whsec_test")
    assert not await sender.deliver("http://169.254.169.254/latest/meta-data/", b"{}", "whsec_test")
    assert canary.hits == 0
