"""Property-based: thousands of malformed invoice and tracking payloads, each refused before any HTTP
request, with a message naming the field, and through the operators as AirflowFailException.

Every example starts from a valid payload and breaks exactly one thing, so the test knows which field
the message must name.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_vtex.compat import AirflowFailException
from airflow_provider_vtex.exceptions import VtexPayloadError
from airflow_provider_vtex.hooks.vtex import VtexHook
from airflow_provider_vtex.models import Invoice, InvoiceItem, Tracking, TrackingStatus
from airflow_provider_vtex.operators.invoice import InvoiceNotificationOperator
from airflow_provider_vtex.operators.tracking import TrackingNotificationOperator

VALID_INVOICE: dict[str, Any] = {
    "type": "Output",
    "invoiceNumber": "NF-0001",
    "invoiceValue": "7497",
    "issuanceDate": "2024-01-31T18:25:43-05:00",
    "items": [{"id": "2001", "price": 2499, "quantity": 3}],
}
VALID_TRACKING: dict[str, Any] = {
    "trackingNumber": "BR123",
    "courier": "Correios",
    "isDelivered": True,
    "deliveredDate": "2024-02-10 14:30",
    "events": [{"city": "Rio", "state": "RJ", "description": "Entregue", "date": "2024-02-10"}],
}


def accepted_keys(*models: Any) -> set[str]:
    """Keys a model accepts: camelCase aliases and, from Python, the snake_case field names."""
    return {
        key for model in models for name, info in model.model_fields.items() for key in (name, info.alias)
    }


INVOICE_FIELDS = accepted_keys(Invoice)
ITEM_FIELDS = accepted_keys(InvoiceItem)
TRACKING_FIELDS = accepted_keys(Tracking, TrackingStatus)

not_json_object = st.one_of(
    st.integers(), st.floats(allow_nan=False), st.booleans(), st.lists(st.integers(), max_size=3)
)
non_integer_amount = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).filter(
        lambda f: f != int(f) if f == f and abs(f) != float("inf") else True
    ),
    st.decimals(places=2, allow_nan=False, allow_infinity=False)
    .filter(lambda d: d != d.to_integral_value())
    .map(str),
    st.text(min_size=1).filter(lambda t: not t.strip().isascii() or not t.strip().isdigit()),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)
bad_invoice_number = st.one_of(
    st.just(""),
    st.builds(
        lambda a, bad, b: a + bad + b,
        st.from_regex(r"[A-Za-z0-9]{0,6}", fullmatch=True),
        st.sampled_from([" ", "/", "#", "?", "%", "&", "\t", "ç", "\\", "+", "*"]),
        st.from_regex(r"[A-Za-z0-9]{0,6}", fullmatch=True),
    ),
    st.none(),
    st.lists(st.text(), max_size=2),
)
bad_date_text = st.text().filter(lambda t: not t[:4].isascii() or not t[:4].isdigit() or len(t) < 10)


@st.composite
def broken_invoice(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A valid invoice with one thing broken, and the field the refusal must name."""
    invoice = copy.deepcopy(VALID_INVOICE)
    how = draw(
        st.sampled_from(
            [
                "type",
                "number",
                "value",
                "value_not_positive",
                "date",
                "no_date",
                "drop",
                "items_empty",
                "item_price",
                "item_quantity",
                "item_unidentified",
                "unknown_key",
                "item_unknown_key",
            ]
        )
    )
    if how == "type":
        invoice["type"] = draw(
            st.one_of(st.text().filter(lambda t: t not in ("Output", "Input")), st.none(), st.integers())
        )
        return invoice, "type"
    if how == "number":
        invoice["invoiceNumber"] = draw(bad_invoice_number)
        return invoice, "invoiceNumber"
    if how == "value":
        invoice["invoiceValue"] = draw(non_integer_amount)
        return invoice, "invoiceValue"
    if how == "value_not_positive":
        invoice["invoiceValue"] = draw(
            st.one_of(
                st.integers(max_value=0),
                st.integers(max_value=0).map(str).filter(lambda s: not s.startswith("-")),
            )
        )
        return invoice, "invoiceValue"
    if how == "date":
        invoice["issuanceDate"] = draw(st.one_of(bad_date_text, st.integers(), st.booleans()))
        return invoice, "issuanceDate"
    if how == "no_date":
        del invoice["issuanceDate"]
        return invoice, "issuanceDate"
    if how == "drop":
        field = draw(st.sampled_from(["type", "invoiceNumber", "invoiceValue", "issuanceDate", "items"]))
        del invoice[field]
        return invoice, field
    if how == "items_empty":
        invoice["items"] = draw(st.one_of(st.just([]), st.just("[]"), st.integers(), st.none()))
        return invoice, "items"
    if how == "item_price":
        invoice["items"][0]["price"] = draw(st.one_of(non_integer_amount, st.integers(max_value=-1)))
        return invoice, "items.0.price"
    if how == "item_quantity":
        invoice["items"][0]["quantity"] = draw(st.one_of(st.integers(max_value=0), non_integer_amount))
        return invoice, "items.0.quantity"
    if how == "item_unidentified":
        del invoice["items"][0]["id"]
        return invoice, "items.0.id"
    key = draw(st.text(min_size=1, max_size=20).filter(lambda k: k not in INVOICE_FIELDS and k.isprintable()))
    if how == "unknown_key":
        invoice[key] = draw(st.text(max_size=5))
        return invoice, key
    item_key = draw(
        st.text(min_size=1, max_size=20).filter(lambda k: k not in ITEM_FIELDS and k.isprintable())
    )
    invoice["items"][0][item_key] = 1
    return invoice, f"items.0.{item_key}"


