"""A check's result applied to a domain record, the check on demand, and the periodic re-check of every worker.

State changes (``gateway.accounts.domains`` draws them):

- a check that verifies: ``verified``, no reason, failures reset;
- a check that finds the records wrong: the reason; a ``pending`` domain stays pending (the customer may not
  have created the record yet) until ``domain_pending_days`` after it was added, then it is ``failed`` (still
  re-checked, less often, and verified once the record appears); a ``verified`` or ``failed`` one counts a
  failure and is ``failed`` from the ``domain_failures_to_fail``-th in a row (a verified domain keeps being
  served until then, so one bad answer during a customer's DNS change does not take their images down);
- a check DNS could not answer (timeout, SERVFAIL): the reason, and nothing else changes: an outage of the
  resolver is not the customer's mistake.

The re-check runs in every worker process; ``DomainStore.claim_due`` hands each due domain to one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time

from gateway.accounts.domains import FAILED, PENDING, VERIFIED, Domain, DomainStore
from gateway.domains.verify import DomainVerifier, Verdict
from gateway.settings import Settings

log = logging.getLogger("imgate.domains")

_BATCH = 20
# Seconds between looks for due domains; a check itself waits at most dns_timeout per query.
_TICK = 5.0
_DAY = 86400.0


def apply_verdict(
    domain: Domain, verdict: Verdict, at: float, failures_to_fail: int, pending_days: float = 7.0
) -> Domain:
    if verdict.verified:
        return dataclasses.replace(domain, state=VERIFIED, reason="", failures=0, checked_at=at)
    if verdict.unknown:
        return dataclasses.replace(domain, reason=verdict.reason, checked_at=at)
    failures = domain.failures + 1
    state, reason = domain.state, verdict.reason
    if state != PENDING and failures >= failures_to_fail:
        state = FAILED
    elif state == PENDING and at - domain.created_at > pending_days * _DAY:
        state = FAILED
        reason = f"{reason}; not verified within {pending_days:g} days of being added"
    return dataclasses.replace(domain, state=state, reason=reason, failures=failures, checked_at=at)


class DomainChecker:
    def __init__(
        self, store: DomainStore, verifier: DomainVerifier, failures_to_fail: int, pending_days: float = 7.0
    ) -> None:
        self._store = store
        self._verifier = verifier
        self._failures_to_fail = failures_to_fail
        self._pending_days = pending_days

    async def check(self, domain: Domain) -> Domain:
        """Check now and store the result; answers the record as stored (as it was if it was removed or
        re-added meanwhile)."""
        # At least the claim's time (``claim_due`` stamps it), so the store takes this result as the latest.
        at = max(time.time(), domain.checked_at)
        verdict = await self._verifier.check(domain.hostname, domain.token)
        checked = apply_verdict(domain, verdict, at, self._failures_to_fail, self._pending_days)
        saved = await asyncio.to_thread(self._store.save_check, checked)
        if saved is not None and saved.state != domain.state:
            log.info("domain %s of %s: %s -> %s", domain.hostname, domain.namespace, domain.state, saved.state)
        return saved or domain


class Rechecker:
    """Re-checks due domains in the background: pending ones every ``pending_interval`` seconds, verified and
    failed ones every ``interval``. ``interval`` 0 turns it off."""

    def __init__(self, store: DomainStore, checker: DomainChecker, interval: float, pending_interval: float) -> None:
        self._store = store
        self._checker = checker
        self._interval = interval
        self._pending_interval = pending_interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._interval > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def run_once(self, now: float | None = None) -> list[Domain]:
        """One pass: claim what is due and check it. Answers the records as stored after the checks."""
        at = time.time() if now is None else now
        due = await asyncio.to_thread(
            self._store.claim_due, at, at - self._pending_interval, at - self._interval, _BATCH
        )
        return [await self._checker.check(domain) for domain in due]

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the custom domain re-check failed; trying again later")
            await asyncio.sleep(_TICK)

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def domain_checker(settings: Settings, store: DomainStore) -> DomainChecker:
    """The check as the settings configure it (``cname_target``, ``dns_resolvers``, ``dns_timeout``,
    ``domain_pending_days``)."""
    verifier = DomainVerifier(settings.cname_target, settings.dns_resolvers, settings.dns_timeout)
    return DomainChecker(store, verifier, settings.domain_failures_to_fail, settings.domain_pending_days)


def rechecker(settings: Settings, store: DomainStore) -> Rechecker:
    checker = domain_checker(settings, store)
    return Rechecker(store, checker, settings.domain_recheck_interval, settings.domain_pending_recheck_interval)
