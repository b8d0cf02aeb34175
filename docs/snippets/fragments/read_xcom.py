"""Read what a task pushed to XCom in the latest run of a DAG, straight from the metadata database: after
``airflow dags test`` there is no API server to ask. Airflow 2.11 and 3.

tests/integration/test_docs.py checks it against the values a run really pushed.
"""

from __future__ import annotations

import json
import sys
from typing import Any


# --8<-- [start:doc]
def latest_xcom(dag_id: str, task_id: str, key: str = "return_value") -> list[Any]:
    """The values ``task_id`` pushed under ``key`` in ``dag_id``'s latest run (one per mapped instance)."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    try:
        from airflow.models.xcom import XComModel as XCom  # Airflow 3: the table's model
    except ImportError:
        from airflow.models.xcom import XCom  # type: ignore[no-redef]  # Airflow 2

    with create_session() as session:
        run_id = session.scalar(
            select(DagRun.run_id).where(DagRun.dag_id == dag_id).order_by(DagRun.id.desc()).limit(1)
        )
        values = session.scalars(
            select(XCom.value)
            .where(XCom.dag_id == dag_id, XCom.run_id == run_id, XCom.task_id == task_id, XCom.key == key)
            .order_by(XCom.map_index)
        ).all()
    return [json.loads(value) if isinstance(value, str | bytes) else value for value in values]


if __name__ == "__main__":  # python read_xcom.py DAG_ID TASK_ID [KEY]
    print(json.dumps(latest_xcom(*sys.argv[1:4]), indent=2, default=str))
# --8<-- [end:doc]
