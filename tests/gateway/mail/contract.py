"""The mailer contract: every ``Mailer`` delivers what it is given, whole, or raises ``MailError``.

A test class supplies ``mailer`` and ``delivered`` (a callable answering the messages that arrived, as
``(to, subject, text)``).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gateway.mail import Mail, Mailer

Delivered = Callable[[], list[tuple[str, str, str]]]


class MailerContract:
    @pytest.mark.anyio
    async def test_delivers_the_message(self, mailer: Mailer, delivered: Delivered) -> None:
        await mailer.send(Mail("ana@example.com", "imgate sign-in code 12345678", "Your code is 12345678.\n"))
        [(to, subject, text)] = delivered()
        assert to == "ana@example.com"
        assert subject == "imgate sign-in code 12345678"
        assert "12345678" in text

    @pytest.mark.anyio
    async def test_non_ascii_text_survives(self, mailer: Mailer, delivered: Delivered) -> None:
        await mailer.send(Mail("zoe@xn--bcher-kva.example", "Grüße 87654321", "Ihr Code: 87654321 – danke"))
        [(to, subject, text)] = delivered()
        assert subject == "Grüße 87654321"
        assert "87654321" in text

    def test_headers_are_one_line(self) -> None:
        with pytest.raises(ValueError):
            Mail("ana@example.com\r\nBcc: eve@example.com", "s", "t")
        with pytest.raises(ValueError):
            Mail("ana@example.com", "s\nBcc: eve@example.com", "t")
