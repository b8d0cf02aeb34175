"""An item the ERP cannot ship: modify the order, invoice what ships, track it, and log each step.

The flow of a stockout, as a merchant's support team wants to read it in the order's log:

1. ``start_handling`` moves the order to ``handling`` (VTEX modifies orders only from there on).
2. ``ask_erp_what_ships`` stands for your ERP: it reports the units of a SKU it cannot ship.
3. ``remove_what_does_not_ship`` modifies the order (VTEX's order modifications): it asks VTEX for a
   preview (pushed to XCom under ``preview``), applies the change once (its ``reason``, unique to this
   stockout, keeps a retry from removing the item twice), then waits in the triggerer, holding no worker
   slot, until VTEX has recalculated the order (the change request is ``done``).
4. ``invoice_what_ships`` reads the modified order and builds the invoice from it: its items and total
   are what VTEX now holds, so the invoice matches the order; ``notify_invoice`` sends it once.
5. ``notify_tracking`` sends the carrier's tracking number.
6. ``log_*`` tasks write each step in the order's log (VTEX's interactions), with the reason.

To adapt it: replace ``ask_erp_what_ships`` with your ERP's answer, and trigger with
``{"order_id": "<order id>", "sku": "<SKU id>", "units_short": <n>}``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow_provider_vtex.operators.invoice import InvoiceNotificationOperator
from airflow_provider_vtex.operators.modification import VtexOrderModificationOperator
from airflow_provider_vtex.operators.order_log import VtexOrderLogOperator
from airflow_provider_vtex.operators.start_handling import VtexStartHandlingOperator
from airflow_provider_vtex.operators.tracking import TrackingNotificationOperator

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2.11 (mypy checks 3.3's names)
    from airflow.decorators import dag, task  # type: ignore[attr-defined,no-redef]

ORDER = "{{ params.order_id }}"
SOURCE = "Airflow example_vtex_stockout"


@dag(
    dag_id="example_vtex_stockout",
    schedule=None,  # triggered per order the ERP reports short
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    # CHANGE: the defaults are an order of the sandbox's seed: 5 units of SKU 6101, 2 of them short.
    params={"order_id": "1172452900791-01", "sku": "6101", "units_short": 2},
    default_args={"retries": 2, "retry_delay": dt.timedelta(seconds=10)},
    tags=["vtex", "example"],
    doc_md=__doc__,
)
def example_vtex_stockout() -> None:
    start_handling = VtexStartHandlingOperator(task_id="start_handling", order_ids=ORDER)

    @task
    def ask_erp_what_ships(params: dict[str, Any] | None = None) -> dict[str, Any]:
        """CHANGE: ask your ERP which units it cannot ship; the change removes them from the order."""
        assert params is not None
        return {
            # The reason is the modification's key: unique to this stockout, so a retry finds it applied.
            "reason": f"ERP stockout: {params['units_short']} unit(s) of SKU {params['sku']} unavailable",
            "remove": {"items": [{"id": str(params["sku"]), "quantity": int(params["units_short"])}]},
        }

    change = ask_erp_what_ships()

    # --8<-- [start:modify]
    modify = VtexOrderModificationOperator(
        task_id="remove_what_does_not_ship",
        order_id=ORDER,
        change=change,  # type: ignore[arg-type]  # an XComArg stands for its value at run time
        deferrable=True,  # wait in the triggerer, not in a worker slot
        poll_interval=2,  # CHANGE: VTEX takes seconds to minutes; poll every 30 s or so in production
        timeout=600,
    )
    # --8<-- [end:modify]

    log_modified = VtexOrderLogOperator(
        task_id="log_modification",
        order_id=ORDER,
        source=SOURCE,
        message="{{ ti.xcom_pull(task_ids='ask_erp_what_ships')['reason'] }}: removed from the order "
        "(change request {{ ti.xcom_pull(task_ids='remove_what_does_not_ship')['change_request_id'] }}).",
    )

    @task
    def invoice_what_ships(params: dict[str, Any] | None = None) -> dict[str, Any]:
        """The invoice of what VTEX now holds on the order: items and total after the modification.

        CHANGE: have your ERP issue the invoice for these items and return its number and key.
        """
        from airflow_provider_vtex.hooks.vtex import VtexHook

        assert params is not None
        order = VtexHook().get_order(params["order_id"])
        items = [
            {"id": str(item["id"]), "price": int(item["price"]), "quantity": int(item["quantity"])}
            for item in order.get("items") or []
            if int(item.get("quantity") or 0) > 0
        ]
        return {
            "type": "Output",
            "invoiceNumber": f"NF-{params['order_id']}",
            "invoiceValue": int(order["value"]),
            "issuanceDate": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "items": items,
        }

    shipped = invoice_what_ships()
    notify_invoice = InvoiceNotificationOperator(
        task_id="notify_invoice",
        order_id=ORDER,
        invoice=shipped,  # type: ignore[arg-type]  # an XComArg stands for its value at run time
    )

    notify_tracking = TrackingNotificationOperator(
        task_id="notify_tracking",
        order_id=ORDER,
        invoice_number="{{ ti.xcom_pull(task_ids='notify_invoice')['invoice_number'] }}",
        tracking={
            "trackingNumber": "BR-{{ params.order_id }}",  # CHANGE: your carrier's tracking code
            "courier": "Correios",
            "dispatchedDate": "{{ macros.datetime.now().astimezone().isoformat(timespec='seconds') }}",
        },
    )

    log_shipped = VtexOrderLogOperator(
        task_id="log_invoice_and_tracking",
        order_id=ORDER,
        source=SOURCE,
        message="Invoice {{ ti.xcom_pull(task_ids='notify_invoice')['invoice_number'] }} sent for what ships; "
        "tracking BR-{{ params.order_id }} (Correios).",
    )

    log_reported = VtexOrderLogOperator(
        task_id="log_erp_report",
        order_id=ORDER,
        source=SOURCE,
        message="Handling started; the ERP reports: "
        "{{ ti.xcom_pull(task_ids='ask_erp_what_ships')['reason'] }}.",
    )

    start_handling >> change >> log_reported >> modify >> log_modified >> shipped
    notify_invoice >> notify_tracking >> log_shipped


example_vtex_stockout()
