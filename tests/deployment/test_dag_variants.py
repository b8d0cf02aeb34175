"""The test variants of an example DAG (``tests/deployment/dags``) must still be the example: the tasks
they share have the same ids, operators, upstream tasks and code. Otherwise a deployment test would prove
something about a DAG no user copies. Fast (parses two files); runs in ``make test``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.deployment.conftest import DAGS, EXAMPLE_DAGS


def dags_of(path: Any) -> dict[str, Any]:
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # pragma: no cover - older Airflow 3 releases (mypy checks 3.3's names)
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

    bag = DagBag(dag_folder=str(path))
    assert bag.import_errors == {}
    return dict(bag.dags)


def code_shape(code: Any, docstring: str | None = None) -> tuple[Any, ...]:
    """A code object's instructions, names and constants (nested code too), without its docstring and
    line numbers: equal for the same code written in another file."""
    # A function without a docstring holds None where another holds its docstring.
    consts = [None if docstring is not None and c == docstring else c for c in code.co_consts]
    return (
        code.co_code,
        code.co_names,
        code.co_varnames,
        tuple(code_shape(c) if hasattr(c, "co_code") else c for c in consts),
    )


def shape(task: Any) -> tuple[Any, ...]:
    """What must match: the operator, its upstream tasks, and for a @task its code (docstrings aside)."""
    callable_ = getattr(task, "python_callable", None)
    code = code_shape(callable_.__code__, callable_.__doc__) if callable_ is not None else None
    return (type(task).__name__, sorted(task.upstream_task_ids), code)


@pytest.mark.parametrize(
    ("variant_id", "tasks"),
    [
        ("vtex_feed_loop", ["read_feed", "get_orders", "send_to_erp", "start_handling", "commit_feed"]),
        (
            "vtex_feed_loop_backlog",
            ["read_feed", "get_orders", "send_to_erp", "start_handling", "commit_feed"],
        ),
        (
            "vtex_feed_loop_every_minute",
            [
                "read_feed",
                "get_orders",
                "send_to_erp",
                "start_handling",
                "commit_feed",
                "invoices_from_erp",
                "notify_invoices",
            ],
        ),
    ],
)
def test_feed_loop_variants_run_the_examples_tasks(variant_id: str, tasks: list[str]) -> None:
    (example,) = dags_of(EXAMPLE_DAGS / "example_vtex_erp_order_loop.py").values()
    variant = dags_of(DAGS / "vtex_feed_loop_dags.py")[variant_id]
    assert sorted(variant.task_ids) == sorted(tasks)
    for task_id in tasks:
        expected = shape(example.get_task(task_id))
        if task_id == "read_feed":  # the example reads after configure_feed; the tests configure the sandbox
            expected = (expected[0], [], *expected[2:])
        assert shape(variant.get_task(task_id)) == expected, (
            f"{variant_id}.{task_id} differs from the example"
        )
