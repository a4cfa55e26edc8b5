"""The programs the bench's own tests need, found the way the bench finds them.

A missing one skips the test on a laptop and fails it in CI (``tests.conftest.require``), where ``.ci/run``
installs wrk and nginx-light, so a test that needs one can never be skipped silently there.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bench.errors import BenchError
from bench.peers.gateway import imgate_command
from bench.tools import require_tool
from tests.conftest import require


def _found(find: Callable[[], str]) -> str:
    try:
        return find()
    except BenchError as error:
        require(False, str(error))
        raise  # require() has skipped or failed the test by now


@pytest.fixture
def wrk() -> str:
    return _found(lambda: require_tool("wrk"))


@pytest.fixture
def nginx() -> str:
    return _found(lambda: require_tool("nginx"))


@pytest.fixture
def imgate() -> str:
    """The project's own ``imgate`` command (``make install`` puts it beside the virtualenv's python)."""
    return _found(imgate_command)
