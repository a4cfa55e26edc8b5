"""Both mailers against the mailer contract: the console one through the log, SMTP through a real aiosmtpd."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.mail import ConsoleMailer, Mail, MailError, SmtpMailer, build_mailer
from gateway.settings import Settings
from loopback.ports import free_port
from tests.gateway.mail.contract import Delivered, MailerContract
from tests.gateway.mail.smtp_server import HOST, SmtpServer


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class TestConsoleMailer(MailerContract):
    @pytest.fixture
    def records(self) -> Iterator[_Records]:
        handler = _Records()
        logger = logging.getLogger("tests.console-mailer")
        logger.addHandler(handler)
        try:
            yield handler
        finally:
            logger.removeHandler(handler)

    @pytest.fixture
    def mailer(self, records: _Records) -> ConsoleMailer:
        return ConsoleMailer(logging.getLogger("tests.console-mailer"))

    @pytest.fixture
    def delivered(self, records: _Records) -> Delivered:
        def read() -> list[tuple[str, str, str]]:
            out = []
            for record in records.records:
                line = record.getMessage()
                # One line that says nothing was mailed, with the recipient and the subject (the code).
                assert "\n" not in line and "no email sent" in line
                to, subject = record.args if isinstance(record.args, tuple) else ("", "")
                out.append((str(to), str(subject), line))
            return out

        return read


class TestSmtpMailer(MailerContract):
    @pytest.fixture
    def server(self) -> Iterator[SmtpServer]:
        with SmtpServer() as server:
            yield server

    @pytest.fixture
    def mailer(self, server: SmtpServer) -> SmtpMailer:
        return SmtpMailer(HOST, server.port, sender="imgate <no-reply@example.com>", security="none", timeout=5)

    @pytest.fixture
    def delivered(self, server: SmtpServer) -> Delivered:
        def read() -> list[tuple[str, str, str]]:
            out = []
            for message in server.wait_for(1):
                body = message.get_body(("plain",))
                assert body is not None
                out.append((str(message["To"]), str(message["Subject"]), body.get_content()))
            return out

        return read


@pytest.mark.anyio
async def test_smtp_starttls_is_used_and_required(tmp_path: Path) -> None:
    with SmtpServer(tmp_path, tls=True) as server:
        mailer = SmtpMailer(
            HOST, server.port, sender="no-reply@example.com", security="starttls", tls_context=server.client_context
        )
        await mailer.send(Mail("ana@example.com", "code 11223344", "11223344"))
        assert server.code_for("ana@example.com") == "11223344"
        # The same server refuses a client that will not upgrade: the message is never sent in the clear.
        plain = SmtpMailer(HOST, server.port, sender="no-reply@example.com", security="none")
        with pytest.raises(MailError):
            await plain.send(Mail("ana@example.com", "code 2", "2"))
        assert len(server.inbox.messages) == 1


@pytest.mark.anyio
async def test_smtp_failure_is_a_mail_error_that_names_no_address() -> None:
    mailer = SmtpMailer(HOST, free_port(HOST), sender="no-reply@example.com", security="none", timeout=2)
    with pytest.raises(MailError) as raised:
        await mailer.send(Mail("ana@example.com", "code 1", "1"))
    assert HOST not in str(raised.value) and "ana@" not in str(raised.value)


def test_the_setting_picks_the_mailer() -> None:
    assert build_mailer(Settings()).kind == "console"
    smtp = build_mailer(Settings(mailer="smtp", smtp_host="mail.example.com"))
    assert isinstance(smtp, SmtpMailer)
