"""The sandbox from Python and pytest (docs/sandbox.md); tests/integration/test_docs.py runs ``a_store_day``."""

from __future__ import annotations

from typing import Any

from vtex_sandbox import VtexSandbox


# --8<-- [start:pytest]
def test_my_dag(vtex_sandbox_connection: Any) -> None:
    # Run your DAG here (e.g. dag.test()): AIRFLOW_CONN_VTEX_DEFAULT points at the sandbox. Then:
    assert vtex_sandbox_connection.order("1172452900788-01")["status"] == "invoiced"


# --8<-- [end:pytest]


# --8<-- [start:day]
def a_store_day(orders: int = 300, over_seconds: float = 60) -> dict[str, Any]:
    with VtexSandbox() as sb:  # your feed reader DAG points at sb.url
        day = sb.simulate(orders=orders, over_seconds=over_seconds)
        # ... run the reader while the day goes on ...
        assert day.wait(over_seconds + 60)
        workflow = sb.stats()["workflow"]
        assert workflow["startHandling"]["ordersCalledMoreThanOnce"] == {}
        return workflow


# --8<-- [end:day]
