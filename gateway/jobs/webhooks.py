"""Signed webhooks: the job document POSTed to the job's ``webhookUrl`` when it ends.

Signature, as Stripe's: ``Imgate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` keyed by
the workspace's webhook secret (``whsec_…``, shown once when created or rotated, sealed at rest). A receiver
recomputes it over the raw body and refuses an old ``t`` (replays).

Delivery goes through the SSRF guard at connect time (``guarded_connector``: every address checked, DNS
rebinding included; the URL was checked at submit too) and never follows a redirect, so a 30x to an internal
address goes nowhere. A failed delivery (no 2xx, a refused or failed connection) is retried with exponential
backoff (1 s, 2 s, 4 s, … at most 60 s apart) for ``webhook_retry_for`` seconds from the job's end, then given up
and logged without its URL. Whether it may be sent at all (its workspace still active, an http:// URL still
allowed) the workers decide before each attempt.

The capture workers make one ``attempt`` at a time and keep the next one's due time in the job
(``next_attempt_at``; ``gateway.jobs.workers``), so a restart or another worker carries on where it stopped.
"""

from __future__ import annotations

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

    def next_attempt_at(self, attempts: int, ended_at: float, now: float) -> float | None:
        """When the next attempt is due after ``attempts`` failed ones, the last at ``now``; None once that would
        be past the retry time, counted from ``ended_at`` (the job's end)."""
        backoff = min(_MAX_BACKOFF_S, self._first_backoff * 2 ** min(max(0, attempts - 1), 30))
        due = now + backoff
        return None if due > ended_at + self._retry_for else due

    async def attempt(self, url: str, body: bytes, secret: str) -> bool:
        """One POST of ``body``; whether it was answered with a 2xx."""
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
