"""Capture domains switched on and off.

A workspace's capture domains are its ``allowed_capture_domains`` patterns, each enabled unless it is also
in ``disabled_capture_domains``. A page whose URL no pattern matches is not allowed at all (403
DOMAIN_NOT_ALLOWED, at the plan step); one that only disabled patterns match is still *known*, so outputs
already rendered of it keep being served, but no new capture of it is taken (403 CAPTURE_DOMAIN_DISABLED, at
the render step). A URL matched by an enabled pattern and by a disabled one is enabled: the owner allowed it
by the enabled one.

Patterns are told apart as compiled patterns, not as text: ``Example.COM`` and ``example.com`` are one
domain, so switching one off switches off the other spelling too.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from gateway.policy.hosts import InvalidPattern, pattern_texts
from gateway.policy.sources import SourceAllowlist, SourcePattern
from gateway.policy.urls import SourceURL

# Plans are worked out once per URL and kept, so this is asked on a miss of the plan cache only; compiled
# lists are kept per (allowed, disabled) pair, which changes only when the owner edits them.
_COMPILED_KEPT = 1024


def capture_enabled(allowed: tuple[str, ...], disabled: tuple[str, ...], url: SourceURL) -> bool:
    """May a new capture of ``url`` be taken? Asked only for a URL some pattern in ``allowed`` matches."""
    if not disabled:
        return True
    try:
        return _enabled(allowed, disabled).allows(url)
    except InvalidPattern:
        # A stored list that no longer compiles allows nothing (the tenancy cache denies it all the same).
        return False


@functools.lru_cache(maxsize=_COMPILED_KEPT)
def _enabled(allowed: tuple[str, ...], disabled: tuple[str, ...]) -> SourceAllowlist:
    off = {SourcePattern.compile(text) for text in disabled}
    return SourceAllowlist(tuple(p for p in (SourcePattern.compile(text) for text in allowed) if p not in off))


def find_capture_domain(allowed: Iterable[str], text: str) -> str | None:
    """The entry of ``allowed`` that is the same pattern as ``text`` (as spelled in ``allowed``), or None.

    ``InvalidPattern`` when ``text`` is no pattern at all; entries of ``allowed`` that do not compile are
    never the same as anything.
    """
    wanted = SourcePattern.compile(text)
    for entry in pattern_texts(allowed):
        try:
            if SourcePattern.compile(entry) == wanted:
                return entry
        except InvalidPattern:
            continue
    return None
