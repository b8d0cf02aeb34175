"""Reading a creation-date range of orders in full, past the order list's cap.

VTEX's order list (``GET /api/oms/pvt/orders``; on PII stores the search ``POST
/api/orders/extendsearch/orders``) serves at most 30 pages of at most 100 orders per query: about 3,000
orders. A longer range is read here in *windows* of ``f_creationDate``: a window whose first page says it
holds more than the cap is cut in two halves, recursively, until each half fits; each window that fits is
read page by page, sorted by creation date.

* **In full**: the halves overlap at their shared instant (both ends of VTEX's range are inclusive, and the
  filter's millisecond precision could otherwise drop an order created between two milliseconds), so no
  order falls between two windows.
* **Once each**: an order seen in the window just read, or already in this one, is not yielded again (the
  overlap, or a page boundary that moved while reading), so each order id comes out once.
* **Bounded memory**: a few pending windows (at most one per halving, about 40 for a year cut down to
  the millisecond) and the ids of two windows (at most twice the cap), whatever the range holds.

The list reads a search index that lags minutes behind the orders (VTEX says about four): an order
created in the last minutes of a range may be missing; read ranges that ended a few minutes ago, or read
the last minutes again later. No Airflow here; the hook supplies the page reads.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.exceptions import VtexPayloadError, VtexUnexpectedResponseError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from airflow_provider_vtex.models.results import OrderList

#: Pages the order list serves per query, and orders per page at most.
MAX_PAGES = 30
MAX_PER_PAGE = 100
_MS = dt.timedelta(milliseconds=1)


def as_utc(value: dt.datetime | str, what: str) -> dt.datetime:
    """A range bound as an aware UTC datetime; a naive one or unreadable text is refused (which clock it
    means is unknown)."""
    if isinstance(value, str):
        text = value
        try:
            value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise VtexPayloadError(
                "order range", [(what, f"is not an ISO 8601 date-time; got {text[:60]!r}")]
            ) from None
    if not isinstance(value, dt.datetime):
        raise VtexPayloadError(
            "order range", [(what, f"must be a datetime or ISO 8601 text; got {type(value).__name__}")]
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise VtexPayloadError(
            "order range",
            [(what, f"has no time zone ({value.isoformat()}); give one, e.g. '2024-01-01T00:00:00Z'")],
        )
    return value.astimezone(dt.timezone.utc)


@dataclass(frozen=True)
class Window:
    """A creation-date window, both ends inclusive, at VTEX's millisecond precision."""

    start: dt.datetime
    end: dt.datetime

    @property
    def creation_date_filter(self) -> str:
        """The window as VTEX's ``f_creationDate`` value."""
        return f"creationDate:[{_iso(self.start)} TO {_iso(self.end)}]"

    def halves(self) -> tuple[Window, Window] | None:
        """The two halves, overlapping at their middle instant; None when one millisecond cannot be cut."""
        if self.end - self.start <= _MS:
            return None
        middle = self.start + (self.end - self.start) / 2
        middle = middle.replace(microsecond=middle.microsecond // 1000 * 1000)
        return Window(self.start, middle), Window(middle, self.end)


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _total(page: OrderList) -> int:
    total = page.paging.get("total")
    if isinstance(total, int) and not isinstance(total, bool) and total >= 0:
        return total
    raise VtexUnexpectedResponseError(
        f"VTEX's order list answered without paging.total ({page.paging!r}), so whether the range fits "
        "in 30 pages is unknown: the range was not read.",
        http_status=200,
        method="GET",
        path="(order list)",
    )


def read_range(
    fetch: Callable[[Window, int], OrderList],
    start: dt.datetime,
    end: dt.datetime,
    *,
    per_page: int = MAX_PER_PAGE,
    on_window: Callable[[Window, int], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Each order created in ``[start, end]`` once, oldest windows first.

    :param fetch: reads page ``n`` (from 1) of one window, sorted by creation date ascending.
    :param on_window: told each window that is read and how many orders it holds (for logs).
    """
    if end < start:
        raise VtexPayloadError(
            "order range", [("end", f"is before start ({_iso(end)} < {_iso(start)}); swap them")]
        )
    cap = MAX_PAGES * per_page
    pending = [Window(start.replace(microsecond=start.microsecond // 1000 * 1000), end)]
    previous: set[str] = set()
    while pending:
        window = pending.pop()
        first = fetch(window, 1)
        total = _total(first)
        if total > cap:
            halves = window.halves()
            if halves is None:
                raise VtexPayloadError(
                    "order range",
                    [
                        (
                            "filters",
                            f"{total} orders were created in the one millisecond {_iso(window.start)}: more "
                            f"than the list's {cap}, so they cannot be read in full; narrow the filters",
                        )
                    ],
                )
            pending.extend(reversed(halves))  # the earlier half is read first
            continue
        if on_window is not None:
            on_window(window, total)
        seen: set[str] = set()
        for number in range(1, min(MAX_PAGES, math.ceil(total / per_page)) + 1):
            page = first if number == 1 else fetch(window, number)
            for order in page.orders:
                order_id = str(order.get("orderId"))
                if order_id in seen or order_id in previous:
                    continue
                seen.add(order_id)
                yield order
        previous = seen
