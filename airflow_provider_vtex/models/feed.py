"""VTEX's order feed (Feed v3): its configuration (what we send) and its items (what VTEX answers).

The feed is one queue per AppKey. ``GET /api/orders/feed?maxlot=N`` hands out up to 10 items, each with a
``handle``; an item not committed (``POST /api/orders/feed`` with its handle) becomes visible again after
the queue's visibility timeout, so an ERP that commits only after it has the order never loses one.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from airflow_provider_vtex.models.base import VtexPayload
from airflow_provider_vtex.models.types import NonEmptyText

#: Items VTEX hands out per feed read at most.
MAX_LOT = 10
#: Longest retention VTEX accepts for feed items (14 days).
MAX_RETENTION_SECONDS = 1_209_600


class FeedFilter(VtexPayload):
    """Which order changes enter the feed: status changes (``FromWorkflow``) or any change matching a
    JSONata expression (``FromOrders``)."""

    payload_name: ClassVar[str] = "feed filter"
    required_hints: ClassVar[dict[str, str]] = {"type": "add 'type': 'FromWorkflow' or 'FromOrders'"}

    type: Literal["FromWorkflow", "FromOrders"]
    status: list[NonEmptyText] | None = None
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


class FeedItem(_Answer):
    """One feed event: an order that changed (``state``, ``last_state``), and the ``handle`` to commit."""

    event_id: str = Field(alias="eventId")
    handle: str
    order_id: str = Field(alias="orderId")
    state: str
    last_state: str | None = Field(default=None, alias="lastState")
    last_change: str | None = Field(default=None, alias="lastChange")
    current_change: str | None = Field(default=None, alias="currentChange")
    domain: str | None = None

    def to_xcom(self) -> dict[str, Any]:
        """Plain JSON for XCom, snake_case."""
        return {name: getattr(self, name) for name in type(self).model_fields}


class FeedStatus(_Answer):
    """``GET /api/orders/feed/config``: the configuration plus the queue's size and age."""

    filter: dict[str, Any] | None = None
    queue: dict[str, Any] | None = None
    quantity: int | None = None
    approximate_age_of_oldest_message_in_seconds: float | None = Field(
        default=None, alias="approximateAgeOfOldestMessageInSeconds"
    )
