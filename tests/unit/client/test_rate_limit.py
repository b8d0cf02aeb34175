"""The request-rate cap: no window at the server can see more than the cap, whatever the network's jitter;
starts are paced; a 429 pauses every thread.

A request reaches the server somewhere between its start and its answer. A set of cap + 1 requests can
all land in one one-second window exactly when the latest start is less than a second after the
earliest answer; the tests check that no such set exists, with real threads and real (random) latencies.
"""

from __future__ import annotations

import random
import threading
import time

import pytest

from airflow_provider_vtex.client.rate_limit import RequestRateLimiter


def run_requests(
    limiter: RequestRateLimiter, threads: int, per_thread: int, max_latency: float
) -> list[tuple[float, float]]:
    """``(start, answer)`` of each request, each taking a random latency up to ``max_latency``."""
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(per_thread):
            with limiter.slot():
                start = time.monotonic()
                time.sleep(random.uniform(0, max_latency))
                end = time.monotonic()
            with lock:
                spans.append((start, end))

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sorted(spans)


def most_that_can_meet_in_one_second(spans: list[tuple[float, float]]) -> int:
    """The largest set of requests whose arrivals could all fall in one one-second window."""
    best = 0
    for start, _ in spans:
        together = sum(1 for s, e in spans if s <= start and e > start - 1.0)
        best = max(best, together)
    return best


@pytest.mark.parametrize("max_latency", [0.0, 0.3])
def test_no_window_at_the_server_can_hold_more_than_the_cap(max_latency: float) -> None:
    spans = run_requests(RequestRateLimiter(5), threads=4, per_thread=4, max_latency=max_latency)
    assert len(spans) == 16
    assert most_that_can_meet_in_one_second(spans) <= 5


def test_a_window_of_starts_alone_would_not_be_enough() -> None:
    """The check above can fail: requests started 0.3 s apart whose answers take 0.8 s can all arrive
    within one second at the server, though no second holds more than a few starts."""
    spans = [(i * 0.3, i * 0.3 + 0.8) for i in range(7)]
    assert most_that_can_meet_in_one_second(spans) > 5


def test_starts_are_paced_evenly_not_in_bursts() -> None:
    spans = run_requests(RequestRateLimiter(5), threads=5, per_thread=2, max_latency=0.0)
    starts = [start for start, _ in spans]
    in_half_a_second = max(sum(1 for t in starts if s <= t < s + 0.5) for s in starts)
    assert in_half_a_second <= 3  # one start every 1/5 s; a burst would put all five in the first instant


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
    assert waited[0] >= 0.2


def test_rates_below_one_per_second_space_requests() -> None:
    spans = run_requests(RequestRateLimiter(0.9), threads=2, per_thread=1, max_latency=0.0)
    assert spans[1][0] - spans[0][1] >= 1 / 0.9 * 0.95


@pytest.mark.parametrize("cap", [0, -1, float("nan"), float("inf")])
def test_invalid_cap_is_refused(cap: float) -> None:
    with pytest.raises(ValueError, match="max_per_second must be a number > 0"):
        RequestRateLimiter(cap)
