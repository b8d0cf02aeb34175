"""The operation table cannot drift: every operation of the route tables is listed with its hook methods
and operator (which exist), each VTEX operation id is the one VTEX's files give that route, and every
operation of both files is either served, or listed as not exposed with what replaces it."""

from __future__ import annotations

import importlib
import json
import re
from typing import Any, get_args

import pytest

from airflow_provider_vtex.client.routes import NOT_EXPOSED, ROUTE_SETS, Operation
from airflow_provider_vtex.hooks.operations import OPERATIONS, operation_rows
from airflow_provider_vtex.hooks.vtex import VtexHook
from tests import contract
from vtex_sandbox import spec_corrections

_TASK_MODULES = (
    "operators.invoice",
    "operators.tracking",
    "operators.bulk",
    "operators.feed",
    "operators.start_handling",
    "operators.payment",
    "operators.cancel",
    "operators.modification",
    "operators.order_log",
    "operators.order_hook",
    "sensors.order_status",
    "triggers.order_status",
    "triggers.change_request",
    "triggers.order_feed",  # Airflow 3 only
    "triggers.order_hook",  # Airflow 3 only
)


def _vtex_operations() -> dict[tuple[str, str], str | None]:
    """``(METHOD, path) -> operationId`` of both files."""
    found: dict[tuple[str, str], str | None] = {}
    for name in spec_corrections.SPEC_FILES.values():
        spec = json.loads((spec_corrections.SPEC_DIR / name).read_text(encoding="utf-8"))
        for path, item in spec["paths"].items():
            for verb, operation in item.items():
                if verb in ("get", "post", "put", "patch", "delete"):
                    found[(verb.upper(), path)] = operation.get("operationId")
    return found


def _vtex_path(template: str) -> str:
    """Our template in VTEX's spelling: ``{order_id}`` -> ``{orderId}``."""
    names = {
        "order_id": "orderId",
        "invoice_number": "invoiceNumber",
        "payment_id": "paymentId",
        "change_order_id": "changeOrderId",
        "change_request_id": "changeRequestId",
        "order_group": "orderGroup",
    }
    return re.sub(r"\{(\w+)\}", lambda m: "{" + names[m.group(1)] + "}", template)


def test_every_operation_of_the_route_tables_is_listed_once() -> None:
    in_tables = {name for routes in ROUTE_SETS.values() for name in routes}
    missing = in_tables - set(OPERATIONS)
    assert not missing, (
        f"add these to airflow_provider_vtex/hooks/operations.py OPERATIONS: {sorted(missing)}"
    )
    assert set(OPERATIONS) <= set(get_args(Operation))
    assert set(get_args(Operation)) <= in_tables


def test_every_listed_method_and_task_class_exists() -> None:
    classes: dict[str, Any] = {}
    for module in _TASK_MODULES:
        try:
            loaded = importlib.import_module(f"airflow_provider_vtex.{module}")
        except ImportError:  # the feed trigger on Airflow 2: its row names it all the same
            classes[module] = None
            continue
        classes.update({name: value for name, value in vars(loaded).items() if isinstance(value, type)})
    for name, served in OPERATIONS.items():
        for method in served.methods:
            assert callable(getattr(VtexHook, method, None)), f"{name}: VtexHook.{method} does not exist"
        for task_class in re.findall(r"\w+(?:Operator|Sensor|Trigger)", served.operator or ""):
            assert task_class in classes or "triggers.order_feed" in classes, (
                f"{name}: {task_class} does not exist"
            )


@pytest.mark.skipif(not contract.spec_available(), reason=contract.MISSING_SPEC_REASON)
def test_the_vtex_operation_ids_are_those_of_vtex_s_files() -> None:
    vtex = _vtex_operations()
    for name, served in OPERATIONS.items():
        ids = {
            vtex[(route.method, _vtex_path(route.template))]
            for routes in ROUTE_SETS.values()
            if name in routes
            for route in [routes[name]]
        }
        shown = (
            {part.strip() for part in served.vtex.split("/")} if not served.vtex.startswith("(") else {None}
        )
        assert ids == shown, f"{name}: VTEX's files name it {ids}, the table {shown}"


@pytest.mark.skipif(not contract.spec_available(), reason=contract.MISSING_SPEC_REASON)
def test_every_operation_of_both_files_is_served_or_says_what_replaces_it() -> None:
    served = {
        (route.method, _vtex_path(route.template))
        for routes in ROUTE_SETS.values()
        for route in routes.values()
    }
    vtex = _vtex_operations()
    assert len(vtex) == 42
    unaccounted = set(vtex) - served - set(NOT_EXPOSED)
    assert not unaccounted, (
        f"operations of VTEX's files neither served nor listed as not exposed: {unaccounted}"
    )
    assert {vtex[key] for key in NOT_EXPOSED} == {vtex_id for vtex_id, _ in NOT_EXPOSED.values()}


def test_the_table_has_a_row_per_operation_and_per_operation_not_exposed() -> None:
    rows = operation_rows()
    assert len(rows) == len(OPERATIONS) + len(NOT_EXPOSED)
    assert all(row.methods or "Deprecated" in row.note for row in rows)


def test_the_docs_page_takes_the_generated_table() -> None:
    from tests.conftest import REPO_ROOT

    page = (REPO_ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert "<!-- operation-table -->" in page  # filled by docs/_mkdocs/hooks.py at build time
