"""Asset events for what a VTEX task did (Airflow 3), opt in with ``asset_account``.

A task given ``asset_account="mystore"`` declares the asset ``vtex://mystore/{kind}`` as an outlet when
the DAG is parsed (Airflow needs outlets then, to know which DAGs are scheduled on them), and puts what it
did (order id, invoice number, outcome) in the extra of the event Airflow records when the task succeeds.
A DAG scheduled on ``Asset("vtex://mystore/orders/invoiced")`` then runs after each invoice and reads
the order from ``triggering_asset_events``.

On Airflow 2 there are no assets (its Datasets are another API), so the task declares nothing, does its
work as usual and logs a warning that asset events need Airflow 3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.assets import create_asset, is_vtex_asset

if TYPE_CHECKING:
    from airflow_provider_vtex.compat import Context

AIRFLOW_2_WARNING = (
    "asset_account=%r asks for VTEX asset events, but asset events need Airflow 3 (this Airflow has no "
    "airflow.sdk.Asset): the task did its work and emitted no %s event. Upgrade to Airflow 3 to schedule "
    "DAGs on it, or leave asset_account unset."
)


def with_asset_outlet(kwargs: dict[str, Any], asset_account: str | None, kind: str) -> dict[str, Any]:
    """``kwargs`` for ``BaseOperator`` with ``vtex://{asset_account}/{kind}`` added to ``outlets`` (Airflow 3;
    unchanged on Airflow 2 or without ``asset_account``). A bad account name fails the DAG file at once."""
    from airflow_provider_vtex.compat import Asset

    if asset_account is None or Asset is None:
        return kwargs
    outlets = kwargs.get("outlets") or []
    outlets = list(outlets) if isinstance(outlets, list | tuple) else [outlets]
    return {**kwargs, "outlets": [*outlets, create_asset(account=asset_account, kind=kind)]}


def emit_asset_event(
    operator: Any, context: Context, asset_account: str | None, kind: str, extra: dict[str, Any]
) -> None:
    """Put ``extra`` on the event of each ``vtex`` outlet of ``kind`` (Airflow records it when the task
    succeeds); on Airflow 2, only the warning. ``extra`` must be JSON: ids and outcomes, never a secret."""
    if asset_account is None:
        return
    from airflow_provider_vtex.compat import Asset

    if Asset is None:
        operator.log.warning(AIRFLOW_2_WARNING, asset_account, kind)
        return
    outlet_events = context["outlet_events"]
    for outlet in operator.outlets:
        if is_vtex_asset(outlet, kind):
            outlet_events[outlet].extra = extra
            operator.log.info("Asset event for %s: %s", outlet.uri, extra)
