"""Signed webhooks: the job document POSTed to the job's ``webhookUrl`` when it ends.

Signature, as Stripe's: ``Imgate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` keyed by
the workspace's webhook secret (``whsec_…``, shown once when created or rotated, sealed at rest). A receiver
recomputes it over the raw body and refuses an old ``t`` (replays).

Delivery goes through the SSRF guard at connect time (``guarded_connector``: every address checked, DNS
rebinding included; the URL was checked at submit too) and never follows a redirect, so a 30x to an internal
address goes nowhere. A failed delivery (no 2xx, a refused or failed connection) is retried with exponential
backoff (1 s, 2 s, 4 s, … at most 60 s apart) for ``webhook_retry_for`` seconds, then given up and logged
without its URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time

import aiohttp

from gateway.errors import BlockedAddress
from gateway.netguard import NetGuard, guarded_connector

log = logging.getLogger("imgate.webhooks")

SIGNATURE_HEADER = "Imgate-Signature"
SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every secret, not a secret
_MAX_BACKOFF_S = 60.0


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_hex(24)


def signature_header(secret: str, body: bytes, at: int) -> str:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


class WebhookSender:
    def __init__(self, guard: NetGuard, *, timeout: float, retry_for: float, first_backoff: float = 1.0) -> None:
        self._guard = guard
        self._timeout = timeout
        self._retry_for = retry_for
        self._first_backoff = first_backoff

    async def deliver(self, url: str, body: bytes, secret: str) -> bool:
        """POST ``body`` until a 2xx or the retry time is over; whether it was delivered."""
        give_up = time.monotonic() + self._retry_for
        backoff = self._first_backoff
        attempt = 0
        while True:
            attempt += 1
            if await self._attempt(url, body, secret):
                return True
            if time.monotonic() + backoff > give_up:
                log.warning("a webhook was not delivered after %d attempts; giving up", attempt)
                return False
            await asyncio.sleep(backoff)
            backoff = min(_MAX_BACKOFF_S, backoff * 2)

    async def _attempt(self, url: str, body: bytes, secret: str) -> bool:
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(secret, body, int(time.time())),
            "User-Agent": "imgate-webhooks/1",
        }
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        try:
            async with (
                aiohttp.ClientSession(connector=guarded_connector(self._guard), timeout=timeout) as session,
                session.post(url, data=body, headers=headers, allow_redirects=False) as response,
            ):
                await response.read()
                return 200 <= response.status < 300
        except BlockedAddress:
            log.warning("a webhook was refused: its host has no public address")
            return False
        except (aiohttp.ClientError, TimeoutError, OSError):
            return False
