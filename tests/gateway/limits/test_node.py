"""The node-wide limiter: one bucket per workspace for every process that maps the table."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from gateway.limits.node import BucketTable, NodeLimiter, slot_key
from gateway.limits.protocol import lease_size
from tests.gateway.limits.clock import HandClock


def admitted(limiter: NodeLimiter, namespace: str, rate: int, burst: int, tries: int) -> int:
    return sum(limiter.acquire(namespace, rate, burst).admitted for _ in range(tries))


def test_a_full_bucket_admits_the_burst_then_the_rate(tmp_path: Path) -> None:
    clock = HandClock()
    limiter = NodeLimiter(tmp_path / "limits.bin", clock)
    assert admitted(limiter, "acme", 10, 50, 80) == 50
    refused = limiter.acquire("acme", 10, 50)
    assert not refused.admitted and 0 < refused.wait <= 0.1001
    clock.advance(1.0)
    assert admitted(limiter, "acme", 10, 50, 80) == 10
    clock.advance(3600)  # never more than the burst, however long it rested
    assert admitted(limiter, "acme", 10, 50, 80) == 50


def test_workspaces_have_buckets_of_their_own(tmp_path: Path) -> None:
    limiter = NodeLimiter(tmp_path / "limits.bin", HandClock())
    assert admitted(limiter, "acme", 5, 5, 10) == 5
    assert admitted(limiter, "shop", 5, 5, 10) == 5


def test_two_processes_share_one_bucket(tmp_path: Path) -> None:
    # Two limiters on one file are two workers: each takes leases from the same bucket.
    clock = HandClock()
    one, two = NodeLimiter(tmp_path / "limits.bin", clock), NodeLimiter(tmp_path / "limits.bin", clock)
    total = 0
    for _ in range(100):
        total += one.acquire("acme", 100, 100).admitted + two.acquire("acme", 100, 100).admitted
    assert total == 100
    clock.advance(0.5)
    total = sum(one.acquire("acme", 100, 100).admitted + two.acquire("acme", 100, 100).admitted for _ in range(100))
    # 50 tokens refilled; a lease still held by one of them (5 tokens) may be spent by it alone.
    assert 50 <= total <= 50 + lease_size(100, 100)


def test_remaining_and_wait_describe_the_bucket(tmp_path: Path) -> None:
    clock = HandClock()
    limiter = NodeLimiter(tmp_path / "limits.bin", clock)
    first = limiter.acquire("acme", 100, 200)
    assert first.admitted and first.remaining == 199 and 0 < first.wait <= 0.02
    for _ in range(199):
        limiter.acquire("acme", 100, 200)
    refused = limiter.acquire("acme", 100, 200)
    assert not refused.admitted and refused.remaining == 0


def test_unspent_leases_are_dropped_after_a_second(tmp_path: Path) -> None:
    clock = HandClock()
    one, two = NodeLimiter(tmp_path / "limits.bin", clock), NodeLimiter(tmp_path / "limits.bin", clock)
    assert one.acquire("acme", 100, 100).admitted  # takes a lease of 5, spends 1
    assert admitted(two, "acme", 100, 100, 200) == 95
    clock.advance(2.0)  # the bucket is full again; one's 4 leftover tokens are old and gone
    assert admitted(one, "acme", 100, 100, 200) == 100


def test_a_full_probe_window_reuses_the_slot_used_longest_ago(tmp_path: Path) -> None:
    clock = HandClock()
    table = BucketTable(tmp_path / "limits.bin", slots=4)
    for index, name in enumerate(["a", "b", "c", "d", "e", "f"]):
        clock.advance(1)
        taken, _ = table.take(slot_key(name), 1, 10, 3, clock.monotonic())
        assert taken == 3, index
    # "a" lost its slot to a later workspace: it starts again with a full bucket.
    taken, left = table.take(slot_key("a"), 1, 10, 10, clock.monotonic())
    assert taken == 10 and left == 0
    table.close()


def test_a_table_from_another_layout_is_started_again(tmp_path: Path) -> None:
    path = tmp_path / "limits.bin"
    path.write_bytes(b"not a table")
    limiter = NodeLimiter(path, HandClock())
    assert admitted(limiter, "acme", 1, 3, 5) == 3
    assert path.stat().st_size > 1000


def test_a_table_that_cannot_be_written_admits_and_reports_degraded(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder should be")
    limiter = NodeLimiter(blocked / "run" / "limits.bin", HandClock())
    assert admitted(limiter, "acme", 1, 1, 5) == 5
    assert limiter.health() == "degraded"


def _hammer(path: str, seconds: float, results: multiprocessing.Queue[int]) -> None:
    limiter = NodeLimiter(Path(path))
    end = time.monotonic() + seconds
    count = 0
    while time.monotonic() < end:
        count += limiter.acquire("acme", 100, 100).admitted
        time.sleep(0.0002)
    results.put(count)


def test_real_processes_together_admit_the_rate(tmp_path: Path) -> None:
    # Two processes asking ~2,500 times a second each for 2 s: together they get the burst plus 2 s of rate.
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[int] = context.Queue()
    workers = [context.Process(target=_hammer, args=(str(tmp_path / "t.bin"), 2.0, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    counts = [results.get(timeout=30) for _ in workers]
    for worker in workers:
        worker.join(10)
    expected = 100 + 2.0 * 100
    assert abs(sum(counts) - expected) <= 0.1 * expected, counts
    assert all(count > 50 for count in counts), counts  # both got a share
