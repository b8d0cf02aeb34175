"""What a finished DAG run left in the metadata database: task states, XComs, rendered template fields."""

from __future__ import annotations

import json
from typing import Any


def task_states(dag_run: Any) -> dict[str, list[str]]:
    """``{task_id: [state per map index]}`` of a finished DagRun."""
    states: dict[str, list[str]] = {}
    for ti in sorted(dag_run.get_task_instances(), key=lambda ti: (ti.task_id, ti.map_index)):
        states.setdefault(ti.task_id, []).append(
            str(ti.state.value if hasattr(ti.state, "value") else ti.state)
        )
    return states


def xcom_values(dag_run: Any, task_id: str, key: str = "return_value") -> list[Any]:
    """A task's XComs under ``key`` (by default its return values), in map-index order."""
    from sqlalchemy import select

    try:  # Airflow 3: the table's model (XCom is the task SDK's accessor there)
        from airflow.models.xcom import XComModel as XCom
    except ImportError:  # Airflow 2.x
        from airflow.models.xcom import XCom
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.execute(
            select(XCom.map_index, XCom.value)
            .where(XCom.dag_id == dag_run.dag_id, XCom.run_id == dag_run.run_id, XCom.task_id == task_id)
            .where(XCom.key == key)
            .order_by(XCom.map_index)
        ).all()
    return [_xcom_value(value) for _, value in rows]


def rendered_fields(dag_run: Any, task_id: str | None = None) -> list[dict[str, Any]]:
    """The rendered template fields Airflow stored for a run (the UI's Rendered Template view)."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields as RTIF
    from airflow.utils.session import create_session
    from sqlalchemy import select

    query = select(RTIF.rendered_fields).where(RTIF.dag_id == dag_run.dag_id, RTIF.run_id == dag_run.run_id)
    if task_id is not None:
        query = query.where(RTIF.task_id == task_id)
    with create_session() as session:
        return [_xcom_value(row) for row in session.scalars(query).all()]


def _xcom_value(value: Any) -> Any:
    if isinstance(value, bytes | str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
