"""The console mailer is for loopback only: ``imgate serve`` refuses it on a public host unless told it is meant."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.mail import ConsoleMailer, Mail
from gateway.mail.console import console_mailer_refusal
from gateway.settings import Settings

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("hosts", "refused"),
    [
        (("127.0.0.1", "localhost", "::1"), False),
        (("[::1]", "dev.localhost", "127.0.0.2"), False),
        (("127.0.0.1", "img.example.com"), True),
        (("192.0.2.10",), True),
    ],
)
def test_refused_while_a_public_host_is_not_loopback(hosts: tuple[str, ...], refused: bool) -> None:
    assert (console_mailer_refusal(Settings(public_hosts=hosts)) is not None) is refused
    # Said explicitly, or with a real mailer, it runs anywhere.
    assert console_mailer_refusal(Settings(public_hosts=hosts, mailer_console_anywhere=True)) is None
    smtp = Settings(public_hosts=hosts, mailer="smtp", smtp_host="mail.example.com")
    assert console_mailer_refusal(smtp) is None


def test_imgate_serve_refuses_to_start(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "IMGATE_DATA_DIR": str(tmp_path),
        "IMGATE_PUBLIC_HOSTS": "img.example.com",
        "IMGATE_MAILER": "console",
        "IMGATE_MAILER_CONSOLE_ANYWHERE": "false",
    }
    done = subprocess.run(  # noqa: S603 - this interpreter and fixed arguments
        [sys.executable, "-m", "gateway.cli", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "mailer = console" in done.stderr and "mailer_console_anywhere" in done.stderr


async def test_the_log_line_says_local_use_only(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.console-exposure")
    with caplog.at_level(logging.WARNING, logger="tests.console-exposure"):
        await ConsoleMailer(logger).send(Mail("ana@example.com", "imgate sign-in code 12345678", "body"))
    assert "for local use only" in caplog.text and "12345678" in caplog.text
