"""Payloads VTEX must never receive: a JSON text with a key twice, and values beyond any real order.
Each is refused before any request, naming the field."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import requests_mock as rm

from airflow_provider_vtex.compat import AirflowFailException
from airflow_provider_vtex.exceptions import VtexPayloadError
from airflow_provider_vtex.hooks.vtex import VtexHook
from airflow_provider_vtex.models import Invoice, PiiInvoice, TrackingStatus
from airflow_provider_vtex.models.types import (
    EVENT_DESCRIPTION_MAX,
    MAX_CENTS,
    MAX_ITEMS,
    MAX_QUANTITY,
    MAX_TEXT,
)
from airflow_provider_vtex.operators.bulk import BulkInvoiceNotificationOperator
from airflow_provider_vtex.operators.invoice import InvoiceNotificationOperator
from tests.unit.operators.test_operator_decisions import context

ORDER = "1172452900788-01"

DUPLICATED = (
    '{"type": "Output", "invoiceNumber": "NF-1", "invoiceValue": "7497", '
    '"issuanceDate": "2024-01-31T18:25:43-03:00", "items": [{"id": "1", "price": 7497, "quantity": 1}], '
    '"invoiceValue": "999999"}'
)


def test_a_json_text_payload_with_a_key_twice_is_refused_naming_the_key() -> None:
    with pytest.raises(VtexPayloadError) as refused:
        Invoice.parse(DUPLICATED)
    ((field, message),) = refused.value.errors
    assert field == "invoiceValue"
    assert "twice" in message


@pytest.mark.parametrize(
    "text",
    [
        # in an item of the payload's text
        DUPLICATED.replace(', "invoiceValue": "999999"', "").replace(
            '"quantity": 1}', '"quantity": 1, "id": "2"}'
        ),
        # in the items given as JSON text of their own
        json.dumps(
            {
                "type": "Output",
                "invoiceNumber": "NF-1",
                "invoiceValue": 7497,
                "issuanceDate": "2024-01-31T18:25:43-03:00",
                "items": '[{"id": "1", "price": 7497, "price": 1, "quantity": 1}]',
            }
        ),
    ],
)
def test_a_key_twice_anywhere_in_the_text_is_refused(text: str) -> None:
    with pytest.raises(VtexPayloadError, match="twice"):
        Invoice.parse(text)


def test_the_operators_fail_at_once_on_a_key_twice_and_send_nothing(
    vtex_connection: Callable[..., str], requests_mock: rm.Mocker
) -> None:
    vtex_connection()
    single = InvoiceNotificationOperator(task_id="i", order_id=ORDER, invoice=DUPLICATED)
    with pytest.raises(AirflowFailException, match="invoiceValue"):
        single.execute(context())
    bulk = BulkInvoiceNotificationOperator(
        task_id="b", invoices='[{"order_id": "1-01", "order_id": "2-01", "invoice": {}}]'
    )
    with pytest.raises(AirflowFailException, match="'order_id' appears twice"):
        bulk.execute(context())
    assert requests_mock.call_count == 0


def _invoice(**changes: Any) -> dict[str, Any]:
    return {
        "type": "Output",
        "invoiceNumber": "NF-1",
        "invoiceValue": 7497,
        "issuanceDate": "2024-01-31T18:25:43-03:00",
        "items": [{"id": "1", "price": 7497, "quantity": 1}],
        **changes,
    }


def _pii_invoice(**changes: Any) -> dict[str, Any]:
    return {
        "type": "Output",
        "invoiceNumber": "NF-1",
        "invoiceValue": 7497,
        "issuedDate": "2024-09-20",
        "items": [{"itemIndex": 0, "price": 7497, "quantity": 1}],
        **changes,
    }


ITEM = {"id": "1", "price": 1, "quantity": 1}
BEYOND: list[tuple[str, Callable[[], Any], str]] = [
    ("10 MB courier", lambda: Invoice.parse(_invoice(courier="x" * 10_000_000)), "courier"),
    ("200,000 item lines", lambda: Invoice.parse(_invoice(items=[ITEM] * 200_000)), "items"),
    ("invoiceValue 10**30", lambda: Invoice.parse(_invoice(invoiceValue=10**30)), "invoiceValue"),
    ("invoiceValue as text", lambda: Invoice.parse(_invoice(invoiceValue="9" * 30)), "invoiceValue"),
    (
        "unit price",
        lambda: Invoice.parse(_invoice(items=[{**ITEM, "price": MAX_CENTS + 1}])),
        "items.0.price",
    ),
    (
        "quantity",
        lambda: Invoice.parse(_invoice(items=[{**ITEM, "quantity": MAX_QUANTITY + 1}])),
        "items.0.quantity",
    ),
    ("tracking URL", lambda: Invoice.parse(_invoice(trackingUrl="h" * (MAX_TEXT + 1))), "trackingUrl"),
    (
        "item description",
        lambda: Invoice.parse(_invoice(items=[{**ITEM, "description": "d" * 5000}])),
        "items.0.description",
    ),
    (
        "embedded invoice",
        lambda: Invoice.parse(_invoice(embeddedInvoice="<x/>" * 300_000)),
        "embeddedInvoice",
    ),
    ("PII extraValue", lambda: PiiInvoice.parse(_pii_invoice(extraValue=10**13)), "extraValue"),
    (
        "PII itemIndex",
        lambda: PiiInvoice.parse(_pii_invoice(items=[{"itemIndex": MAX_ITEMS, "price": 1, "quantity": 1}])),
        "items.0.itemIndex",
    ),
    ("PII volumes", lambda: PiiInvoice.parse(_pii_invoice(volumes=10**9)), "volumes"),
    (
        "tracking events",
        lambda: TrackingStatus.parse(
            {
                "events": [{"city": "Rio", "state": "RJ", "description": "ok", "date": "2024-01-01"}]
                * (MAX_ITEMS + 1)
            }
        ),
        "events",
    ),
    (
        "event city",
        lambda: TrackingStatus.parse(
            {
                "events": [
                    {"city": "R" * (MAX_TEXT + 1), "state": "RJ", "description": "ok", "date": "2024-01-01"}
                ]
            }
        ),
        "events.0.city",
    ),
]


@pytest.mark.parametrize(("case", "parse", "field"), BEYOND, ids=[case for case, _, _ in BEYOND])
def test_values_beyond_any_real_order_are_refused_naming_the_field(
    case: str, parse: Callable[[], Any], field: str
) -> None:
    with pytest.raises(VtexPayloadError) as refused:
        parse()
    fields = [name for name, _ in refused.value.errors]
    assert fields == [field], refused.value
    assert "at most" in str(refused.value)
    assert len(str(refused.value)) < 2_000  # the message names the size; it does not repeat the value


def test_values_at_the_bounds_are_accepted() -> None:
    invoice = Invoice.parse(
        _invoice(
            invoiceValue=MAX_CENTS,
            courier="c" * MAX_TEXT,
            items=[{"id": "1", "price": MAX_CENTS, "quantity": MAX_QUANTITY}] * MAX_ITEMS,
        )
    )
    assert len(invoice.items) == MAX_ITEMS
    status = TrackingStatus.parse(
        {
            "events": [
                {
                    "city": "Rio",
                    "state": "RJ",
                    "description": "d" * EVENT_DESCRIPTION_MAX,
                    "date": "2024-01-01",
                }
            ]
        }
    )
    assert len(status.events[0].description) == EVENT_DESCRIPTION_MAX


def test_the_hook_sends_nothing_beyond_the_bounds(
    vtex_connection: Callable[..., str], requests_mock: rm.Mocker
) -> None:
    vtex_connection()
    with pytest.raises(VtexPayloadError, match="courier"):
        VtexHook().send_invoice(ORDER, _invoice(courier="x" * 10_000_000))
    assert requests_mock.call_count == 0
