"""The documentation cannot drift from the code: what it shows runs here.

- ``docs/snippets/sandbox_admin.sh`` (every ``curl`` of the getting-started page) runs against a sandbox;
- the README's DAG is ``docs/snippets/invoice_from_erp.py`` character for character, and that DAG runs
  end to end against the sandbox (the DAGs folder links ``docs/snippets/``: tests/conftest.py);
- every snippet the pages include (``--8<--``) exists, and ``mkdocs build --strict`` passes where the
  docs dependencies are installed (``make docs`` installs them).
"""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import REPO_ROOT
from tests.integration.dag_runs import task_states, xcom_values

DOCS = REPO_ROOT / "docs"
SNIPPETS = DOCS / "snippets"


def _curl_has_fail_with_body() -> bool:
    curl = shutil.which("curl")
    if curl is None:
        return False
    help_text = subprocess.run([curl, "--help", "all"], capture_output=True, text=True, check=False).stdout
    return "--fail-with-body" in help_text


@pytest.mark.skipif(not _curl_has_fail_with_body(), reason="needs curl 7.76+ (--fail-with-body)")
def test_every_sandbox_admin_curl_of_the_docs_works(vtex_sandbox: Any) -> None:
    script = SNIPPETS / "sandbox_admin.sh"
    result = subprocess.run(
        ["bash", str(script)],
        env={**os.environ, "SANDBOX": vtex_sandbox.url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{script} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    # The script's last step resets the sandbox: the seeded orders only.
    assert "DOC-1001-01" not in vtex_sandbox.summary()


def test_every_section_the_pages_include_exists_in_the_admin_script() -> None:
    script = (SNIPPETS / "sandbox_admin.sh").read_text(encoding="utf-8")
    sections = set(re.findall(r"# --8<-- \[start:([\w-]+)\]", script))
    assert sections == set(re.findall(r"# --8<-- \[end:([\w-]+)\]", script))
    for page in DOCS.glob("*.md"):
        for path, section in re.findall(r'--8<-- "([^":]+):([\w-]+)"', page.read_text(encoding="utf-8")):
            if path.endswith("sandbox_admin.sh"):
                assert section in sections, f"{page.name} includes {path}:{section}, which does not exist"


def test_the_readme_dag_is_the_snippet_file() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks == [(SNIPPETS / "invoice_from_erp.py").read_text(encoding="utf-8")], (
        "the README's Python block must be docs/snippets/invoice_from_erp.py: copy the file into it"
    )


@pytest.mark.airflow_dag
def test_the_readme_dag_invoices_and_tracks_against_the_sandbox(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any]
) -> None:
    sandbox = vtex_sandbox_connection
    dag_run = run_dag("invoice_from_erp")
    assert {state for states in task_states(dag_run).values() for state in states} == {"success"}
    (receipt,) = xcom_values(dag_run, "notify_invoice")
    assert set(receipt) == {"order_id", "invoice_number", "outcome", "receipt", "date"}
    assert receipt["outcome"] == "sent"
    (package,) = sandbox.order("1172452900788-01")["packageAttachment"]["packages"]
    assert package["invoiceNumber"] == "NF-100234"
    assert package["trackingNumber"] == "BR123456789XX"


def test_the_docs_build_strict() -> None:
    pytest.importorskip("mkdocs", reason="the docs dependencies are not installed (make docs installs them)")
    pytest.importorskip("mkdocstrings")
    mkdocs = shutil.which("mkdocs", path=os.path.dirname(sys.executable))
    assert mkdocs is not None
    result = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", str(REPO_ROOT / ".pytest_cache" / "site")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]


def test_every_python_snippet_compiles() -> None:
    files = sorted(SNIPPETS.rglob("*.py"))
    assert files
    for path in files:
        compile(path.read_text(encoding="utf-8"), str(path), "exec")


def test_the_connection_page_payloads_follow_their_route_contracts() -> None:
    from airflow_provider_vtex.models import Invoice, PiiInvoice

    payloads = runpy.run_path(str(SNIPPETS / "fragments" / "payloads.py"))
    PiiInvoice.parse(payloads["PII_INVOICE"])
    Invoice.parse(payloads["STANDARD_INVOICE"])


def test_the_feed_asset_snippet_builds_its_watcher() -> None:
    from airflow_provider_vtex.compat import AssetWatcher

    if AssetWatcher is None:
        pytest.skip("event-driven scheduling needs Airflow 3")
    namespace = runpy.run_path(str(SNIPPETS / "fragments" / "feed_asset.py"))
    (watcher,) = namespace["vtex_orders"].watchers
    assert type(watcher.trigger).__name__ == "VtexOrderFeedTrigger"


def test_the_order_hook_snippets_build_their_watchers_and_task() -> None:
    from airflow_provider_vtex.compat import AssetWatcher

    if AssetWatcher is None:
        pytest.skip("the order hook needs Airflow 3")
    namespace = runpy.run_path(str(SNIPPETS / "fragments" / "order_hook_asset.py"))
    kinds = [type(watcher.trigger).__name__ for watcher in namespace["vtex_orders"].watchers]
    assert kinds == ["VtexOrderHookTrigger", "VtexOrderFeedTrigger"]
    task = runpy.run_path(str(SNIPPETS / "fragments" / "order_hook_register.py"))["register_order_hook"]
    assert task.url.endswith("/vtex/order-hook/vtex_default")
    pytest.importorskip("airflow.providers.common.messaging")
    queue = runpy.run_path(str(SNIPPETS / "fragments" / "order_hook_queue.py"))["orders"]
    (watcher,) = queue.watchers
    assert watcher.trigger.serialize()[0] == "airflow_provider_vtex.triggers.order_hook.VtexOrderHookTrigger"


def test_the_hook_tour_runs_against_the_sandbox(vtex_sandbox_connection: Any) -> None:
    sandbox = vtex_sandbox_connection
    tour = runpy.run_path(str(SNIPPETS / "fragments" / "hook_tour.py"))["hook_tour"]
    invoice = runpy.run_path(str(SNIPPETS / "fragments" / "payloads.py"))["STANDARD_INVOICE"]
    invoice = {**invoice, "invoiceValue": "10470", "items": [{"id": "18", "price": 990, "quantity": 1}]}
    summary = tour("1172452900788-01", invoice, "1172452900791-01")
    assert summary["connection"][0] is True
    assert summary["status_before"] == "ready-for-handling"
    assert sandbox.order("1172452900788-01")["status"] == "invoiced"
    assert sandbox.order("1172452900791-01")["status"] == "canceled"


@pytest.mark.airflow_dag
def test_the_order_feed_loop_snippet_starts_and_commits(
    vtex_sandbox_connection: Any, run_dag: Callable[..., Any]
) -> None:
    from airflow_provider_vtex.hooks.vtex import VtexHook

    sandbox = vtex_sandbox_connection
    VtexHook().set_feed_config({"filter": {"type": "FromWorkflow", "status": ["ready-for-handling"]}})
    sandbox.place_order("DOC-2001-01")
    sandbox.move_order("DOC-2001-01", "payment-approved")
    sandbox.move_order("DOC-2001-01", "ready-for-handling")
    dag_run = run_dag("order_feed_loop")
    assert {state for states in task_states(dag_run).values() for state in states} == {"success"}
    (item,) = xcom_values(dag_run, "read_feed")[0]
    assert item["order_id"] == "DOC-2001-01"
    latest_xcom = runpy.run_path(str(SNIPPETS / "fragments" / "read_xcom.py"))["latest_xcom"]
    assert latest_xcom("order_feed_loop", "read_feed") == xcom_values(dag_run, "read_feed")  # the docs' way
    assert xcom_values(dag_run, "start_handling")[0] == [
        {"order_id": "DOC-2001-01", "outcome": "started", "status": "handling"}
    ]
    assert sandbox.order("DOC-2001-01")["status"] == "handling"
    assert sandbox.stats()["feeds"]["sandbox-key"]["committed"] == 1


def test_the_sandbox_page_s_store_day_runs() -> None:
    day = runpy.run_path(str(SNIPPETS / "fragments" / "sandbox_usage.py"))["a_store_day"]
    workflow = day(orders=5, over_seconds=2)
    simulated = {f"SIM1-0000{i}-01" for i in range(1, 6)}
    assert simulated <= set(workflow["waitingInReadyForHandling"])  # no reader ran: all still waiting


def test_the_dead_letter_snippet_routes_each_kind_of_feed_event() -> None:
    """The orders page's DAG, fed asset events as Airflow stores the trigger's events."""
    from types import SimpleNamespace

    from airflow_provider_vtex.compat import AssetWatcher

    if AssetWatcher is None:
        pytest.skip("event-driven scheduling needs Airflow 3")
    namespace = runpy.run_path(str(SNIPPETS / "fragments" / "feed_events.py"))
    unreadable = {
        "kind": "unreadable",
        "event_id": "E2",
        "handle": "H2",
        "order_id": None,
        "problems": ["orderId: is missing"],
        "kept": False,
    }
    stored = [
        {"kind": "order", "order_id": "A-01"},
        unreadable,
        {"kind": "quiet"},
        {"kind": "order", "order_id": "B-01"},
    ]
    events = {"vtex_orders": [SimpleNamespace(extra={"from_trigger": True, "payload": p}) for p in stored]}
    dag = namespace["vtex_orders_with_dead_letters"]()
    tasks = {task.task_id: task for task in dag.tasks}
    assert tasks["orders"].python_callable(triggering_asset_events=events) == ["A-01", "B-01"]
    assert tasks["dead_letters"].python_callable(triggering_asset_events=events) == [unreadable]
