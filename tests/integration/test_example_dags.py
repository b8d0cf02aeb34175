"""The example DAGs: they parse without touching the network, and each runs end to end in real Airflow
against the sandbox, leaving VTEX's state as a merchant would expect."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_vtex.compat import AssetWatcher
from tests.conftest import REPO_ROOT
from tests.integration.dag_runs import rendered_fields, task_states, xcom_values

EXAMPLES = sorted(p.stem for p in (REPO_ROOT / "example_dags").glob("example_*.py"))
#: Examples that need Airflow 3's event-driven scheduling: on Airflow 2 their file defines no DAG.
AIRFLOW_3_ONLY = {
    "example_vtex_orders_from_feed_events",
    "example_vtex_invoice_orders_in_handling",
    "example_vtex_tracking_on_invoice_events",
}


def test_example_dags_import_without_errors_or_network(
    monkeypatch: pytest.MonkeyPatch, airflow_db: Path
) -> None:
    try:  # Airflow 3.2+
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 2.x, 3.0, 3.1 (mypy checks 3.3's names)
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

    def no_network(self: socket.socket, address: Any) -> None:
        raise AssertionError(f"a DAG file opened a network connection to {address} while being parsed")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    bag = DagBag(dag_folder=str(REPO_ROOT / "example_dags"))
    assert bag.import_errors == {}
    expected = EXAMPLES if AssetWatcher is not None else [e for e in EXAMPLES if e not in AIRFLOW_3_ONLY]
    assert sorted(bag.dag_ids) == expected
    for dag_id in bag.dag_ids:
        assert "vtex" in bag.get_dag(dag_id).tags
        assert bag.get_dag(dag_id).doc_md


@pytest.mark.airflow_dag
@pytest.mark.skipif(AssetWatcher is None, reason="asset events are Airflow 3's")
def test_tracking_dag_runs_on_the_invoice_dag_s_asset_event(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any]
) -> None:
    sandbox = vtex_sandbox_connection
    invoiced = run_dag("example_vtex_invoice_emits_asset_event")
    assert task_states(invoiced) == {"invoice": ["success"]}

    tracked = run_dag("example_vtex_tracking_on_invoice_events")

    assert task_states(tracked) == {"invoices_to_track": ["success"], "tracking": ["success"]}
    (package,) = sandbox.order("v71021948str-01")["packageAttachment"]["packages"]
    assert package["invoiceNumber"] == "NF-AS-v71021948str"
    assert package["trackingNumber"] == "BR-NF-AS-v71021948str"


@pytest.mark.airflow_dag
def test_invoice_after_erp_invoices_ships_and_delivers(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any]
) -> None:
    sandbox = vtex_sandbox_connection
    dag_run = run_dag("example_vtex_invoice_after_erp")
    assert {state for states in task_states(dag_run).values() for state in states} == {"success"}
    order = sandbox.order("1172452900788-01")
    assert order["status"] == "invoiced"
    (package,) = order["packageAttachment"]["packages"]
    assert package["invoiceNumber"] == "NF-100234"
    assert package["invoiceValue"] == 10470
    assert package["invoiceUrl"] == "https://erp.example.com/invoices/NF-100234.pdf"
    assert package["trackingNumber"] == "BR123456789XX"
    assert package["courier"] == "Correios"
    assert package["courierStatus"]["finished"] is True
    assert len(package["courierStatus"]["data"]) == 3
    (receipt,) = xcom_values(dag_run, "notify_invoice")
    assert receipt["receipt"] == sandbox.invoices("1172452900788-01")[0]["receipt"]
    assert xcom_values(dag_run, "notify_delivery")[0]["status_receipt"]["receipt"]


@pytest.mark.airflow_dag
def test_invoice_many_orders_maps_one_task_per_order(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any]
) -> None:
    sandbox = vtex_sandbox_connection
    dag_run = run_dag("example_vtex_invoice_many_orders")
    assert task_states(dag_run)["notify_invoice"] == ["success"] * 3
    orders = [r["order_id"] for r in xcom_values(dag_run, "notify_invoice")]
    assert orders == ["70caf3941s6df1", "v502559llux-01", "1172452900791-01"]
    for order_id in orders:
        assert sandbox.order(order_id)["status"] == "invoiced"
        assert sandbox.post_count(order_id) == 1


@pytest.mark.airflow_dag
def test_invoice_from_ui_with_default_params(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any]
) -> None:
    sandbox = vtex_sandbox_connection
    dag_run = run_dag("example_vtex_invoice_from_ui")
    assert task_states(dag_run)["notify_invoice"] == ["success"]
    order = sandbox.order("1172452900789-01")
    assert order["status"] == "invoiced"
    assert [p["invoiceNumber"] for p in order["packageAttachment"]["packages"]] == ["NF-300001"]
    # The Rendered Template view shows the payload as VTEX receives it: items as a list, not JSON text.
    (fields,) = rendered_fields(dag_run, "notify_invoice")
    invoice = fields["invoice"]
    invoice = json.loads(invoice) if isinstance(invoice, str) else invoice
    assert invoice["items"][0] == {"id": "3105", "price": 19990, "quantity": 1}
    assert invoice["invoiceValue"] == "28069"


@pytest.mark.airflow_dag
def test_invoice_from_ui_with_form_values(vtex_sandbox_connection: Any, run_dag: Callable[..., Any]) -> None:
    sandbox = vtex_sandbox_connection
    conf = {
        "order_id": "70caf3941s6df1",
        "invoice_number": "NF-UI-1",
        "invoice_value": 2499,
        "items": [{"id": "2001", "price": 2499, "quantity": 1}],
    }
    dag_run = run_dag("example_vtex_invoice_from_ui", run_conf=conf)
    assert task_states(dag_run)["notify_invoice"] == ["success"]
    (package,) = sandbox.order("70caf3941s6df1")["packageAttachment"]["packages"]
    assert (package["invoiceNumber"], package["invoiceValue"]) == ("NF-UI-1", 2499)


@pytest.mark.airflow_dag
def test_bulk_invoicing_maps_one_bulk_task_per_chunk(
    run_dag: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from vtex_sandbox import VtexSandbox

    with VtexSandbox(auto_create_orders=True) as sandbox:
        monkeypatch.setenv("AIRFLOW_CONN_VTEX_DEFAULT", sandbox.airflow_connection())
        dag_run = run_dag("example_vtex_bulk_invoicing", run_conf={"invoice_count": 45, "chunk_size": 20})
        assert task_states(dag_run)["notify_invoices"] == ["success"] * 3  # chunks of 20, 20 and 5
        results = [r for chunk in xcom_values(dag_run, "notify_invoices") for r in chunk]
        assert len(results) == 45
        assert {r["outcome"] for r in results} == {"sent"}
        assert all(sandbox.order(f"bulk-{n:06d}-01")["status"] == "invoiced" for n in range(45))
        assert sandbox.post_count() == 45


READY_FEED = {
    "filter": {"type": "FromWorkflow", "status": ["ready-for-handling"]},
    "queue": {"visibilityTimeoutInSeconds": 60, "MessageRetentionPeriodInSeconds": 3600},
}


def ready_orders(sandbox: Any, count: int, prefix: str) -> list[str]:
    """Orders a store's customers placed and paid: each reaches ready-for-handling (a feed event)."""
    ids = [f"{prefix}-{n:03d}-01" for n in range(count)]
    for order_id in ids:
        sandbox.place_order(order_id, status="payment-approved")
        sandbox.move_order(order_id, "ready-for-handling")
    return ids


