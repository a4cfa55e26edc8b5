from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.gateway.delivery.parts import Parts


@pytest.fixture
async def parts() -> AsyncIterator[Parts]:
    built = Parts()
    built.workspace("acme")
    try:
        yield built
    finally:
        await built.aclose()
