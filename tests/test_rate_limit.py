"""The shared client-side rate limit: a sliding one-second window, and pauses after a 429."""

from __future__ import annotations

import threading
import time

import pytest

from airflow_provider_vtex.hooks.rate_limit import RequestRateLimiter


def start_times(limiter: RequestRateLimiter, threads: int, per_thread: int) -> list[float]:
    starts: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(per_thread):
            limiter.acquire()
            with lock:
                starts.append(time.monotonic())

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sorted(starts)


def most_in_any_second(starts: list[float]) -> int:
    return max(sum(1 for t in starts if s <= t < s + 1.0) for s in starts)


def test_never_more_than_the_cap_in_any_one_second_window() -> None:
    starts = start_times(RequestRateLimiter(20), threads=8, per_thread=6)  # 48 requests at 20/s
    assert len(starts) == 48
    assert most_in_any_second(starts) <= 20


def test_no_cap_means_no_waiting() -> None:
    limiter = RequestRateLimiter(None)
    assert sum(limiter.acquire() for _ in range(1000)) == 0


def test_a_hold_pauses_the_other_threads_but_not_the_one_that_sleeps_it() -> None:
    limiter = RequestRateLimiter(None)
    limiter.hold(0.3)
    assert limiter.acquire() == 0  # this thread sleeps its own Retry-After
    waited: list[float] = []
    other = threading.Thread(target=lambda: waited.append(limiter.acquire()))
    other.start()
    other.join()
    assert 0.2 <= waited[0] <= 1.0


def test_rates_below_one_per_second_space_requests() -> None:
    starts = start_times(RequestRateLimiter(0.9), threads=2, per_thread=1)
    assert starts[1] - starts[0] >= 1 / 0.9


def test_invalid_cap_is_refused() -> None:
    with pytest.raises(ValueError, match="max_per_second must be > 0"):
        RequestRateLimiter(0)
