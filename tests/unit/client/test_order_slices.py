"""Reading a creation-date range past the order list's 30-page cap: every order once, in windows that
each fit the cap, with memory bounded by the cap, not by the range."""

from __future__ import annotations

import bisect
import datetime as dt
from typing import Any

import pytest

from airflow_provider_vtex.client.order_slices import MAX_PAGES, Window, as_utc, read_range
from airflow_provider_vtex.exceptions import VtexPayloadError
from airflow_provider_vtex.models.results import OrderList

START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


class FakeList:
    """VTEX's list over ``orders`` (id, creation datetime): an inclusive creation-date filter, sorted by
    creation date, 30 pages at most (a page past them is an error, as VTEX refuses it)."""

    def __init__(self, orders: list[tuple[str, dt.datetime]]) -> None:
        self.orders = sorted(orders, key=lambda o: o[1])
        self.times = [_ms(at) for _, at in self.orders]
        self.requests: list[tuple[Window, int]] = []

    def __call__(self, window: Window, page: int, per_page: int = 100) -> OrderList:
        assert 1 <= page <= MAX_PAGES, f"page {page} is past the list's cap"
        self.requests.append((window, page))
        # VTEX's filter has millisecond precision: both ends compared at the millisecond.
        low = bisect.bisect_left(self.times, _ms(window.start))
        high = bisect.bisect_right(self.times, _ms(window.end))
        inside = self.orders[low:high]
        chunk = inside[(page - 1) * per_page : page * per_page]
        return OrderList.from_answer(
            {
                "list": [{"orderId": oid, "creationDate": at.isoformat()} for oid, at in chunk],
                "paging": {"total": len(inside), "pages": -(-len(inside) // per_page), "currentPage": page},
            }
        )


def _ms(moment: dt.datetime) -> dt.datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def spread(count: int, over: dt.timedelta, prefix: str = "o") -> list[tuple[str, dt.datetime]]:
    return [(f"{prefix}{n}-01", START + over * n / count) for n in range(count)]


def test_a_range_past_the_cap_is_read_in_full_and_once_in_windows_that_fit() -> None:
    orders = spread(7_500, dt.timedelta(days=1))
    fake = FakeList(orders)

    read = [o["orderId"] for o in read_range(fake, START, START + dt.timedelta(days=1))]

    assert sorted(read) == sorted(oid for oid, _ in orders)
    assert len(read) == len(set(read))
    assert max(page for _, page in fake.requests) <= MAX_PAGES
    # it was sliced: more than one window, each read holding at most the cap
    assert len({window for window, _ in fake.requests}) > 2


def test_a_range_within_the_cap_is_one_window_read_page_by_page() -> None:
    fake = FakeList(spread(250, dt.timedelta(hours=1)))

    read = list(read_range(fake, START, START + dt.timedelta(hours=1)))

    assert len(read) == 250
    assert [page for _, page in fake.requests] == [1, 2, 3]


def test_an_order_at_the_instant_two_windows_share_is_read_once() -> None:
    # Many orders exactly at the middle of the range: both halves hold them.
    middle = START + dt.timedelta(hours=12)
    orders = spread(3_000, dt.timedelta(hours=12)) + [(f"m{n}-01", middle) for n in range(50)]
    orders += [(f"late{n}-01", middle + dt.timedelta(seconds=n + 1)) for n in range(100)]
    fake = FakeList(orders)

    read = [o["orderId"] for o in read_range(fake, START, START + dt.timedelta(days=1))]

    assert len(read) == len(set(read)) == len(orders)


def test_more_orders_in_one_millisecond_than_the_cap_cannot_be_read_in_full_and_says_so() -> None:
    fake = FakeList([(f"x{n}-01", START) for n in range(3_001)])

    with pytest.raises(VtexPayloadError, match="one millisecond"):
        list(read_range(fake, START, START + dt.timedelta(minutes=1)))


def test_memory_is_bounded_by_windows_not_by_the_range() -> None:
    # A year of orders: the reader is a generator; it holds pending windows and two windows' ids only.
    orders = spread(40_000, dt.timedelta(days=365))
    fake = FakeList(orders)
    reader = read_range(fake, START, START + dt.timedelta(days=365))

    first = [next(reader)["orderId"] for _ in range(10)]

    assert first == [f"o{n}-01" for n in range(10)]  # oldest first, before the year is read
    assert len(fake.requests) < 30  # only the windows leading to the first one were probed
    assert sum(1 for _ in reader) == 40_000 - 10


@pytest.mark.parametrize(
    ("value", "problem"),
    [("2024-01-01T00:00:00", "no time zone"), ("yesterday", "not an ISO 8601"), (12, "must be a datetime")],
)
def test_range_bounds_need_a_time_zone_and_a_date(value: Any, problem: str) -> None:
    with pytest.raises(VtexPayloadError, match=problem):
        as_utc(value, "start")


def test_an_end_before_the_start_is_refused_before_any_request() -> None:
    fake = FakeList([])
    with pytest.raises(VtexPayloadError, match="before start"):
        list(read_range(fake, START, START - dt.timedelta(seconds=1)))
    assert fake.requests == []


def test_windows_use_vtex_s_filter_format() -> None:
    window = Window(START, START + dt.timedelta(milliseconds=1500))
    assert (
        window.creation_date_filter == "creationDate:[2024-01-01T00:00:00.000Z TO 2024-01-01T00:00:01.500Z]"
    )
    assert as_utc("2024-01-01T00:00:00Z", "start") == START
