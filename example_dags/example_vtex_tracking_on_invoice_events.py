"""Send tracking for each invoice as soon as it is sent: a DAG scheduled on invoice events (Airflow 3).

``example_vtex_invoice_emits_asset_event`` updates the asset ``vtex://mystore/orders/invoiced`` whenever
it invoices an order, with the order id and invoice number in the event's extra. Airflow runs this DAG on
those events and hands them over as ``triggering_asset_events``; one tracking task per invoice follows.
Run by hand (the demo's ``airflow dags test``), there is no triggering event: the DAG then takes the
asset's latest event, read through ``inlet_events``.

The provider normalises ``vtex://`` URIs (``vtex://MyStore/orders/invoiced/`` is the same asset) and
refuses a kind it does not know, so a typo fails this file at parse time instead of never running.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow_provider_vtex.compat import Asset

if Asset is not None:  # Airflow 3: assets and asset-scheduled DAGs
    from airflow.sdk import dag, task

    from airflow_provider_vtex.assets import INVOICED, asset_uri
    from airflow_provider_vtex.operators.tracking import TrackingNotificationOperator

    #: CHANGE: your VTEX account name, as in the invoicing DAG.
    VTEX_ACCOUNT = "mystore"
    invoiced = Asset(asset_uri(VTEX_ACCOUNT, INVOICED))

    @dag(
        dag_id="example_vtex_tracking_on_invoice_events",
        schedule=invoiced,
        start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
        catchup=False,
        default_args={"retries": 2, "retry_delay": dt.timedelta(seconds=30)},
        tags=["vtex", "example"],
        doc_md=__doc__,
    )
    def example_vtex_tracking_on_invoice_events() -> None:
        @task(inlets=[invoiced])
        def invoices_to_track(
            triggering_asset_events: Any = None, inlet_events: Any = None
        ) -> list[dict[str, Any]]:
            """The invoices this run is for: the events that triggered it, else the asset's latest."""
            events = list(triggering_asset_events[invoiced]) if triggering_asset_events else []
            if not events:
                latest = list(inlet_events[invoiced])[-1:]
                events = latest
            return [
                {
                    "order_id": event.extra["order_id"],
                    "invoice_number": event.extra["invoice_number"],
                    # CHANGE: what your carrier said (here: a tracking number made from the invoice's).
                    "tracking": {
                        "trackingNumber": f"BR-{event.extra['invoice_number']}",
                        "courier": "Correios",
                    },
                }
                for event in events
            ]

        TrackingNotificationOperator.partial(task_id="tracking").expand_kwargs(invoices_to_track())

    example_vtex_tracking_on_invoice_events()
