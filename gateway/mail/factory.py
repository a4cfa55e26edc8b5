"""The mailer the ``mailer`` setting names."""

from __future__ import annotations

from gateway.mail.base import Mailer
from gateway.mail.console import ConsoleMailer
from gateway.mail.smtp import SmtpMailer
from gateway.settings import Settings


def build_mailer(settings: Settings) -> Mailer:
    if settings.mailer == "smtp":
        return SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            sender=settings.mail_from,
            security=settings.smtp_security,
            user=settings.smtp_user,
            password=settings.smtp_password,
            timeout=settings.smtp_timeout,
        )
    return ConsoleMailer()
