"""Outgoing mail: the dashboard's sign-in codes. One protocol, two mailers, chosen by the ``mailer`` setting.

base.py      Mail (one plain-text message) and the Mailer protocol
console.py   ConsoleMailer: writes each message to the log in one line that says no mail was sent
smtp.py      SmtpMailer: aiosmtplib, STARTTLS or implicit TLS, optional login
factory.py   build_mailer(settings)
"""

from __future__ import annotations

from gateway.mail.base import Mail, Mailer, MailError
from gateway.mail.console import ConsoleMailer
from gateway.mail.factory import build_mailer
from gateway.mail.smtp import SmtpMailer

__all__ = ["ConsoleMailer", "Mail", "MailError", "Mailer", "SmtpMailer", "build_mailer"]
