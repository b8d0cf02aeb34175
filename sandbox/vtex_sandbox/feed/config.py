"""A feed configuration: the body of ``POST /api/orders/feed/config``, checked strictly, and the
answer of ``GET /api/orders/feed/config``.

Written from VTEX's OpenAPI file (``FeedConfiguration``, ``GetFeedConfiguration``) and its help center:

* ``filter.type`` is ``FromWorkflow`` (events when the status changes to one of ``filter.status``) or
  ``FromOrders`` (events on any change of an order for which the JSONata ``filter.expression`` is true;
  ``disableSingleFire`` false -- the default -- means once per order);
* ``queue.visibilityTimeoutInSeconds`` (the help center: "up to 43200 seconds (12 hours)") and
  ``queue.MessageRetentionPeriodInSeconds`` (capital M in the file's request, small m in GET's answer; at
  most 1209600). Property names are matched without regard to case, as VTEX's .NET readers match them
  (``validation.common.canonical_keys``): vtexpy, a client in production use, sends the small m. The lower bounds are not documented; the sandbox takes those of Amazon SQS, whose receipt
  handles VTEX's feed hands out: a visibility timeout from 0 and a retention from 60 seconds.

Every refusal is a 400 that names the field (``filter.status[2]``) and says what to send instead.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vtex_sandbox.errors import bad_request
from vtex_sandbox.feed.expressions import Expression, compile_expression
from vtex_sandbox.validation.common import canonical_keys, is_int

if TYPE_CHECKING:
    from collections.abc import Iterable

FROM_WORKFLOW = "FromWorkflow"
FROM_ORDERS = "FromOrders"
MAX_VISIBILITY_TIMEOUT = 43_200
MIN_RETENTION = 60
MAX_RETENTION = 1_209_600

#: The statuses a FromWorkflow filter may name: VTEX's list ("Status available to filter"), exactly. The
#: sandbox plays only some of them (see ``model.STATUS_DESCRIPTIONS``; not waiting-for-sellers-confirmation,
#: which VTEX's list lacks); a feed filtered on the others stays empty.
WORKFLOW_STATUSES: tuple[str, ...] = (
    "order-created",
    "on-order-completed",
    "on-order-completed-ffm",
    "payment-pending",
    "waiting-for-order-authorization",
    "approve-payment",
    "payment-approved",
    "request-cancel",
    "waiting-for-seller-decision",
    "waiting-ffmt-authorization",
    "waiting-for-authorization",
    "waiting-for-manual-authorization",
    "authorize-fulfillment",
    "order-create-error",
    "order-creation-error",
    "window-to-cancel",
    "window-to-change-seller",
    "waiting-for-mkt-authorization",
    "waiting-seller-handling",
    "ready-for-handling",
    "start-handling",
    "handling",
    "invoice-after-cancellation-deny",
    "order-accepted",
    "invoice",
    "invoiced",
    "replaced",
    "cancellation-requested",
    "cancel",
    "canceled",
)

_ROOT_FIELDS = ("filter", "queue")
_FILTER_FIELDS = ("type", "status", "expression", "disableSingleFire")
_QUEUE_FIELDS = ("visibilityTimeoutInSeconds", "MessageRetentionPeriodInSeconds")
_READ_ONLY = ("quantity", "approximateAgeOfOldestMessageInSeconds")


@dataclass(frozen=True)
class FeedFilter:
    """Which order changes enter the feed."""

    type: str
    statuses: tuple[str, ...] = ()
    expression: Expression | None = None
    disable_single_fire: bool | None = None

    def view(self) -> dict[str, Any]:
        """As GET answers it: the fields of the filter's type (``disableSingleFire`` false by default)."""
        if self.type == FROM_WORKFLOW:
            view: dict[str, Any] = {"type": self.type, "status": list(self.statuses)}
            if self.disable_single_fire is not None:
                view["disableSingleFire"] = self.disable_single_fire
            return view
        assert self.expression is not None
        return {
            "type": self.type,
            "expression": self.expression.text,
            "disableSingleFire": bool(self.disable_single_fire),
        }

    def same_as(self, other: FeedFilter) -> bool:
        """Whether two filters select the same changes (a re-POSTed configuration keeps its memory of the
        orders already fired only when its filter did not change)."""
        mine = (self.type, self.statuses, self.expression.text if self.expression else None)
        theirs = (other.type, other.statuses, other.expression.text if other.expression else None)
        return mine == theirs and bool(self.disable_single_fire) == bool(other.disable_single_fire)


@dataclass(frozen=True)
class FeedSettings:
    """A whole configuration: the filter and the queue's two timers (seconds)."""

    filter: FeedFilter
    visibility_timeout: int
    retention: int

    def view(self, quantity: int, oldest_age: float) -> dict[str, Any]:
        """``GET /api/orders/feed/config``, shaped like VTEX's example (small m in the answer)."""
        return {
            "filter": self.filter.view(),
            "queue": {
                "visibilityTimeoutInSeconds": self.visibility_timeout,
                "messageRetentionPeriodInSeconds": self.retention,
            },
            "quantity": quantity,
            "approximateAgeOfOldestMessageInSeconds": oldest_age,
        }


