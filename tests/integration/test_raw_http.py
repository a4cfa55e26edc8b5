"""The battery's request forms, sent raw over a socket to a real Granian gateway: every answer is the JSON error
shape (status, ``application/json``, the code, ``no-store``), and none is a redirect.

Raw, because an HTTP client would refuse to send most of these (``OPTIONS *``, ``CONNECT``, a lowercase
method) or would normalise them before the gateway sees them.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.accounts.models import Workspace
from tests.gateway.web.battery import BY_PATH, METHODS, ODD_TARGETS, Expected
from tests.integration.servers import GatewayProcess

pytestmark = pytest.mark.integration

# The battery's Host: a redirect built from it would point a browser at the attacker's host.
HOST = "evil.example:1234"


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: dict[str, list[str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.headers.get(name)
        return ", ".join(values) if values else None


def exchange(port: int, method: str, target: str, extra: str = "") -> RawAnswer:
    request = f"{method} {target} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n{extra}\r\n".encode("latin-1")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return RawAnswer(int(status_line.split(" ")[1]), headers, body)


def problems(answer: RawAnswer, expected: Expected, method: str) -> list[str]:
    found = []
    if answer.status != expected.status:
        found.append(f"status {answer.status}")
    if answer.header("content-type") != "application/json":
        found.append(f"content-type {answer.header('content-type')}")
    if answer.header("cache-control") != "no-store":
        found.append(f"cache-control {answer.header('cache-control')}")
    if answer.header("location") is not None:
        found.append(f"location {answer.header('location')}")
    if answer.header("allow") != expected.allow:
        found.append(f"allow {answer.header('allow')}")
    if method == "HEAD":
        if answer.body:
            found.append("a body on HEAD")
    else:
        try:
            code = json.loads(answer.body)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = f"not the error shape: {answer.body[:60]!r}"
        if code != expected.code:
            found.append(f"code {code}")
    return found


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, images_dir: Path) -> Iterator[GatewayProcess]:
    # The battery's Host is one of the gateway's own here (any other would be looked up as a custom domain).
    gw = GatewayProcess(
        tmp_path_factory.mktemp("gw"), result_store="none", public_hosts=f"127.0.0.1,{HOST.split(':')[0]}"
    )
    gw.add_workspace(Workspace(namespace="demo", origin_kind="local", origin={"root": str(images_dir)}))
    with gw:
        yield gw


@pytest.mark.parametrize("path", list(BY_PATH))
def test_every_method_of_the_battery_on_every_path(gateway: GatewayProcess, path: str) -> None:
    expected = BY_PATH[path]
    wrong = {
        method: found
        for method in METHODS
        if (found := problems(exchange(gateway.port, method, path), expected, method))
    }
    assert not wrong, wrong


@pytest.mark.parametrize(("method", "target"), list(ODD_TARGETS))
def test_targets_that_are_no_image_path(gateway: GatewayProcess, method: str, target: str) -> None:
    assert not problems(exchange(gateway.port, method, target), ODD_TARGETS[method, target], method)


def test_absolute_form_is_the_path_it_names_and_the_host_builds_nothing(gateway: GatewayProcess) -> None:
    answer = exchange(gateway.port, "POST", "http://other.example/demo/photo-kite.jpg")
    assert not problems(answer, BY_PATH["/demo/photo-kite.jpg"], "POST")
    assert "other.example" not in answer.body.decode() and "evil.example" not in answer.body.decode()


def test_the_allowed_forms_still_answer(gateway: GatewayProcess) -> None:
    assert exchange(gateway.port, "GET", "/demo/photo-kite.jpg?w=20").status == 200
    assert exchange(gateway.port, "HEAD", "/_/health").status == 200
    preflight = "Origin: https://a.example\r\nAccess-Control-Request-Method: GET\r\n"
    assert exchange(gateway.port, "OPTIONS", "/demo/photo-kite.jpg", preflight).status == 204
