"""VTEX's order feed (Feed v3): its configuration (what we send) and its items (what VTEX answers).

The feed is one queue per AppKey. ``GET /api/orders/feed?maxlot=N`` hands out up to 10 items, each with a
``handle``; an item not committed (``POST /api/orders/feed`` with its handle) becomes visible again after
the queue's visibility timeout, so an ERP that commits only after it has the order never loses one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from airflow_provider_vtex.exceptions import VtexUnexpectedResponseError, json_kind
from airflow_provider_vtex.models.base import VtexPayload
from airflow_provider_vtex.models.types import (
    MAX_ID_LENGTH,
    MAX_TEXT,
    NonEmptyText,
    at_most_items,
    is_path_safe,
)

#: Items VTEX hands out per feed read at most.
MAX_LOT = 10
#: Longest retention VTEX accepts for feed items (14 days).
MAX_RETENTION_SECONDS = 1_209_600
#: Statuses a FromWorkflow filter lists at most (VTEX's order workflow has about twenty).
MAX_STATUSES = 100
#: Longest feed handle read or committed. VTEX's handles are opaque tokens of a few hundred characters;
#: VTEX documents no limit, so the bound sits far above them and far below what harms a request (a 2 MB
#: handle is refused before it is sent, naming the fix).
MAX_HANDLE_LENGTH = 8_192


class FeedFilter(VtexPayload):
    """Which order changes enter the feed: status changes (``FromWorkflow``) or any change matching a
    JSONata expression (``FromOrders``)."""

    payload_name: ClassVar[str] = "feed filter"
    required_hints: ClassVar[dict[str, str]] = {"type": "add 'type': 'FromWorkflow' or 'FromOrders'"}

    type: Literal["FromWorkflow", "FromOrders"]
    status: (
        Annotated[
            list[NonEmptyText],
            at_most_items(MAX_STATUSES, "statuses", "VTEX's order workflow has about twenty"),
        ]
        | None
    ) = None
    expression: NonEmptyText | None = None
    disable_single_fire: bool | None = None

    @model_validator(mode="after")
    def _matches_type(self) -> FeedFilter:
        if self.type == "FromWorkflow" and not self.status:
            raise ValueError(
                "a FromWorkflow filter needs 'status', the list of statuses that enter the feed, "
                "e.g. ['ready-for-handling']"
            )
        if self.type == "FromWorkflow" and self.expression is not None:
            raise ValueError("'expression' is for FromOrders filters; a FromWorkflow filter takes 'status'")
        if self.type == "FromOrders" and not self.expression:
            raise ValueError(
                "a FromOrders filter needs 'expression', a JSONata condition on the order, "
                "e.g. 'status = \"ready-for-handling\"'"
            )
        if self.type == "FromOrders" and self.status is not None:
            raise ValueError("'status' is for FromWorkflow filters; a FromOrders filter takes 'expression'")
        return self


class FeedQueue(VtexPayload):
    """How long a handed-out item stays invisible, and how long an item lives in the queue."""

    payload_name: ClassVar[str] = "feed queue"

    visibility_timeout_in_seconds: Annotated[int, Field(ge=1)] = 250
    message_retention_period_in_seconds: Annotated[
        int,
        Field(
            ge=60,
            le=MAX_RETENTION_SECONDS,
            # VTEX spells this one with a capital M on the wire, and answers it with a small one.
            alias="MessageRetentionPeriodInSeconds",
            validation_alias=AliasChoices(
                "MessageRetentionPeriodInSeconds",
                "messageRetentionPeriodInSeconds",
                "message_retention_period_in_seconds",
            ),
        ),
    ] = 345_600


class FeedConfig(VtexPayload):
    """The body of ``POST /api/orders/feed/config``."""

    payload_name: ClassVar[str] = "feed configuration"
    required_hints: ClassVar[dict[str, str]] = {
        "filter": "add a filter, e.g. {'type': 'FromWorkflow', 'status': ['ready-for-handling']}",
    }

    filter: FeedFilter
    queue: FeedQueue = Field(default_factory=FeedQueue)

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class _Answer(BaseModel):
    """A VTEX answer: camelCase keys, unknown keys kept (VTEX adds fields over time)."""

    model_config = ConfigDict(populate_by_name=True, extra="allow", frozen=True)


def _bounded(limit: int, what: str) -> AfterValidator:
    """Text of at most ``limit`` characters, not blank; the message never quotes the value (a poison
    item's value may be megabytes, or hold what must not reach a log)."""

    def check(value: str) -> str:
        if not value.strip():
            raise ValueError(f"is empty; VTEX's {what} is never empty")
        if len(value) > limit:
            raise ValueError(f"has {len(value):,} characters; VTEX's {what} has at most {limit:,}")
        return value

    return AfterValidator(check)


def _routable(value: str) -> str:
    if not is_path_safe(value):
        raise ValueError(
            "is not an order id the order routes can take (letters, digits, '.', '-', '_', at most "
            f"{MAX_ID_LENGTH} characters)"
        )
    return value


_FeedText = Annotated[str, Field(strict=True), _bounded(MAX_TEXT, "text in a feed item")]


class FeedItem(_Answer):
    """One feed event: an order that changed (``state``, ``last_state``), and the ``handle`` to commit.

    Read strictly: a field of the wrong type, a blank or oversized id or an order id the routes cannot
    take makes the item *unreadable* (see :class:`FeedLot`), not a guess handed to a DAG.
    """

    event_id: _FeedText = Field(alias="eventId")
    handle: Annotated[str, Field(strict=True), _bounded(MAX_HANDLE_LENGTH, "feed handle")]
    order_id: Annotated[str, Field(strict=True), AfterValidator(_routable)] = Field(alias="orderId")
    state: _FeedText
    last_state: _FeedText | None = Field(default=None, alias="lastState")
    last_change: _FeedText | None = Field(default=None, alias="lastChange")
    current_change: _FeedText | None = Field(default=None, alias="currentChange")
    domain: _FeedText | None = None

    def to_xcom(self) -> dict[str, Any]:
        """Plain JSON for XCom, snake_case."""
        return {name: getattr(self, name) for name in type(self).model_fields}


#: Characters of an unreadable item's event id or handle quoted in a report (enough to find it in VTEX's
#: or the ERP's logs; a longer one is cut, so a 2 MB handle never becomes a 2 MB log line).
REPORTED_ID_CHARS = 120


@dataclass(frozen=True)
class UnreadableFeedItem:
    """A feed item the provider could not read, set aside so the good items of its lot go on.

    Holds what identifies it and why it was refused, never its raw body: an item is VTEX's (or a
    gateway's) text, and may quote anything. ``event_id`` and ``handle`` are the item's own when they are
    text (cut at :data:`REPORTED_ID_CHARS`, ending with ``…``, in :attr:`event_id`); ``handle`` is
    ``None`` when the item has no handle that could be committed (missing, not text, or too long), and
    then VTEX hands it out again after every visibility timeout until its retention ends.
    ``problems`` are ``"field: what is wrong"`` lines, without values.
    """

    position: int
    event_id: str | None
    handle: str | None
    order_id: str | None
    problems: tuple[str, ...]

    def to_xcom(self) -> dict[str, Any]:
        """Plain JSON (the trigger's ``unreadable`` event and the read operator's XCom carry it)."""
        return {
            "event_id": self.event_id,
            "handle": self.handle,
            "order_id": self.order_id,
            "problems": list(self.problems),
        }

    def describe(self) -> str:
        """One line for a warning: which item (event id, handle) and why; never its body."""
        handle = self.handle if self.handle is None else _cut(self.handle)
        return (
            f"feed item #{self.position + 1} of the lot (eventId {self.event_id!r}, handle {handle!r}), "
            f"unreadable: {'; '.join(self.problems)}"
        )


@dataclass(frozen=True)
class FeedLot:
    """One feed read: the items the provider read, and those it set aside as unreadable."""

    items: list[FeedItem]
    unreadable: list[UnreadableFeedItem]

    @property
    def unreadable_handles(self) -> list[str]:
        """The handles of the unreadable items that have one that can be committed."""
        return [item.handle for item in self.unreadable if item.handle is not None]

    @classmethod
    def from_answer(cls, answer: Any, path: str) -> FeedLot:
        """The lot in VTEX's answer to ``GET path``; a body that is not a JSON list is an error (a gateway
        or a changed API answered), never read as "no items"."""
        if not isinstance(answer, list):
            raise VtexUnexpectedResponseError(
                f"VTEX answered GET {path} with 200 but {json_kind(answer)}, where the feed answers a JSON "
                "list of items: a gateway or cache answered instead of VTEX's feed, or its answer changed. "
                "Nothing was read or committed; the next read tries again.",
                http_status=200,
                method="GET",
                path=path,
            )
        items: list[FeedItem] = []
        unreadable: list[UnreadableFeedItem] = []
        for position, raw in enumerate(answer):
            try:
                if not isinstance(raw, dict):
                    raise TypeError(f"(item): is {json_kind(raw)}, not a JSON object")
                items.append(FeedItem.model_validate(raw))
            except ValidationError as exc:
                unreadable.append(_unreadable(position, raw, _problems(exc)))
            except TypeError as exc:
                unreadable.append(_unreadable(position, raw, (str(exc),)))
        return cls(items, unreadable)


def _unreadable(position: int, raw: Any, problems: tuple[str, ...]) -> UnreadableFeedItem:
    body = raw if isinstance(raw, dict) else {}
    event_id, handle, order_id = body.get("eventId"), body.get("handle"), body.get("orderId")
    committable = isinstance(handle, str) and 0 < len(handle) <= MAX_HANDLE_LENGTH and handle.strip()
    return UnreadableFeedItem(
        position=position,
        event_id=_cut(event_id) if isinstance(event_id, str) else None,
        handle=handle if committable else None,
        order_id=order_id if isinstance(order_id, str) and is_path_safe(order_id) else None,
        problems=problems,
    )


def _problems(exc: ValidationError) -> tuple[str, ...]:
    """``field: what is wrong`` per pydantic error, never quoting the value (``error["msg"]`` of the
    built-in checks does not; ours are written not to)."""
    wire = {name: field.alias or name for name, field in FeedItem.model_fields.items()}
    lines = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        field = ".".join(wire.get(str(part), _cut(str(part), 40)) for part in error["loc"]) or "(item)"
        message = "is missing" if error["type"] == "missing" else error["msg"].removeprefix("Value error, ")
        lines.append(f"{field}: {message[:1].lower()}{message[1:]}")
    return tuple(lines)


def _cut(text: str, limit: int = REPORTED_ID_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class FeedStatus(_Answer):
    """``GET /api/orders/feed/config``: the configuration plus the queue's size and age."""

    filter: dict[str, Any] | None = None
    queue: dict[str, Any] | None = None
    quantity: int | None = None
    approximate_age_of_oldest_message_in_seconds: float | None = Field(
        default=None, alias="approximateAgeOfOldestMessageInSeconds"
    )
