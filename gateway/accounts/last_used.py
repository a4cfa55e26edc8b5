"""``LastUsedThrottle``: write an API key's "last used" time at most once a minute per key and process.

Every authenticated request would otherwise be a write to the account store; the time is shown to a person
("last used 3 minutes ago"), for whom a minute's precision is plenty. Each worker process throttles on its
own, so N workers write at most N times a minute per key: still bounded, and no coordination needed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

_MAX_TRACKED = 10_000


class LastUsedThrottle:
    """``due(key_id)`` is true at most once per ``interval`` seconds for each key; the caller then touches it."""

    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        if interval <= 0:
            raise ValueError("the last-used interval must be more than 0 seconds")
        self._interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def due(self, key_id: str) -> bool:
        now = self._clock()
        with self._lock:
            last = self._last.get(key_id)
            if last is not None and now - last < self._interval:
                return False
            if len(self._last) >= _MAX_TRACKED:
                self._forget_older_than(now - self._interval)
            self._last[key_id] = now
        return True

    def _forget_older_than(self, cutoff: float) -> None:
        # Keys not seen for an interval would be due anyway: dropping them loses nothing, and bounds memory
        # when a process sees many keys.
        self._last = {key_id: at for key_id, at in self._last.items() if at >= cutoff}
        if len(self._last) >= _MAX_TRACKED:
            # Every tracked key was used within the interval: forget them all rather than grow. The worst case
            # is one extra write per key.
            self._last.clear()
