"""``ConsoleMailer``: for development and ``make run``: every message goes to the log instead of a mailbox.

The line carries the subject (the sign-in mail puts the code there) and says plainly that nothing was sent and
that it is for local use only, so nobody reading the log wonders where the email went, and ``make run`` works
with no mail server.

A code in the log signs in whoever reads it, and on a public gateway whoever asks for one never gets it, so
``imgate serve`` refuses ``mailer = "console"`` while any ``public_hosts`` entry is not a loopback name or
address (``console_mailer_refusal``), unless ``mailer_console_anywhere = true`` says it is meant.
"""

from __future__ import annotations

import ipaddress
import logging

from gateway.mail.base import Mail
from gateway.settings import Settings

log = logging.getLogger("imgate.mail")

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


class ConsoleMailer:
    kind = "console"

    def __init__(self, logger: logging.Logger = log) -> None:
        self._log = logger

    async def send(self, mail: Mail) -> None:
        self._log.warning("mailer = console, no email sent (for local use only): to %s: %s", mail.to, mail.subject)


def _is_loopback(host: str) -> bool:
    name = host.strip("[]").rstrip(".").lower()
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def console_mailer_refusal(settings: Settings) -> str | None:
    """Why the gateway must not start with these mail settings, or ``None`` when it may."""
    if settings.mailer != "console" or settings.mailer_console_anywhere:
        return None
    if all(_is_loopback(host) for host in settings.public_hosts):
        return None
    return (
        "mailer = console writes sign-in codes to the log, and public_hosts names a host that is not loopback: "
        "set mailer = smtp (with smtp_host), or mailer_console_anywhere = true if the log is meant to carry them"
    )
