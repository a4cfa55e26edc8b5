"""A second bench run on the same clone refuses to start while the first holds the work folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.errors import BenchError
from bench.runlock import RunLock


def test_a_second_run_is_refused_with_the_holder_until_the_first_ends(tmp_path: Path) -> None:
    first, second = RunLock(tmp_path / "work"), RunLock(tmp_path / "work")
    first.acquire()
    with pytest.raises(BenchError, match=f"pid {os.getpid()}"):
        second.acquire()
    first.release()
    second.acquire()
    second.release()
