"""How long a response may be kept, decided in one place: by the gateway's caches, CDNs and browsers alike.

An image URL names its output for good (the URL changes, with ``v=``, when the image must), so outputs are
kept a year and marked immutable. Info (``fm=json``) describes an original that may change at its origin: a
day. A capture is kept for its workspace's capture retention, at most that long; retention 0 means deliver
and keep nothing, which ``Cache-Control: no-store`` tells every cache downstream as well.
"""

from __future__ import annotations

YEAR = 31_536_000
DAY = 86_400


def max_age(*, info: bool, capture: bool, retention: int) -> int:
    """Seconds an output may be kept; 0 = kept nowhere."""
    longest = DAY if info else YEAR
    return min(retention, longest) if capture else longest


def cache_control(seconds: int) -> str:
    if seconds <= 0:
        return "no-store"
    if seconds >= YEAR:
        return f"public, max-age={seconds}, immutable"
    return f"public, max-age={seconds}"
