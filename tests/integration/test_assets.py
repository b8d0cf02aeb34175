"""The ``vtex`` asset URI scheme and the operators' asset events.

The scheme is checked through Airflow itself (its ProvidersManager finds ``asset-uris`` in the installed
provider's info and normalises ``Asset("vtex://...")`` with our handler); the events through a real
``dag.test()`` run against the sandbox, read back from Airflow's metadata database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_vtex import assets, compat
from airflow_provider_vtex.get_provider_info import get_provider_info
from airflow_provider_vtex.operators.invoice import InvoiceNotificationOperator
from tests.integration.dag_runs import task_states

airflow3 = pytest.mark.skipif(compat.Asset is None, reason="assets are Airflow 3's")


def test_the_provider_declares_the_vtex_scheme_with_its_handler() -> None:
    [declared] = get_provider_info()["asset-uris"]
    assert declared["schemes"] == ["vtex"]
    assert declared["handler"] == "airflow_provider_vtex.assets.sanitize_uri"


@airflow3
@pytest.mark.parametrize(
    "written",
    ["vtex://mystore/orders/invoiced", "vtex://MyStore/orders/invoiced/", "VTEX://mystore/Orders/Invoiced"],
)
def test_airflow_normalises_a_vtex_asset_with_the_provider_s_handler(written: str) -> None:
    assert compat.Asset(written).uri == "vtex://mystore/orders/invoiced"


@airflow3
@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("vtex://mystore/orders/invoice", "orders/handling, orders/invoiced, orders/tracking"),
        ("vtex://my_store/orders/invoiced", "account name"),
        ("vtex://mystore:8080/orders/invoiced", "no user, password or port"),
        ("vtex://mystore/orders/invoiced?x=1", "no query"),
    ],
)
def test_a_wrong_vtex_asset_fails_when_the_dag_file_is_parsed(written: str, says: str) -> None:
    with pytest.raises(ValueError, match=says.replace("?", r"\?")):
        compat.Asset(written)


def test_asset_uri_builds_the_normal_form() -> None:
    assert assets.asset_uri(" MyStore ", "/orders/tracking/") == "vtex://mystore/orders/tracking"


@airflow3
def test_asset_account_declares_the_outlet_at_parse_time() -> None:
    operator = InvoiceNotificationOperator(task_id="i", order_id="1", invoice={}, asset_account="mystore")
    assert [outlet.uri for outlet in operator.outlets] == ["vtex://mystore/orders/invoiced"]
    plain = InvoiceNotificationOperator(task_id="p", order_id="1", invoice={})
    assert plain.outlets == []


def test_on_airflow_2_the_task_declares_nothing_and_warns(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    from airflow_provider_vtex.operators.asset_events import emit_asset_event

    monkeypatch.setattr(compat, "Asset", None)  # what compat resolves on Airflow 2
    operator = InvoiceNotificationOperator(task_id="i2", order_id="1", invoice={}, asset_account="mystore")
    assert operator.outlets == []
    with caplog.at_level(logging.WARNING):
        emit_asset_event(operator, {}, "mystore", assets.INVOICED, {"order_id": "1"})  # type: ignore[arg-type]
    # Airflow 3's task logger writes through structlog (stdout); Airflow 2's through logging.
    assert "asset events need Airflow 3" in caplog.text + capsys.readouterr().out


def _events(uri: str) -> list[dict[str, Any]]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.uri == uri)
        ).all()
        return [dict(row.extra or {}) for row in rows]


@airflow3
@pytest.mark.airflow_dag
def test_each_operator_records_what_it_did_in_its_asset_event(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any]
) -> None:
    before = {kind: len(_events(f"vtex://mystore/{kind}")) for kind in assets.KINDS}

    dag_run = run_dag("vtex_test_asset_events")

    assert task_states(dag_run) == {
        "start_handling": ["success"],
        "invoice": ["success"],
        "tracking": ["success"],
    }
    handling = _events("vtex://mystore/orders/handling")[before["orders/handling"] :]
    invoiced = _events("vtex://mystore/orders/invoiced")[before["orders/invoiced"] :]
    tracking = _events("vtex://mystore/orders/tracking")[before["orders/tracking"] :]
    assert handling == [{"order_ids": ["70caf3941s6df1"]}]
    assert invoiced == [{"order_id": "70caf3941s6df1", "invoice_number": "NF-ASSET-1", "outcome": "sent"}]
    assert tracking == [
        {
            "order_id": "70caf3941s6df1",
            "invoice_number": "NF-ASSET-1",
            "tracking_number": "BR-ASSET-1",
            "delivered": None,
        }
    ]
