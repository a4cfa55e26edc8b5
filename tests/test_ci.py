"""CI is strict: ``.ci/run`` sets CI=true, and under it ``require`` fails a test instead of skipping it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests import conftest
from tests.conftest import REPO, in_ci, require

_NEEDS_A_TOOL = """\
from tests.conftest import require


def test_needs_a_tool():
    require(False, "the tool is missing")
"""


def _stub(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_ci_run_exports_ci_true_before_make_test_even_when_run_by_hand(tmp_path: Path) -> None:
    # Stand-ins for the two commands .ci/run calls: every package counts as installed, and `make`
    # records the environment it was given instead of running the suite.
    seen = tmp_path / "make-saw"
    _stub(tmp_path, "dpkg-query", "echo 'install ok installed'")
    _stub(tmp_path, "make", f'echo "$1 CI=$CI" > "{seen}"')
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env["PATH"] = f"{tmp_path}:/usr/bin:/bin"
    done = subprocess.run(["bash", str(REPO / ".ci" / "run")], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert seen.read_text(encoding="utf-8").strip() == "test CI=true"


@pytest.mark.parametrize(("ci", "expected"), [("true", True), ("TRUE", True), ("", False), ("false", False)])
def test_in_ci_reads_the_ci_variable(ci: str, expected: bool) -> None:
    assert in_ci({"CI": ci}) is expected
    assert in_ci({}) is False


def test_require_fails_in_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    require(True, "present")
    monkeypatch.setattr(conftest, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="required in CI: the tool is missing"):
        require(False, "the tool is missing")
    monkeypatch.setattr(conftest, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match="the tool is missing"):
        require(False, "the tool is missing")


@pytest.mark.parametrize(("ci", "returncode", "summary"), [("true", 1, "1 failed"), ("", 0, "1 skipped")])
def test_a_missing_tool_is_a_failed_run_under_ci_true(tmp_path: Path, ci: str, returncode: int, summary: str) -> None:
    (tmp_path / "test_tool.py").write_text(_NEEDS_A_TOOL, encoding="utf-8")
    # Only the plain runner: the plugins this project installs have nothing to do with require().
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(REPO), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", "test_tool.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == returncode, done.stdout
    assert summary in done.stdout
