"""The operators in real Airflow: templating, XCom payloads, mapping and failures, via ``dag.test()``.

Each DAG runs in-process against the VTEX sandbox over real HTTP; the assertions read what the sandbox
now holds and what the tasks pushed to XCom.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.dag_runs import task_states, xcom_values

pytestmark = pytest.mark.airflow_dag


def test_jinja_and_xcom_templating_end_to_end(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any]
) -> None:
    sandbox = vtex_sandbox_connection
    dag_run = run_dag("vtex_test_templating")
    assert task_states(dag_run) == {
        "delivered": ["success"],
        "erp": ["success"],
        "invoice": ["success"],
        "tracking": ["success"],
    }
    order = sandbox.order("70caf3941s6df1")
    assert order["status"] == "invoiced"
    (package,) = order["packageAttachment"]["packages"]
    assert package["invoiceNumber"] == "NF-2001"
    assert package["invoiceValue"] == 7497
    assert package["trackingNumber"] == "BR-NF-2001"
    assert package["courierStatus"]["finished"] is True
    (receipt,) = xcom_values(dag_run, "invoice")
    assert receipt["order_id"] == "70caf3941s6df1"
    assert receipt["invoice_number"] == "NF-2001"
    assert receipt["receipt"] == sandbox.invoices("70caf3941s6df1")[0]["receipts"][-1]["receipt"]
    (tracking,) = xcom_values(dag_run, "tracking")
    assert tracking["tracking_receipt"]["receipt"]
    assert tracking["status_receipt"] is None
    (delivered,) = xcom_values(dag_run, "delivered")
    assert delivered["tracking_receipt"] is None
    assert delivered["status_receipt"]["receipt"]
    (report,) = xcom_values(dag_run, "invoice", key="vtex_report")
    assert (report["conn_id"], report["outcome"], report["rate_limited"]) == ("vtex_default", "success", 0)
    assert report["accepted"]["invoice"] == 1
    assert report["order_ids"] == ["70caf3941s6df1"]


def test_payload_from_an_upstream_json_string_xcom(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any]
) -> None:
    dag_run = run_dag("vtex_test_xcom_payload")
    assert task_states(dag_run)["invoice"] == ["success"]
    (package,) = vtex_sandbox_connection.order("v502559llux-01")["packageAttachment"]["packages"]
    assert package["invoiceNumber"] == "NF-3001"
    assert package["invoiceValue"] == 12980


def test_payload_given_as_a_model(vtex_sandbox_connection: Any, run_dag: Callable[..., Any]) -> None:
    dag_run = run_dag("vtex_test_model_payload")
    assert task_states(dag_run)["invoice"] == ["success"]
    order = vtex_sandbox_connection.order("1172452900791-01")
    assert order["packageAttachment"]["packages"][0]["invoiceNumber"] == "NF-4001"
    assert order["status"] == "invoiced", order


def test_one_mapped_task_instance_per_order(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any]
) -> None:
    sandbox = vtex_sandbox_connection
    dag_run = run_dag("vtex_test_mapping")
    assert task_states(dag_run)["invoice"] == ["success"] * 3
    results = xcom_values(dag_run, "invoice")
    assert [r["invoice_number"] for r in results] == ["NF-5001", "NF-5002", "NF-5003"]
    for order_id in ("70caf3941s6df1", "v502559llux-01"):
        assert sandbox.order(order_id)["status"] == "invoiced"
    partly = sandbox.order("1172452900791-01")  # one of its two SKUs invoiced: partial, not yet invoiced
    assert partly["status"] == "ready-for-handling"
    assert partly["packageAttachment"]["packages"][0]["invoiceValue"] == 8900
    for order_id in ("70caf3941s6df1", "v502559llux-01", "1172452900791-01"):
        assert sandbox.post_count(order_id) == 1


def test_invalid_payload_fails_at_once_and_sends_nothing(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any]
) -> None:
    dag_run = run_dag("vtex_test_invalid_payload")
    assert task_states(dag_run)["invoice"] == ["failed"]
    ti = dag_run.get_task_instance("invoice")
    assert ti.try_number == 1  # AirflowFailException: the three retries were not spent
    assert vtex_sandbox_connection.requests == []


def test_unknown_order_fails_without_retries(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any]
) -> None:
    dag_run = run_dag("vtex_test_unknown_order")
    assert task_states(dag_run)["invoice"] == ["failed"]
    assert dag_run.get_task_instance("invoice").try_number == 1
    assert vtex_sandbox_connection.post_count() == 1
    # The task's record of what VTEX answered (read by the VTEX page): refused, with the 404's code.
    (report,) = xcom_values(dag_run, "invoice", key="vtex_report")
    assert report["outcome"] == "refused"
    assert report["error_code"] == "OMS007"
    assert report["refusals"] == {"OMS007": 2}  # the read before sending, and the invoice itself
    assert report["order_ids"] == ["no-such-order"]


#: A PII store's order whose item 67 the reference payload invoices (3 lines of 3 units, 24.99 each line).
REFERENCE_ORDER = {
    "orderId": "70caf3941s6df1",
    "items": [
        {"id": f"SKU-{n}", "name": f"Item {n}", "quantity": 9 if n == 67 else 1, "price": 2499}
        for n in range(68)
    ],
}


@pytest.mark.vtex_sandbox(data_architecture="pii", seed_default=False, orders=[REFERENCE_ORDER])
def test_the_reference_payload_reaches_the_pii_route_with_every_value_kept(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any], reference_invoice: dict[str, Any]
) -> None:
    sandbox = vtex_sandbox_connection
    dag_run = run_dag("vtex_test_reference_payload")
    assert task_states(dag_run)["invoice"] == ["success"]
    (post,) = [r for r in sandbox.requests if r["method"] == "POST"]
    assert post["path"] == "/api/orders/pvt/document/70caf3941s6df1/invoices"
    sent = {
        **reference_invoice,
        "invoiceValue": 2499,
        "items": [{"itemIndex": 67, "price": 2499, "quantity": 3}] * 3,
    }
    assert post["body"] == sent  # every value kept; Jinja-style digit strings as the PII spec's integers
    (held,) = sandbox.invoices("70caf3941s6df1")
    assert (held["invoiceNumber"], held["invoiceValue"], held["courier"], held["trackingNumber"]) == (
        "123456789",
        2499,
        "corrupti",
        "deserunt",
    )


def test_the_reference_payload_on_a_standard_connection_fails_at_once_naming_issuance_date(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any], capsys: Any, caplog: Any
) -> None:
    dag_run = run_dag("vtex_test_reference_payload")
    assert task_states(dag_run)["invoice"] == ["failed"]
    assert dag_run.get_task_instance("invoice").try_number == 1  # AirflowFailException: no retry spent
    assert vtex_sandbox_connection.requests == []  # nothing sent
    logged = capsys.readouterr().out + caplog.text
    assert "issuanceDate: is required" in logged
    assert "issuedDate: belongs to VTEX's PII data architecture" in logged


def test_a_tracking_number_alone_leaves_courier_url_and_dispatch_date_as_vtex_holds_them(
    vtex_sandbox_connection: Any,
) -> None:
    from airflow_provider_vtex.operators.invoice import InvoiceNotificationOperator
    from airflow_provider_vtex.operators.tracking import TrackingNotificationOperator

    sandbox = vtex_sandbox_connection
    InvoiceNotificationOperator(
        task_id="invoice",
        order_id="70caf3941s6df1",
        invoice={
            "type": "Output",
            "invoiceNumber": "NF-KEEP",
            "invoiceValue": 7497,
            "issuanceDate": "2024-03-01T10:00:00-03:00",
            "items": [{"id": "2001", "price": 2499, "quantity": 3}],
            "courier": "Correios",
            "trackingUrl": "https://rastreio.example/BR-OLD",
            "dispatchedDate": "2024-03-01T12:00:00-03:00",
        },
    ).execute(context={})  # type: ignore[arg-type]
    before = sandbox.invoices("70caf3941s6df1")[0]
    TrackingNotificationOperator(
        task_id="tracking",
        order_id="70caf3941s6df1",
        invoice_number="NF-KEEP",
        tracking={"trackingNumber": "BR-NEW"},
    ).execute(context={})  # type: ignore[arg-type]
    (after,) = sandbox.invoices("70caf3941s6df1")
    assert after["trackingNumber"] == "BR-NEW"
    for key in ("courier", "trackingUrl", "dispatchedDate"):
        assert after[key] == before[key], key
    assert after["courier"] == "Correios"
