"""Payloads VTEX must never receive: a JSON text with a key twice, and values beyond any real order.
Each is refused before any request, naming the field."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests_mock as rm

from airflow_provider_vtex.compat import AirflowFailException
from airflow_provider_vtex.exceptions import MAX_PROBLEMS_SHOWN, VtexPayloadError
from airflow_provider_vtex.hooks.vtex import VtexHook
from airflow_provider_vtex.models import Invoice, PiiInvoice, TrackingStatus
from airflow_provider_vtex.models.types import (
    EVENT_DESCRIPTION_MAX,
    MAX_CENTS,
    MAX_DEPTH,
    MAX_ITEMS,
    MAX_PAYLOAD_CHARS,
    MAX_QUANTITY,
    MAX_TEXT,
    SHOWN_KEY_CHARS,
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


# ---------------------------------------------------------------- depth, and messages bounded whatever came in
def _nested(levels: int) -> dict[str, Any]:
    """A dict nested ``levels`` deep, built without recursion."""
    root: dict[str, Any] = {}
    node = root
    for _ in range(levels):
        node["a"] = {}
        node = node["a"]
    return root


DEEP_TEXT = '{"a": ' * 10_000 + "1" + "}" * 10_000


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (_invoice(items=[{"id": "1", "price": 7497, "quantity": 1, "x": _nested(10_000)}]), "items.0.x.a…"),
        (DEEP_TEXT, "(payload)"),
        (json.dumps(_invoice(courier=_nested(MAX_DEPTH))), "courier.a.a.a…"),
        (_invoice(items=json.dumps([_nested(MAX_DEPTH)])), "items"),
    ],
    ids=[
        "dict-10000-levels",
        "json-text-10000-levels",
        "json-text-past-the-bound",
        "items-as-deep-json-text",
    ],
)
def test_a_payload_nested_too_deep_is_a_payload_error_naming_where(payload: Any, field: str) -> None:
    with pytest.raises(VtexPayloadError) as refused:
        Invoice.parse(payload)
    ((named, message),) = refused.value.errors
    assert named.startswith(field), refused.value
    assert f"more than {MAX_DEPTH} levels deep" in message
    assert "not a nested export" in message  # the fix


def test_a_payload_at_the_depth_bound_is_read_as_usual() -> None:
    with pytest.raises(VtexPayloadError) as refused:
        Invoice.parse(_invoice(courier=_nested(MAX_DEPTH - 2)))
    assert "levels deep" not in str(refused.value)
    assert [field for field, _ in refused.value.errors] == ["courier"]  # a dict is not a courier's name


def test_a_payload_text_beyond_any_real_one_is_refused_before_it_is_parsed() -> None:
    text = '{"courier": "' + "c" * MAX_PAYLOAD_CHARS + '"}'
    with pytest.raises(VtexPayloadError) as refused:
        Invoice.parse(text)
    ((field, message),) = refused.value.errors
    assert field == "(payload)"
    assert f"at most {MAX_PAYLOAD_CHARS:,}" in message


def test_a_10_mb_unknown_key_gives_a_short_message_naming_it_and_the_fix() -> None:
    key = "k" * 10_000_000
    started = time.perf_counter()
    with pytest.raises(VtexPayloadError) as refused:
        Invoice.parse({**_invoice(), key: 1})
    assert time.perf_counter() - started < 2
    message = str(refused.value)
    assert len(message) < 1_000
    assert f"  - {'k' * SHOWN_KEY_CHARS}…: is not a field VTEX accepts here; allowed: courier" in message


def test_thousands_of_problems_give_a_bounded_message_that_counts_them() -> None:
    with pytest.raises(VtexPayloadError) as refused:
        Invoice.parse({**_invoice(), **{f"unknown{n}": 1 for n in range(2_000)}})
    message = str(refused.value)
    assert "(2,000 problems)" in message
    assert f"and {2_000 - MAX_PROBLEMS_SHOWN:,} more problem(s)" in message
    assert len(message) < MAX_PROBLEMS_SHOWN * 300


def test_a_10_mb_value_of_the_wrong_type_is_not_quoted_whole() -> None:
    with pytest.raises(VtexPayloadError) as refused:
        Invoice.parse(_invoice(invoiceValue="9" * 5_000_000 + ".5"))
    assert len(str(refused.value)) < 2_000
    assert "invoiceValue" in str(refused.value)


# ---------------------------------------------------------------- refused on try 1, 0 requests sent
def test_each_refused_case_fails_the_task_on_try_1_and_sends_nothing(vtex_sandbox_connection: Any) -> None:
    """Proved with the sandbox's request log: not a single request reached it."""
    from airflow_provider_vtex.operators.feed import VtexCommitOrderFeedOperator
    from airflow_provider_vtex.operators.tracking import TrackingNotificationOperator

    sandbox = vtex_sandbox_connection
    refused = {
        # As a DAG's payload reaches a task at run time: rendered text (Airflow itself cannot build an
        # operator around a dict 10,000 levels deep: it walks template fields recursively).
        "invoice 10,000 levels deep (JSON text)": InvoiceNotificationOperator(
            task_id="b", order_id=ORDER, invoice=DEEP_TEXT
        ),
        "tracking 10,000 levels deep": TrackingNotificationOperator(
            task_id="c", order_id=ORDER, invoice_number="NF-1", tracking=DEEP_TEXT
        ),
        "10 MB unknown key": InvoiceNotificationOperator(
            task_id="d", order_id=ORDER, invoice={**_invoice(), "k" * 10_000_000: 1}
        ),
        "2 MB feed handle": VtexCommitOrderFeedOperator(task_id="e", handles=["h" * 2_000_000]),
        "bulk rows 10,000 levels deep": BulkInvoiceNotificationOperator(task_id="f", invoices=DEEP_TEXT),
    }
    for case, operator in refused.items():
        with pytest.raises(AirflowFailException) as failed:  # fails the task: Airflow does not retry it
            operator.execute(context())
        message = str(failed.value)
        assert len(message) < 3_000, case
        assert "RecursionError" not in message, case
    hook = VtexHook()
    with pytest.raises(VtexPayloadError, match="levels deep"):
        hook.send_invoice(ORDER, _invoice(items=[{"id": "1", "x": _nested(10_000)}]))
    with pytest.raises(VtexPayloadError, match="order list filters"):
        hook.list_orders(q=_nested(10_000))
    assert sandbox.requests == []
