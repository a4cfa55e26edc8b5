"""``ConsoleMailer``: for development and ``make run``: every message goes to the log instead of a mailbox.

The line carries the subject (the sign-in mail puts the code there) and says plainly that nothing was sent, so
nobody reading the log wonders where the email went, and ``make run`` works with no mail server.
"""

from __future__ import annotations

import logging

from gateway.mail.base import Mail

log = logging.getLogger("imgate.mail")


class ConsoleMailer:
    kind = "console"

    def __init__(self, logger: logging.Logger = log) -> None:
        self._log = logger

    async def send(self, mail: Mail) -> None:
        self._log.warning("mailer = console, no email sent: to %s: %s", mail.to, mail.subject)
