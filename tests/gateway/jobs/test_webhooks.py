"""Webhook attempts over real loopback HTTP, as the capture workers make them: the signature, whether a 2xx came
back, the backoff to the next attempt until the retry time, redirects never followed, and the SSRF guard at
connect time (an address the submit-time check would have passed is still refused when the connection is made)."""

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


async def test_one_attempt_posts_the_signed_body_and_says_whether_a_2xx_came_back() -> None:
    receiver = Receiver(failures=1)
    sender = WebhookSender(NetGuard(["127.0.0.1/32"]), timeout=5, retry_for=10)
    try:
        assert not await sender.attempt(receiver.url + "/hook", b'{"id":"x"}', "whsec_test")  # a 503
        assert await sender.attempt(receiver.url + "/hook", b'{"id":"x"}', "whsec_test")
    finally:
        receiver.close()
    assert len(receiver.calls) == 2
    headers, body = receiver.calls[-1][1], receiver.calls[-1][2]
    assert body == b'{"id":"x"}' and headers["content-type"] == "application/json"
    at = int(headers[SIGNATURE_HEADER.lower()].split(",")[0].removeprefix("t="))
    assert abs(at - time.time()) < 60
    assert headers[SIGNATURE_HEADER.lower()] == signature_header("whsec_test", body, at)


def test_the_next_attempt_backs_off_and_stops_at_the_retry_time() -> None:
    # What the workers keep in the job after each failed attempt (gateway.jobs.workers; the real schedule is
    # run end to end in test_webhook_resume.py).
    sender = WebhookSender(NetGuard(), timeout=5, retry_for=300, first_backoff=1.0)
    ended = 1000.0
    gaps = [due - ended for due in (sender.next_attempt_at(n, ended, ended) for n in range(1, 9)) if due is not None]
    assert gaps == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]  # doubling, at most 60 s apart
    assert sender.next_attempt_at(10**6, ended, ended) == ended + 60.0  # no overflow however many
    assert sender.next_attempt_at(3, ended, ended + 297) is None  # due 4 s on: past the retry time, given up
    assert sender.next_attempt_at(1, ended, ended + 299) == ended + 300


async def test_a_redirect_is_never_followed(canary: Canary) -> None:
    receiver = Receiver(moved_to=f"http://{canary.address}/")
    sender = WebhookSender(NetGuard(["127.0.0.1/32"]), timeout=5, retry_for=0.5)
    try:
        assert not await sender.attempt(receiver.url + "/moved", b"{}", "whsec_test")
    finally:
        receiver.close()
    assert receiver.calls and canary.hits == 0


async def test_the_guard_refuses_at_connect_time(canary: Canary) -> None:
    # Nothing trusted: the canary's loopback address is refused when the connection is made.
    sender = WebhookSender(NetGuard(), timeout=5, retry_for=0.5)
    assert not await sender.attempt(f"http://{canary.address}/hook", b"{}", "whsec_test")
    assert not await sender.attempt("http://169.254.169.254/latest/meta-data/", b"{}", "whsec_test")
    assert canary.hits == 0
