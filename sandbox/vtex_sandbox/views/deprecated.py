"""How the sandbox answers VTEX's two deprecated Orders API operations, and why.

* **Feed v2** (``GET /api/oms/pvt/feed/orders/status``): VTEX announced on 2019-06-12 that Feed v1 and v2
  would be discontinued on 2019-07-25, "after this date, only Feed v3 will be available" (help center,
  announcement "Order Management Module Feed v1 and v2 discontinuation"). The file still lists the route
  (deprecated, no answer schema); the sandbox answers **410 Gone** naming Feed v3, so a client still
  polling it learns at once instead of reading an empty feed forever.
* **Register modifications** (``POST /api/oms/pvt/orders/{orderId}/changes``): the file says VTEX stopped
  supporting it on 2025-12-31 and deprecates it from 2026-03-01, replaced by order modifications
  (``PATCH /api/order-system/orders/{changeOrderId}/changes``). It is still documented with its 200
  answer, so the sandbox still applies it (at once, ``requestId`` making a repeat harmless) and marks the
  answer deprecated with RFC 9745's ``Deprecation`` header and a ``Link`` to its successor.
"""

from __future__ import annotations

from typing import Any

from vtex_sandbox.errors import bad_request, error_body

#: 2026-03-01T00:00:00Z as RFC 9745's ``@<epoch seconds>``.
_LEGACY_CHANGES_DEPRECATED = "@1772323200"
LEGACY_CHANGES_HEADERS: dict[str, str] = {
    "Deprecation": _LEGACY_CHANGES_DEPRECATED,
    "Link": '</api/order-system/orders/{changeOrderId}/changes>; rel="successor-version"',
}
CODE_GONE = "OMS410"  # invented: VTEX documents no answer for the discontinued Feed v2


def check_feed_v2_query(query: dict[str, list[str]]) -> None:
    """The route's own contract first (``maxLot``, required): a malformed call gets the 400 it always got."""
    values = query.get("maxLot", [])
    if len(values) != 1 or not values[0].isdigit():
        raise bad_request("maxLot is required: how many feed items to read, a whole number (Feed v2)")


def feed_v2_gone() -> dict[str, Any]:
    return error_body(
        CODE_GONE,
        "Feed v2 was discontinued on 2019-07-25: use Feed v3 (configure it with POST /api/orders/feed/config, "
        "read GET /api/orders/feed?maxlot=10, commit POST /api/orders/feed) or the order hook",
    )
