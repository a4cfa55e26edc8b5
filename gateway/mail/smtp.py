"""``SmtpMailer``: messages through an SMTP server with aiosmtplib (asyncio, maintained, STARTTLS and TLS).

A connection per message: sign-in codes are rare, and a kept-open connection would need its own health
checks and reconnects. ``starttls`` upgrades a plain connection (port 587) and refuses to send if the server
does not offer it; ``tls`` is implicit TLS from the first byte (port 465); ``none`` sends in the clear (a relay
on a trusted network, or a test server). Certificates are verified against the system's trust store.
"""

from __future__ import annotations

import logging
import ssl
from email.message import EmailMessage

import aiosmtplib

from gateway.mail.base import Mail, MailError

log = logging.getLogger("imgate.mail")


class SmtpMailer:
    kind = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        security: str = "starttls",
        user: str = "",
        password: str = "",
        timeout: float = 10.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in ("starttls", "tls", "none"):
            raise ValueError("smtp security must be starttls, tls or none")
        self._host, self._port, self._sender = host, port, sender
        self._security = security
        self._user, self._password = user, password
        self._timeout = timeout
        self._tls_context = tls_context or ssl.create_default_context()

    async def send(self, mail: Mail) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message.set_content(mail.text)
        try:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                username=self._user or None,
                password=self._password or None,
                use_tls=self._security == "tls",
                start_tls=True if self._security == "starttls" else False,
                tls_context=self._tls_context if self._security != "none" else None,
                timeout=self._timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            # The exception's text may hold the server's address or reply; the log gets its kind only.
            log.warning("sending mail failed: %s", type(exc).__name__)
            raise MailError("the mail server did not accept the message") from None