def parse_feed_config(body: Any, sample_order: dict[str, Any]) -> FeedSettings:
    """Check a configuration body; a FromOrders expression is compiled and tried on ``sample_order`` (an
    order as GET order shows it), so an expression that cannot run on an order is refused now, not
    silently at every change."""
    read_only = {name: _read_only(name) for name in _READ_ONLY}
    root = _object(body, "The request body", _ROOT_FIELDS, messages=read_only)
    for name in _ROOT_FIELDS:
        if name not in root:
            raise bad_request(
                f"{name} is required: send {{'filter': {{'type': 'FromWorkflow', 'status': ['ready-for-handling']}}, "
                "'queue': {'visibilityTimeoutInSeconds': 250, 'MessageRetentionPeriodInSeconds': 345600}}"
            )
    feed_filter = _parse_filter(root["filter"], sample_order)
    visibility, retention = _parse_queue(root["queue"])
    return FeedSettings(feed_filter, visibility, retention)


def parse_filter(value: Any, sample_order: dict[str, Any]) -> FeedFilter:
    """A feed filter, checked as in a configuration (the order hook's filter is the same)."""
    return _parse_filter(value, sample_order)


def _parse_filter(value: Any, sample_order: dict[str, Any]) -> FeedFilter:
    data = _object(value, "filter", _FILTER_FIELDS)
    kind = data.get("type")
    if kind not in (FROM_WORKFLOW, FROM_ORDERS):
        raise bad_request(
            f"filter.type must be '{FROM_WORKFLOW}' (events when an order's status changes, filtered by "
            f"filter.status) or '{FROM_ORDERS}' (events on any change, filtered by the JSONata "
            f"filter.expression), not {kind!r}"
        )
    single_fire = data.get("disableSingleFire")
    if "disableSingleFire" in data and not isinstance(single_fire, bool):
        raise bad_request(f"filter.disableSingleFire must be true or false, not {single_fire!r}")
    if kind == FROM_WORKFLOW:
        if "expression" in data:
            raise bad_request(
                "filter.expression is for FromOrders filters; a FromWorkflow filter selects by filter.status"
            )
        return FeedFilter(FROM_WORKFLOW, _parse_statuses(data.get("status")), None, single_fire)
    if "status" in data:
        raise bad_request(
            "filter.status is for FromWorkflow filters; a FromOrders filter selects with filter.expression "
            "(e.g. 'status = \"ready-for-handling\"')"
        )
    if "expression" not in data:
        raise bad_request(
            "filter.expression is required for a FromOrders filter: a JSONata condition on the order, e.g. "
            "'value > 100' or 'status = \"payment-pending\"'"
        )
    expression = compile_expression(data["expression"], "filter.expression")
    expression.matches(sample_order, "filter.expression")
    return FeedFilter(FROM_ORDERS, (), expression, single_fire)


def _parse_statuses(value: Any) -> tuple[str, ...]:
    if value is None:
        raise bad_request(
            "filter.status is required for a FromWorkflow filter: the list of statuses whose changes enter "
            "the feed, e.g. ['ready-for-handling', 'canceled']"
        )
    if not isinstance(value, list) or not value:
        raise bad_request(f"filter.status must be a non-empty list of order statuses, not {value!r}")
    for index, status in enumerate(value):
        if status not in WORKFLOW_STATUSES:
            hint = _closest(status, WORKFLOW_STATUSES) if isinstance(status, str) else ""
            raise bad_request(
                f"filter.status[{index}] is {status!r}, not a status VTEX's feed can filter on{hint}; "
                f"the statuses are: {', '.join(WORKFLOW_STATUSES)}"
            )
    return tuple(dict.fromkeys(value))


def _parse_queue(value: Any) -> tuple[int, int]:
    data = _object(value, "queue", _QUEUE_FIELDS)
    visibility = _seconds(data, "visibilityTimeoutInSeconds", 0, MAX_VISIBILITY_TIMEOUT)
    retention = _seconds(data, "MessageRetentionPeriodInSeconds", MIN_RETENTION, MAX_RETENTION)
    return visibility, retention


def _seconds(data: dict[str, Any], name: str, low: int, high: int) -> int:
    if name not in data:
        raise bad_request(f"queue.{name} is required (whole seconds from {low} to {high})")
    value = data[name]
    if not is_int(value) or not low <= value <= high:
        raise bad_request(f"queue.{name} must be whole seconds from {low} to {high}, not {value!r}")
    return value


def _read_only(name: str) -> str:
    return f"{name} is read-only (GET /api/orders/feed/config answers it): send only filter and queue"


def _object(
    value: Any, where: str, fields: tuple[str, ...], messages: dict[str, str] | None = None
) -> dict[str, Any]:
    """``value`` as an object with no key outside ``fields`` (in any letter case: see
    ``canonical_keys``, which renames them to the fields' spelling); ``messages`` explains known wrong
    keys, and a near miss (``filters``) is named."""
    if not isinstance(value, dict):
        raise bad_request(f"{where} must be a JSON object, not {_json_type(value)}")
    prefix = "" if where == "The request body" else f"{where}."
    data = canonical_keys(value, (*fields, *(messages or {})), prefix)
    for key in data:
        if key in fields:
            continue
        if messages and key in messages:
            raise bad_request(messages[key])
        raise bad_request(
            f"{prefix}{key} is not a field of a feed configuration{_closest(key, fields)}; "
            f"the fields here are: {', '.join(fields)}"
        )
    return data


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else type(value).__name__


def _closest(word: str, choices: Iterable[str]) -> str:
    found = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {found[0]!r}?)" if found else ""
