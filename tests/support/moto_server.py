"""moto in server mode on loopback, for tests that speak the real S3 (and DynamoDB, IAM) HTTP APIs.

The fixtures ``moto_endpoint`` (one server for the session), ``own_moto`` (a server of one test's own, to
stop and start) and ``aws_test_env`` (dummy credentials) are defined once, in tests/conftest.py, on top of
this module:

- ``MotoServer``: moto on 127.0.0.1 on an ephemeral port (``ThreadedMotoServer(port=0)``, the port read
  back with ``get_host_and_port()``), which a test can stop and start again on the same port (outages).
- ``dummy_aws_environment``: dummy AWS credentials and region in the environment, no config files, no
  instance metadata lookups, so nothing can reach a real AWS account.
- ``moto_auth_enforced``: moto accepts any signature unless told otherwise; inside this context every
  request must be signed by an IAM user's real key (``create_iam_user``). moto keeps that switch
  process-wide, so it is always switched back off.
- ``LoopbackResolver``: resolves ``localhost`` and ``*.localhost`` to 127.0.0.1, for virtual-hosted
  style requests (``http://<bucket>.localhost:<port>/<key>``) which the system resolver here does not resolve.

moto's state lives in this process and is shared by every server: use a fresh bucket name per test.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import urllib.request
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import boto3  # type: ignore[import-untyped]
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

REGION = "us-east-1"
# Dummy credentials: moto accepts them while auth is not enforced; they open no real account.
DUMMY_KEY_ID = "AKIAIMGATETESTING000"
DUMMY_SECRET = "imgate-test-secret-not-real"


class _AtomicDynamoServer(ThreadedMotoServer):
    """moto applies a DynamoDB request in steps without a lock (a failed transaction even restores a copy of the
    whole table), so two requests at once can lose each other's writes, where DynamoDB applies each request
    atomically. One DynamoDB request at a time gives moto that guarantee; S3 and IAM requests still run in
    parallel."""

    def _server_entry(self) -> None:
        dispatcher = DomainDispatcherApplication(create_backend_app)
        one_at_a_time = threading.Lock()

        def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            if str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith("DynamoDB_"):
                with one_at_a_time:
                    # The body is produced inside the lock: moto's work happens while the response is built.
                    return list(dispatcher(environ, start_response))
            return cast(Iterable[bytes], dispatcher(environ, start_response))

        self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()


class MotoServer:
    """A moto server on 127.0.0.1 that can be stopped and started again on the same port."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self._server: ThreadedMotoServer | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        server = _AtomicDynamoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        server.start()
        self.port = server.get_host_and_port()[1]
        self._server = server

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.stop()
        # stop() ends serve_forever() but leaves the socket listening: connections would queue
        # unanswered, and the port could not be taken again. Closing it makes the outage real.
        wsgi = server._server
        if wsgi is not None:
            wsgi.server_close()


@contextmanager
def dummy_aws_environment() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", DUMMY_KEY_ID)
        patch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET)
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        # The machine's own AWS config must not leak in: an empty file is no profile at all.
        patch.setenv("AWS_CONFIG_FILE", os.devnull)
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
            patch.delenv(name, raising=False)
        yield


def s3_admin(endpoint: str):  # -> botocore S3 client (untyped)
    """A plain boto3 client for arranging test data (creating buckets, uploading objects)."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=DUMMY_KEY_ID,
        aws_secret_access_key=DUMMY_SECRET,
    )


def new_bucket(endpoint: str, stem: str = "bkt") -> str:
    name = f"{stem}-{uuid.uuid4().hex[:12]}"
    s3_admin(endpoint).create_bucket(Bucket=name)
    return name


def create_iam_user(endpoint: str, policy: dict[str, object]) -> tuple[str, str]:
    """A new IAM user with ``policy`` inline; returns its (access key id, secret access key)."""
    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=DUMMY_KEY_ID,
        aws_secret_access_key=DUMMY_SECRET,
    )
    name = f"user-{uuid.uuid4().hex[:12]}"
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="access", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return str(key["AccessKeyId"]), str(key["SecretAccessKey"])


def s3_read_policy(*resources: str) -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": list(resources)}],
    }


def _reset_auth(endpoint: str, free_requests: str) -> None:
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=free_requests.encode(),
        method="POST",
        # Not a form: Flask would parse a form body away and moto would read an empty count.
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


@contextmanager
def moto_auth_enforced(endpoint: str) -> Iterator[None]:
    """Inside: every request must carry a valid signature by a known IAM key, and pass its policy."""
    _reset_auth(endpoint, "0")
    try:
        yield
    finally:
        _reset_auth(endpoint, "inf")


class LoopbackResolver(AbstractResolver):
    """``localhost`` and any ``*.localhost`` name -> 127.0.0.1; anything else does not resolve."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host != "localhost" and not host.endswith(".localhost"):
            raise OSError(f"{host} does not resolve in tests")
        return [
            ResolveResult(
                hostname=host,
                host="127.0.0.1",
                port=port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None
