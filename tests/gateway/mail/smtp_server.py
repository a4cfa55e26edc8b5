"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for the mailer and dashboard tests."""

from __future__ import annotations

import datetime
import email
import email.policy
import ipaddress
import re
import ssl
import threading
import time
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from loopback.ports import free_port

HOST = "127.0.0.1"


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.arrived:
            self.messages.append(message)
            self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
            self.arrived.notify_all()
        return "250 OK"


class SmtpServer:
    """``with SmtpServer() as smtp:`` an SMTP server on a free port; ``tls=True`` offers (and requires) STARTTLS
    with a self-signed certificate whose ``client_context`` trusts it."""

    def __init__(self, cert_dir: Path | None = None, *, tls: bool = False) -> None:
        self.port = free_port(HOST)
        self.inbox = _Inbox()
        self.client_context: ssl.SSLContext | None = None
        kwargs: dict[str, Any] = {}
        if tls:
            if cert_dir is None:
                raise ValueError("a TLS server needs a folder for its certificate")
            server_context, self.client_context = _self_signed(cert_dir)
            kwargs = {"tls_context": server_context, "require_starttls": True}
        self._controller = Controller(self.inbox, hostname=HOST, port=self.port, **kwargs)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self._controller.stop()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        with self.inbox.arrived:
            while len(self.inbox.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.inbox.messages)} of {count} messages arrived")
                self.inbox.arrived.wait(left)
            return list(self.inbox.messages)

    def code_for(self, address: str, nth: int = 1, timeout: float = 10.0) -> str:
        """The 8-digit code of the ``nth`` message to ``address`` (read from the body, as a person would)."""
        deadline = time.monotonic() + timeout
        while True:
            mine = [m for m in self.inbox.messages if str(m["To"]).lower() == address.lower()]
            if len(mine) >= nth:
                body = mine[nth - 1].get_body(("plain",))
                assert body is not None
                found = re.search(r"\b(\d{8})\b", body.get_content())
                assert found is not None, "no code in the message"
                return found[1]
            if time.monotonic() > deadline:
                raise TimeoutError(f"no message {nth} to that address")
            time.sleep(0.05)


def _self_signed(folder: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cafile=str(cert_path))
    return server, client
