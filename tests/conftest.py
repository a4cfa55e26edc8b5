"""Fixtures and switches every test may use: hypothesis profiles, ``require``, anyio, moto, images.

``require(condition, reason)`` skips a test on a machine that lacks a tool, and fails it when ``CI`` is
``true`` (``.ci/run`` sets it), so a missing tool in CI is a red run, never a silent skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:
    from tests.support.moto_server import MotoServer

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
DEMO_IMAGES = REPO / "config" / "demo" / "images"


def in_ci(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get("CI", "").lower() == "true"


IN_CI = in_ci()

settings.register_profile("ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile("ci" if IN_CI else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def require(condition: bool, reason: str) -> None:
    """Skip on a laptop that lacks a tool; in CI a missing tool is a failure, never a silent skip."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    # Module scope (anyio's own default), so a module-scoped async fixture (one capture service for a
    # whole module) can use it; function-scoped async fixtures work under it as well.
    return "asyncio"


@pytest.fixture(scope="session")
def aws_test_env() -> Iterator[None]:
    """Dummy AWS credentials and region, no config files, no instance metadata: no real account is reachable."""
    from tests.support.moto_server import dummy_aws_environment  # moto and boto3 are slow to import

    with dummy_aws_environment():
        yield


@contextmanager
def _running_moto() -> Iterator[MotoServer]:
    from tests.support.moto_server import MotoServer

    server = MotoServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto_endpoint(aws_test_env: None) -> Iterator[str]:
    """``http://127.0.0.1:<port>`` of one moto server (S3, IAM, DynamoDB APIs) for the whole session."""
    with _running_moto() as server:
        yield server.endpoint


@pytest.fixture
def own_moto(aws_test_env: None) -> Iterator[MotoServer]:
    """A moto server of this test's own, which it may stop and start again (an outage) without disturbing
    other tests. moto's state is still shared by every server in the process: use a fresh bucket."""
    with _running_moto() as server:
        yield server


@pytest.fixture(scope="session")
def corpus() -> Path:
    require(CORPUS.is_dir(), "the shared image corpus is not beside the checkout")
    return CORPUS


@pytest.fixture(scope="session")
def images_dir() -> Path:
    """Real photos: the shared corpus where present, else the project's own downscaled copies."""
    return CORPUS if CORPUS.is_dir() else DEMO_IMAGES
