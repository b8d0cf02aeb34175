"""Tracking: the shipment's number, courier, URL and dispatch date, then its journey until delivery.

These routes exist on VTEX's standard route set only (``PATCH .../invoice/{invoiceNumber}`` and
``PUT .../invoice/{invoiceNumber}/tracking``); the PII data architecture has none.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field, model_validator

from airflow_provider_vtex.exceptions import VtexPayloadError
from airflow_provider_vtex.models.base import VtexPayload, as_mapping
from airflow_provider_vtex.models.types import (
    MAX_ITEMS,
    DateTimeWithOffset,
    DeliveredDate,
    EventDate,
    EventDescription,
    NonEmptyText,
    Text,
    Words,
    at_most_items,
    json_list,
)

#: The keys of the tracking-number body VTEX's schema marks required (three of them nullable).
TRACKING_KEYS = ("trackingNumber", "trackingUrl", "courier", "dispatchedDate")


class Tracking(VtexPayload):
    """The tracking number, URL, courier and dispatch date of an invoice VTEX holds.

    Keys left out (or ``None``) are not changed: the hook sends back what VTEX holds for them, since
    VTEX's schema requires all four keys and an explicit ``null`` could erase a value the invoice set.
    """

    payload_name: ClassVar[str] = "tracking"
    required_hints: ClassVar[dict[str, str]] = {
        "trackingNumber": "add the carrier's tracking code, e.g. 'trackingNumber': 'BR123456789'",
    }

    tracking_number: NonEmptyText
    tracking_url: Text | None = None
    courier: Text | None = None
    dispatched_date: DateTimeWithOffset | None = None


class TrackingEvent(VtexPayload):
    """One step of the parcel's journey, as the customer sees it."""

    payload_name: ClassVar[str] = "tracking event"
    required_hints: ClassVar[dict[str, str]] = {
        "city": "add the city where the event happened, e.g. 'city': 'Rio de Janeiro'",
        "state": "add the state, e.g. 'state': 'RJ'",
        "description": "add what happened, e.g. 'description': 'Coletado pela transportadora'",
        "date": "add the event date as yyyy-mm-dd, e.g. 'date': '2024-02-08'",
    }

    city: Words
    state: Words
    description: EventDescription
    date: EventDate


class TrackingStatus(VtexPayload):
    """Tracking events and whether the parcel was delivered.

    ``deliveredDate`` uses VTEX's own ``yyyy-mm-dd hh:mm`` format (not ISO 8601); a datetime or ISO text
    is converted. The wire body always carries all three keys, as VTEX's schema requires.
    """

    payload_name: ClassVar[str] = "tracking status"

    is_delivered: bool = False
    delivered_date: DeliveredDate | None = None
    events: Annotated[
        list[TrackingEvent],
        at_most_items(MAX_ITEMS, "tracking events"),
        json_list('[{"city": "Rio", "state": "RJ", "description": "...", "date": "2024-02-08"}]'),
    ] = Field(default_factory=list)

    @model_validator(mode="after")
    def _delivered_has_date(self) -> TrackingStatus:
        if self.is_delivered and self.delivered_date is None:
            raise ValueError(
                "isDelivered is true but deliveredDate is missing: add 'deliveredDate': 'yyyy-mm-dd hh:mm'"
            )
        return self

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


#: Keys of a combined tracking payload that belong to the tracking status (PUT) rather than the number.
TRACKING_STATUS_KEYS = frozenset({"isDelivered", "is_delivered", "deliveredDate", "delivered_date", "events"})


def split_tracking_payload(value: Any) -> tuple[Tracking | None, TrackingStatus | None]:
    """Split one tracking payload into the tracking-number part (PATCH) and the status part (PUT).

    A DAG usually knows both at once; VTEX wants them on two routes, number first.
    """
    if isinstance(value, Tracking):
        return value, None
    if isinstance(value, TrackingStatus):
        return None, value
    data = dict(as_mapping(value, "tracking", "Tracking"))
    status_part = {k: v for k, v in data.items() if k in TRACKING_STATUS_KEYS}
    number_part = {k: v for k, v in data.items() if k not in TRACKING_STATUS_KEYS}
    if not status_part and not number_part:
        raise VtexPayloadError(
            "tracking",
            [
                (
                    "(payload)",
                    "is empty; give 'trackingNumber' (and optionally 'isDelivered', 'deliveredDate', 'events')",
                )
            ],
        )
    problems: list[tuple[str, str]] = []
    tracking = status = None
    if number_part:
        try:
            tracking = Tracking.parse(number_part)
        except VtexPayloadError as exc:
            problems += exc.errors
    if status_part:
        try:
            status = TrackingStatus.parse(status_part)
        except VtexPayloadError as exc:
            problems += exc.errors
    if problems:
        raise VtexPayloadError("tracking", problems)
    return tracking, status
