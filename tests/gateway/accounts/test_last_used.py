"""The last-used throttle: at most one store write per key and interval."""

from __future__ import annotations

import pytest

from gateway.accounts import last_used
from gateway.accounts.last_used import LastUsedThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_once_per_interval_per_key() -> None:
    clock = Clock()
    throttle = LastUsedThrottle(60.0, clock)
    assert throttle.due("key_a") and throttle.due("key_b")
    assert not throttle.due("key_a")
    clock.now += 59.9
    assert not throttle.due("key_a") and not throttle.due("key_b")
    clock.now += 0.1
    assert throttle.due("key_a")
    assert not throttle.due("key_a")


def test_memory_stays_bounded_and_keys_stay_throttled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(last_used, "_MAX_TRACKED", 10)
    clock = Clock()
    throttle = LastUsedThrottle(60.0, clock)
    for n in range(5):
        assert throttle.due(f"key_old{n}")
    clock.now += 61
    for n in range(20):
        assert throttle.due(f"key_new{n}")
        assert len(throttle._last) <= 10
    # A recent key that survived the pruning is still throttled.
    assert not throttle.due("key_new19")


def test_the_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="interval"):
        LastUsedThrottle(0)
