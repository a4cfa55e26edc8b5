from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
DEMO_IMAGES = REPO / "config" / "demo" / "images"
IN_CI = os.environ.get("CI", "").lower() == "true"

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


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def corpus() -> Path:
    require(CORPUS.is_dir(), "the shared image corpus is not beside the checkout")
    return CORPUS


@pytest.fixture(scope="session")
def images_dir() -> Path:
    """Real photos: the shared corpus where present, else the project's own downscaled copies."""
    return CORPUS if CORPUS.is_dir() else DEMO_IMAGES
