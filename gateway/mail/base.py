"""``Mail`` and the ``Mailer`` protocol every mailer implements (``tests/gateway/mail/contract.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class MailError(Exception):
    """The message could not be handed over. The text names no server address and no credential."""


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    text: str = field(repr=False)

    def __post_init__(self) -> None:
        # A header value with a line break would let text choose extra headers (recipients included).
        for name, value in (("to", self.to), ("subject", self.subject)):
            if not value or "\r" in value or "\n" in value:
                raise ValueError(f"a mail's {name} is one non-empty line")


class Mailer(Protocol):
    @property
    def kind(self) -> str: ...

    async def send(self, mail: Mail) -> None:
        """Hand the message over for delivery, or raise ``MailError``."""
        ...