@pytest.mark.airflow_dag
def test_erp_order_loop_handles_invoices_and_commits_each_order_once(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any]
) -> None:
    sandbox = vtex_sandbox_connection
    sandbox.configure_feed(READY_FEED)
    ids = ready_orders(sandbox, 5, "ERP")
    dag_run = run_dag("example_vtex_erp_order_loop")
    assert {state for states in task_states(dag_run).values() for state in states} == {"success"}
    for order_id in ids:
        order = sandbox.order(order_id)
        assert order["status"] == "invoiced", order_id
        (package,) = order["packageAttachment"]["packages"]
        assert package["trackingNumber"]
        assert sandbox.timeline(order_id)["startHandling"]["calls"] == 1
    (queue,) = sandbox.stats()["feeds"].values()
    assert queue["quantity"] == 0  # every item read was committed

    again = run_dag("example_vtex_erp_order_loop")  # nothing new in the feed: nothing done twice
    assert xcom_values(again, "read_feed") == [[]]
    assert all(sandbox.timeline(order_id)["startHandling"]["calls"] == 1 for order_id in ids)


@pytest.mark.airflow_dag
def test_erp_order_loop_after_a_run_died_before_committing(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any]
) -> None:
    """The feed hands the items out again; the orders started by the dead run are not started twice."""
    from vtex_sandbox import Fault

    sandbox = vtex_sandbox_connection
    sandbox.configure_feed(READY_FEED)
    ids = ready_orders(sandbox, 3, "DIED")
    sandbox.add_fault(Fault("feed_commit", "status", status=401))  # the run dies at the commit
    failed = run_dag("example_vtex_erp_order_loop")
    assert task_states(failed)["commit_feed"] == ["failed"]
    assert all(sandbox.order(order_id)["status"] == "handling" for order_id in ids)
    sandbox.clear_faults()
    sandbox.advance_clock(61)  # the feed's visibility timeout passes: the items come back
    dag_run = run_dag("example_vtex_erp_order_loop")
    assert {state for states in task_states(dag_run).values() for state in states} == {"success"}, str(
        task_states(dag_run)
    )
    outcomes = {r["order_id"]: r["outcome"] for r in xcom_values(dag_run, "start_handling")[0]}
    assert outcomes == dict.fromkeys(ids, "already_handling")
    for order_id in ids:
        assert sandbox.timeline(order_id)["startHandling"]["calls"] == 1
        assert sandbox.order(order_id)["status"] == "invoiced"