@st.composite
def broken_tracking(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    tracking = copy.deepcopy(VALID_TRACKING)
    how = draw(
        st.sampled_from(
            [
                "number",
                "dispatched",
                "delivered_date",
                "delivered_flag",
                "event_date",
                "event_field",
                "events",
                "unknown_key",
            ]
        )
    )
    if how == "number":
        tracking["trackingNumber"] = draw(
            st.one_of(st.just(""), st.just("   "), st.none(), st.lists(st.text(), max_size=2))
        )
        return tracking, "trackingNumber"
    if how == "dispatched":
        tracking["dispatchedDate"] = draw(st.one_of(bad_date_text, st.integers()))
        return tracking, "dispatchedDate"
    if how == "delivered_date":
        tracking["deliveredDate"] = draw(st.one_of(bad_date_text, st.integers(), st.just("10/02/2024 14:30")))
        return tracking, "deliveredDate"
    if how == "delivered_flag":
        tracking["isDelivered"] = draw(
            st.one_of(
                st.text().filter(
                    lambda t: (
                        t.strip().lower()
                        not in {"0", "1", "true", "false", "yes", "no", "on", "off", "t", "f", "y", "n"}
                    )
                ),
                st.lists(st.integers(), max_size=2),
            )
        )
        return tracking, "isDelivered"
    if how == "event_date":
        tracking["events"][0]["date"] = draw(st.one_of(bad_date_text, st.integers(), st.none()))
        return tracking, "events.0.date"
    if how == "event_field":
        field = draw(st.sampled_from(["city", "state", "description"]))
        tracking["events"][0][field] = draw(st.one_of(st.just(""), st.none(), st.integers()))
        return tracking, f"events.0.{field}"
    if how == "events":
        tracking["events"] = draw(
            st.one_of(
                st.integers(),
                st.text().filter(lambda t: not t.strip().startswith("[")),
                st.just({"city": "x"}),
            )
        )
        return tracking, "events"
    key = draw(
        st.text(min_size=1, max_size=20).filter(lambda k: k not in TRACKING_FIELDS and k.isprintable())
    )
    tracking[key] = "x"
    return tracking, key


@pytest.fixture(scope="module")
def nothing_may_be_sent() -> Any:
    """Any HTTP request during these tests is a failure: validation must come first."""
    original = requests.adapters.HTTPAdapter.send

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an HTTP request was sent for an invalid payload")

    requests.adapters.HTTPAdapter.send = refuse  # type: ignore[method-assign]
    yield
    requests.adapters.HTTPAdapter.send = original  # type: ignore[method-assign]


@pytest.fixture(scope="module")
def hook(nothing_may_be_sent: Any) -> Any:
    """A hook on a standard connection (the operators use the same one: ``vtex_default``)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(
            "AIRFLOW_CONN_VTEX_DEFAULT",
            json.dumps({"conn_type": "vtex", "login": "KEY", "password": "TOKEN", "host": "mystore"}),
        )
        yield VtexHook()


def examples(full: int) -> int:
    """``full`` examples under hypothesis's default profile (100 each), scaled by the loaded profile's: a
    tenth in the Airflow 2.11 and lowest-version runs (``--hypothesis-profile=compat``, tests/conftest.py),
    which prove this validation on other versions; the full count runs on Airflow 3.3."""
    return max(1, full * settings().max_examples // 100)


def assert_names(error: VtexPayloadError, field: str) -> None:
    fields = [name for name, _ in error.errors]
    assert field in fields, (field, error.errors)
    assert f"  - {field}: " in str(error)


@settings(
    max_examples=examples(2000),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=broken_invoice(), as_json=st.booleans())
def test_malformed_invoices_fail_before_any_request_naming_the_field(
    hook: VtexHook, case: tuple[dict[str, Any], str], as_json: bool
) -> None:
    payload, field = case
    try:
        body: Any = json.dumps(payload) if as_json else payload
    except (TypeError, ValueError):
        body = payload
    with pytest.raises(VtexPayloadError) as caught:
        hook.send_invoice("1172452900788-01", body)
    assert_names(caught.value, field)
    operator = InvoiceNotificationOperator(task_id="invoice", order_id="1172452900788-01", invoice=payload)
    with pytest.raises(AirflowFailException) as failed:
        operator.execute(context={})  # type: ignore[arg-type]
    assert f"  - {field}: " in str(failed.value)
    assert "Nothing was sent to VTEX" in str(failed.value)


@settings(
    max_examples=examples(1500),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=broken_tracking())
def test_malformed_tracking_fails_before_any_request_naming_the_field(
    hook: VtexHook, case: tuple[dict[str, Any], str]
) -> None:
    payload, field = case
    operator = TrackingNotificationOperator(
        task_id="t", order_id="1172452900788-01", invoice_number="NF-1", tracking=payload
    )
    with pytest.raises(AirflowFailException) as failed:
        operator.execute(context={})  # type: ignore[arg-type]
    assert f"  - {field}: " in str(failed.value), (field, str(failed.value))
