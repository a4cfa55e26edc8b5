"""Workload selection: names, groups, order, and unknown names refused."""

from __future__ import annotations

import pytest

from bench.errors import BenchError
from bench.registry import registered, select
from bench.workloads import misses  # noqa: F401 - registers the workloads


def test_workloads_run_in_the_issue_order() -> None:
    names = [w.name for w in registered()]
    assert names == [
        "photo-miss",
        "large-miss",
        "srcset",
        "remote-photo-miss",
        "remote-srcset",
        "hit-one",
        "hit-1000",
        "hit-one-limits",
        "hit-one-domain",
        "two-nodes",
        "memory",
        "encode-times",
        "capture",
    ]


def test_a_group_selects_all_its_workloads() -> None:
    assert [w.name for w in select(["hit"])] == ["hit-one", "hit-1000"]
    assert [w.name for w in select(["memory", "srcset"])] == ["srcset", "memory"]


def test_no_selection_means_every_workload() -> None:
    assert select(None) == registered()


def test_an_unknown_name_is_refused_with_the_known_ones() -> None:
    with pytest.raises(BenchError, match="photo-miss"):
        select(["photo-mis"])
