"""The payload contracts: what each VTEX route accepts, what goes on the wire, and how refusals read."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import pytest

from airflow_provider_vtex.exceptions import VtexPayloadError
from airflow_provider_vtex.models import (
    FeedConfig,
    Invoice,
    PiiInvoice,
    Tracking,
    TrackingStatus,
    split_tracking_payload,
)


def problems(model: Any, payload: Any) -> dict[str, str]:
    with pytest.raises(VtexPayloadError) as caught:
        model.parse(payload)
    return dict(caught.value.errors)


# ---------------------------------------------------------------- PII route (the reference payload)
def test_the_reference_payload_is_a_pii_invoice_and_keeps_every_value(
    reference_invoice: dict[str, Any],
) -> None:
    wire = PiiInvoice.parse(reference_invoice).to_wire()
    assert wire == {
        **reference_invoice,
        "invoiceValue": 2499,  # Jinja-style digit strings go out as the spec's integers
        "items": [{"itemIndex": 67, "price": 2499, "quantity": 3}] * 3,
    }


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"issuedDate": "2020-07-15T10:00:00Z"}, "issuedDate", "YYYY-MM-DD"),
        ({"issuedDate": "2020-02-30"}, "issuedDate", "YYYY-MM-DD"),
        (
            {"issuanceDate": "2020-07-15T10:00:00Z"},
            "issuanceDate",
            "belongs to VTEX's standard routes; on the PII",
        ),
        (
            {"items": [{"id": "1", "price": 1, "quantity": 1}]},
            "items.0.id",
            "identify the item by its position 'itemIndex'",
        ),
        ({"items": [{"itemIndex": -1, "price": 1, "quantity": 1}]}, "items.0.itemIndex", "at least 0"),
        ({"extraValue": "1.5"}, "extraValue", "in cents"),
        ({"volumes": -1}, "volumes", "at least 0"),
    ],
)
def test_pii_rules_name_the_field_and_the_fix(
    reference_invoice: dict[str, Any], change: dict[str, Any], field: str, fragment: str
) -> None:
    found = problems(PiiInvoice, {**reference_invoice, **change})
    assert fragment in found[field], found


# ---------------------------------------------------------------- standard route
def test_only_keys_the_author_set_are_sent(valid_invoice: dict[str, Any]) -> None:
    wire = Invoice.parse(valid_invoice).to_wire()
    assert set(wire) == set(valid_invoice)
    assert None not in wire.values()


def test_snake_case_from_python_goes_out_camel_case_and_value_as_digits() -> None:
    invoice = Invoice(
        type="Output",
        invoice_number="NF-7",
        invoice_value=2499,
        issuance_date=dt.datetime(2024, 1, 31, 18, 25, 43, tzinfo=dt.timezone.utc),  # type: ignore[arg-type]
        items=[{"id": 123, "price": "2499", "quantity": "1"}],  # type: ignore[list-item]
        tracking_url="https://t.example/1",
    )
    assert invoice.to_wire() == {
        "type": "Output",
        "invoiceNumber": "NF-7",
        "invoiceValue": "2499",
        "issuanceDate": "2024-01-31T18:25:43+00:00",
        "items": [{"id": "123", "price": 2499, "quantity": 1}],
        "trackingUrl": "https://t.example/1",
    }


@pytest.mark.parametrize("source", ["dict", "json", "model"])
def test_parse_accepts_dict_json_string_and_model(source: str, valid_invoice: dict[str, Any]) -> None:
    value: Any = {
        "dict": valid_invoice,
        "json": json.dumps(valid_invoice),
        "model": Invoice.parse(valid_invoice),
    }[source]
    assert Invoice.parse(value).to_wire() == valid_invoice


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"type": "output"}, "type", "'Output' or 'Input'"),
        ({"type": None}, "type", "'Output'"),
        ({"invoiceNumber": ""}, "invoiceNumber", "non-empty"),
        ({"invoiceNumber": "NF 1"}, "invoiceNumber", "only letters, digits"),
        ({"invoiceNumber": "NF/1"}, "invoiceNumber", "only letters, digits"),
        ({"invoiceNumber": "NF#1"}, "invoiceNumber", "only letters, digits"),
        ({"invoiceNumber": "NF-1\n"}, "invoiceNumber", "only letters, digits"),  # full match, not `$`
        ({"invoiceNumber": ".."}, "invoiceNumber", "'.' or '..' alone"),
        ({"invoiceValue": "24.99"}, "invoiceValue", "in cents, e.g. 2499"),
        ({"invoiceValue": 24.99}, "invoiceValue", "in cents, e.g. 2499"),
        ({"invoiceValue": "0"}, "invoiceValue", "greater than 0"),
        ({"invoiceValue": -5}, "invoiceValue", "greater than 0"),
        ({"invoiceValue": True}, "invoiceValue", "boolean"),
        ({"invoiceValue": "abc"}, "invoiceValue", "in cents"),
        ({"invoiceValue": "24 99"}, "invoiceValue", "in cents"),
        ({"invoiceValue": math.nan}, "invoiceValue", "in cents"),
        ({"invoiceValue": math.inf}, "invoiceValue", "in cents"),
        ({"issuanceDate": "31/01/2024"}, "issuanceDate", "ISO 8601"),
        ({"issuanceDate": "2024-02-30T10:00:00-03:00"}, "issuanceDate", "ISO 8601"),
        ({"issuanceDate": "2026-11-20garbage"}, "issuanceDate", "ISO 8601"),
        ({"issuanceDate": "2024-03-01"}, "issuanceDate", "no time"),
        ({"issuanceDate": "2024-03-01T10:00:00"}, "issuanceDate", "no UTC offset"),
        ({"issuanceDate": dt.datetime(2024, 3, 1, 10)}, "issuanceDate", "without a time zone"),
        ({"issuanceDate": dt.date(2024, 3, 1)}, "issuanceDate", "without a time"),
        ({"issuanceDate": 20240131}, "issuanceDate", "ISO 8601"),
        (
            {"issuedDate": "2024-01-31"},
            "issuedDate",
            "belongs to VTEX's PII data architecture; on a standard account send 'issuanceDate'",
        ),
        ({"cfop": "5100"}, "cfop", "data_architecture to 'pii'"),
        ({"items": []}, "items", "at least one"),
        ({"items": "nope"}, "items", "or a JSON array as text"),
        ({"items": {"id": "1"}}, "items", "valid list"),
        ({"items": [{"price": 1, "quantity": 1}]}, "items.0.id", "SKU id"),
        (
            {"items": [{"itemIndex": 0, "id": "1", "price": 1, "quantity": 1}]},
            "items.0.itemIndex",
            "identify the item by its SKU 'id'",
        ),
        ({"items": [{"id": "1", "price": 24.99, "quantity": 1}]}, "items.0.price", "in cents"),
        ({"items": [{"id": "1", "price": -1, "quantity": 1}]}, "items.0.price", "0 or more"),
        ({"items": [{"id": "1", "price": 1, "quantity": 0}]}, "items.0.quantity", "at least 1"),
        ({"items": [{"id": "1", "price": 1, "quantity": 1.5}]}, "items.0.quantity", "whole number"),
        ({"items": [{"id": "1", "quantity": 1}]}, "items.0.price", "unit price in cents"),
        ({"items": [{"id": "1", "price": 1, "quantity": 1, "sku": "x"}]}, "items.0.sku", "not a field"),
        ({"invoiceNumer": "x"}, "invoiceNumer", "did you mean 'invoiceNumber'"),
        ({"courier": math.nan}, "courier", "not a number VTEX accepts"),
    ],
)
def test_each_standard_rule_names_the_field_and_the_fix(
    valid_invoice: dict[str, Any], change: dict[str, Any], field: str, fragment: str
) -> None:
    found = problems(Invoice, {**valid_invoice, **change})
    assert field in found, found
    assert fragment in found[field], found


def test_amounts_with_surrounding_spaces_are_trimmed(valid_invoice: dict[str, Any]) -> None:
    """Documented choice: white space around a digit string (a template's line break) is trimmed."""
    wire = Invoice.parse({**valid_invoice, "invoiceValue": " 2499 \n"}).to_wire()
    assert wire["invoiceValue"] == "2499"


@pytest.mark.parametrize("missing", ["type", "invoiceNumber", "invoiceValue", "issuanceDate", "items"])
def test_missing_required_field_says_what_to_add(valid_invoice: dict[str, Any], missing: str) -> None:
    del valid_invoice[missing]
    assert problems(Invoice, valid_invoice)[missing].startswith("is required; add")


@pytest.mark.parametrize(
    "date",
    [
        "2024-01-31T18:25:43-05:00",
        "2019-02-08T13:16:13.4617653+00:00",
        "2024-01-31T18:25:43Z",
        "2024-01-31 18:25:43+01:00",
    ],
)
def test_dates_with_time_and_offset_are_kept_as_written(valid_invoice: dict[str, Any], date: str) -> None:
    assert Invoice.parse({**valid_invoice, "issuanceDate": date}).to_wire()["issuanceDate"] == date


def test_nan_in_json_text_is_refused_naming_the_field(valid_invoice: dict[str, Any]) -> None:
    found = problems(Invoice, json.dumps({**valid_invoice, "invoiceValue": math.nan}))
    assert "invoiceValue" in found


def test_all_problems_are_reported_at_once() -> None:
    found = problems(Invoice, {"type": "x", "invoiceValue": "1.0", "items": []})
    assert {"type", "invoiceNumber", "invoiceValue", "issuanceDate", "items"} <= set(found)


@pytest.mark.parametrize("payload", ["not json", "[1, 2]", 42, None])
def test_payload_that_is_not_an_object_is_refused(payload: Any) -> None:
    assert "(payload)" in problems(Invoice, payload)


def test_error_message_lists_every_problem(valid_invoice: dict[str, Any]) -> None:
    with pytest.raises(VtexPayloadError) as caught:
        Invoice.parse({**valid_invoice, "invoiceValue": "24.99", "type": "sale"})
    message = str(caught.value)
    assert message.startswith("Invalid invoice (2 problems)")
    assert "  - invoiceValue: " in message
    assert "  - type: " in message


def test_lists_rendered_by_jinja_as_json_text_are_accepted(valid_invoice: dict[str, Any]) -> None:
    items = [{"id": "1", "price": 2499, "quantity": 3}]
    assert Invoice.parse({**valid_invoice, "items": json.dumps(items)}).to_wire()["items"] == items
    status = TrackingStatus.parse(
        {"events": '[{"city": "Rio", "state": "RJ", "description": "x", "date": "2024-01-01"}]'}
    )
    assert status.events[0].city == "Rio"


# ---------------------------------------------------------------- tracking
def test_tracking_sends_only_what_was_given() -> None:
    """The hook fills the other keys VTEX's schema requires with what VTEX holds (never with null)."""
    assert Tracking.parse({"trackingNumber": "BR1", "courier": None}).to_wire() == {"trackingNumber": "BR1"}


@pytest.mark.parametrize(
    ("payload", "field", "fragment"),
    [
        ({}, "trackingNumber", "is required"),
        ({"trackingNumber": " "}, "trackingNumber", "must not be empty"),
        ({"trackingNumber": "BR1", "dispatchedDate": "yesterday"}, "dispatchedDate", "ISO 8601"),
        ({"trackingNumber": "BR1", "trackingNumbr": "x"}, "trackingNumbr", "did you mean 'trackingNumber'"),
    ],
)
def test_tracking_rules(payload: dict[str, Any], field: str, fragment: str) -> None:
    assert fragment in problems(Tracking, payload)[field]


def test_tracking_status_formats_delivered_date_as_vtex_wants() -> None:
    status = TrackingStatus.parse(
        {
            "isDelivered": True,
            "deliveredDate": dt.datetime(2024, 2, 10, 14, 30, 59),
            "events": [
                {"city": "Rio", "state": "RJ", "description": "Entregue", "date": dt.date(2024, 2, 10)}
            ],
        }
    )
    assert status.to_wire() == {
        "isDelivered": True,
        "deliveredDate": "2024-02-10 14:30",
        "events": [{"city": "Rio", "state": "RJ", "description": "Entregue", "date": "2024-02-10"}],
    }
    iso = TrackingStatus.parse({"deliveredDate": "2024-02-10T14:30:00-03:00", "isDelivered": True})
    assert iso.delivered_date == "2024-02-10 14:30"


@pytest.mark.parametrize(
    ("payload", "field", "fragment"),
    [
        ({"isDelivered": True}, "(payload)", "deliveredDate is missing"),
        ({"deliveredDate": "10/02/2024"}, "deliveredDate", "'yyyy-mm-dd hh:mm'"),
        (
            {"deliveredDate": "2024-13-45 99:99"},
            "deliveredDate",
            "'yyyy-mm-dd hh:mm'",
        ),  # parsed, not pattern-matched
        ({"events": [{"city": "Rio", "state": "RJ", "description": "x"}]}, "events.0.date", "yyyy-mm-dd"),
        (
            {"events": [{"city": "Rio", "state": "RJ", "description": "x", "date": "ontem"}]},
            "events.0.date",
            "yyyy-mm-dd",
        ),
        (
            {"events": [{"city": "Rio", "state": "RJ", "description": "x", "date": "2024-02-31"}]},
            "events.0.date",
            "yyyy-mm-dd",
        ),
        (
            {"events": [{"city": "", "state": "RJ", "description": "x", "date": "2024-01-01"}]},
            "events.0.city",
            "empty",
        ),
        (
            {"events": [{"city": "Rio", "state": "RJ", "description": "x" * 5001, "date": "2024-01-01"}]},
            "events.0.description",
            "5000",
        ),
    ],
)
def test_tracking_status_rules(payload: dict[str, Any], field: str, fragment: str) -> None:
    found = problems(TrackingStatus, payload)
    assert fragment in found[field], found


def test_combined_tracking_payload_is_split_by_route() -> None:
    number, status = split_tracking_payload(
        {"trackingNumber": "BR1", "courier": "Correios", "isDelivered": False, "events": []}
    )
    assert number is not None
    assert number.to_wire()["courier"] == "Correios"
    assert status is not None
    assert status.to_wire() == {"isDelivered": False, "deliveredDate": None, "events": []}
    assert split_tracking_payload({"trackingNumber": "BR1"})[1] is None
    assert split_tracking_payload('{"events": []}')[0] is None


def test_combined_tracking_payload_reports_problems_of_both_parts() -> None:
    with pytest.raises(VtexPayloadError) as caught:
        split_tracking_payload({"trackingUrl": "u", "deliveredDate": "bad"})
    fields = dict(caught.value.errors)
    assert "trackingNumber" in fields
    assert "deliveredDate" in fields


# ---------------------------------------------------------------- feed
def test_feed_config_defaults_and_vtex_spelling() -> None:
    wire = FeedConfig.parse(
        {"filter": {"type": "FromOrders", "expression": 'status = "ready-for-handling"'}}
    ).to_wire()
    assert wire == {
        "filter": {"type": "FromOrders", "expression": 'status = "ready-for-handling"'},
        "queue": {"visibilityTimeoutInSeconds": 250, "MessageRetentionPeriodInSeconds": 345600},
    }


@pytest.mark.parametrize(
    ("payload", "field", "fragment"),
    [
        ({"filter": {"type": "FromWorkflow"}}, "filter", "needs 'status'"),
        (
            {"filter": {"type": "FromWorkflow", "status": ["x"], "expression": "y"}},
            "filter",
            "'expression' is for FromOrders",
        ),
        ({"filter": {"type": "Hook"}}, "filter.type", "'FromWorkflow' or 'FromOrders'"),
        (
            {
                "filter": {"type": "FromWorkflow", "status": ["x"]},
                "queue": {"MessageRetentionPeriodInSeconds": 2_000_000},
            },
            "queue.MessageRetentionPeriodInSeconds",
            "less than or equal to 1209600",
        ),
    ],
)
def test_feed_config_rules(payload: dict[str, Any], field: str, fragment: str) -> None:
    found = problems(FeedConfig, payload)
    assert fragment in found[field], found
