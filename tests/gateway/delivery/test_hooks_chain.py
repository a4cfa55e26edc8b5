"""Chained request hooks: every hook admits in order, the first refusal wins, every hook records."""

from __future__ import annotations

import pytest

from gateway.delivery.hooks import ChainedHooks, NoHooks, Outcome, RecordOnly, chain
from gateway.errors import GatewayError, NotFound
from gateway.tenancy import Tenant
from gateway.web.cors import Headers


class _Hook:
    def __init__(self, name: bytes, refuse: bool = False, fail_record: bool = False) -> None:
        self.name = name
        self.refuse = refuse
        self.fail_record = fail_record
        self.admitted = 0
        self.recorded: list[Outcome] = []

    def admit(self, tenant: Tenant) -> Headers:
        self.admitted += 1
        if self.refuse:
            raise NotFound(self.name.decode())
        return ((b"x-hook", self.name),)

    def record(self, outcome: Outcome) -> None:
        if self.fail_record:
            raise RuntimeError("broken hook")
        self.recorded.append(outcome)


def _outcome() -> Outcome:
    return Outcome("acme", 200, "memory", None, None, 10, 0.001)


def test_headers_of_every_hook_are_added_in_order() -> None:
    hooks = ChainedHooks([_Hook(b"a"), _Hook(b"b")])
    assert hooks.admit(None) == ((b"x-hook", b"a"), (b"x-hook", b"b"))  # type: ignore[arg-type]


def test_the_first_refusal_wins_and_later_hooks_are_not_asked() -> None:
    first, second, third = _Hook(b"a"), _Hook(b"b", refuse=True), _Hook(b"c")
    with pytest.raises(GatewayError, match="b"):
        ChainedHooks([first, second, third]).admit(None)  # type: ignore[arg-type]
    assert (first.admitted, second.admitted, third.admitted) == (1, 1, 0)


def test_a_failing_record_hook_does_not_keep_the_others_from_recording() -> None:
    broken, counting = _Hook(b"a", fail_record=True), _Hook(b"b")
    ChainedHooks([broken, counting]).record(_outcome())
    assert len(counting.recorded) == 1


def test_chain_of_none_admits_everything_and_of_one_is_that_hook() -> None:
    assert isinstance(chain([]), NoHooks)
    only = _Hook(b"a")
    assert chain([only]) is only


def test_record_only_hooks_are_not_asked_to_admit_unless_they_admit_after_all() -> None:
    class Counting(RecordOnly):
        def __init__(self) -> None:
            self.recorded = 0

        def record(self, outcome: Outcome) -> None:
            self.recorded += 1

    class Refusing(Counting):
        def admit(self, tenant: Tenant) -> Headers:
            raise NotFound("refused")

    quiet, strict = Counting(), Refusing()
    chained = ChainedHooks([quiet, strict, _Hook(b"a")])
    with pytest.raises(NotFound):
        chained.admit(None)  # type: ignore[arg-type]  # no hook here reads the tenant
    assert ChainedHooks([quiet, _Hook(b"a")]).admit(None) == ((b"x-hook", b"a"),)  # type: ignore[arg-type]
    chained.record(_outcome())
    assert (quiet.recorded, strict.recorded) == (1, 1)