@pytest.mark.airflow_dag
@pytest.mark.skipif(AssetWatcher is None, reason="event-driven scheduling needs Airflow 3")
def test_orders_from_feed_events_reconciles_ready_orders_without_events(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any]
) -> None:
    """A run with no triggering event (the clock's) still handles every ready order: the reconciliation.
    Then the invoicing DAG invoices every order in handling, once."""
    sandbox = vtex_sandbox_connection
    ids = ready_orders(sandbox, 3, "RECON")
    dag_run = run_dag("example_vtex_orders_from_feed_events")
    assert {state for states in task_states(dag_run).values() for state in states} == {"success"}
    for order_id in ids:
        assert sandbox.timeline(order_id)["startHandling"]["calls"] == 1
        assert sandbox.order(order_id)["status"] == "handling"
    invoicing = run_dag("example_vtex_invoice_orders_in_handling")
    assert {state for states in task_states(invoicing).values() for state in states} == {"success"}
    again = run_dag("example_vtex_invoice_orders_in_handling")  # nothing in handling any more
    assert xcom_values(again, "invoices_from_erp") == [[]]
    for order_id in ids:
        assert sandbox.order(order_id)["status"] == "invoiced"
        assert sandbox.post_count(order_id) == 1


@pytest.mark.airflow_dag
@pytest.mark.vtex_sandbox(change_processing_seconds=1)
def test_stockout_modifies_the_order_invoices_what_ships_and_logs_each_step(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any]
) -> None:
    sandbox = vtex_sandbox_connection
    order_id = "1172452900791-01"  # 1 x SKU 6100 at 89.00 and 5 x SKU 6101 at 1.50
    value_before = sandbox.order(order_id)["value"]

    dag_run = run_dag("example_vtex_stockout")

    assert {state for states in task_states(dag_run).values() for state in states} == {"success"}
    order = sandbox.order(order_id)
    assert order["status"] == "invoiced"
    assert {i["id"]: i["quantity"] for i in order["items"]}["6101"] == 3
    (package,) = order["packageAttachment"]["packages"]
    # the invoice covers what ships: the order's total after the two units were removed
    assert package["invoiceValue"] == order["value"] == value_before - 2 * 150
    assert sum(int(i["quantity"]) for i in package["items"]) == 1 + 3
    assert package["trackingNumber"] == f"BR-{order_id}"
    log = [i["message"] for i in sandbox.interactions(order_id)]
    assert len(log) == 3
    assert "2 unit(s) of SKU 6101 unavailable" in log[0]
    assert "removed from the order" in log[1]
    assert "Invoice NF-" in log[2]


@pytest.mark.airflow_dag
def test_several_accounts_reads_each_account_and_relates_franchise_orders(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One sandbox, three accounts (one PII): one mapped task per connection id, each account's orders
    read with its own keys from its own URL, the franchise's order put beside the main store's."""
    main = vtex_sandbox_connection
    shoe = [{"id": "2001", "name": "Running shoe", "quantity": 1, "price": 2499}]
    main.add_order("MKT-7001-01", shoe, status="handling", sellerOrderId="FRA-7001-01")
    franchise = main.add_account(
        "franchise",
        app_key="fr-key",
        app_token="fr-token",
        orders=[{"orderId": "FRA-7001-01", "items": shoe, "marketplaceOrderId": "MKT-7001-01"}],
    )
    store_br = main.add_account(
        "store-br", app_key="br-key", app_token="br-token", data_architecture="pii", seed_default=True
    )
    monkeypatch.setenv("AIRFLOW_CONN_VTEX_FRANCHISE", franchise.airflow_connection())
    monkeypatch.setenv("AIRFLOW_CONN_VTEX_STORE_BR", store_br.airflow_connection())
    dag_run = run_dag("example_vtex_several_accounts")
    assert task_states(dag_run)["ready_orders"] == ["success"] * 3
    (related,) = xcom_values(dag_run, "relate")
    assert related == [
        {
            "seller_account": "vtex_franchise",
            "seller_order_id": "FRA-7001-01",
            "marketplace_order_id": "MKT-7001-01",
            "marketplace_names_the_seller_order": True,
            "marketplace_status": "handling",
        }
    ]
    for account in (main, franchise, store_br):
        entries = account.log.entries()
        assert entries
        assert {entry["headers"]["X-VTEX-API-AppKey"] for entry in entries} == {account.app_key}
        assert {entry["status"] for entry in entries} == {200}
    assert {entry["route"] for entry in store_br.log.entries()} == {"list_orders", "get_order"}
