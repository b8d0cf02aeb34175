"""Test setup shared by the whole suite.

Airflow reads its configuration when first imported, so the isolated Airflow home (SQLite database,
DAGs folder, no example DAGs) is set here, at import time, before any test module imports Airflow.
The DAGs folder holds links to ``example_dags/`` and ``tests/dags/``: Airflow 3's ``dag.test()``
only runs DAGs it can find in the configured DAGs folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="vtex-airflow-home-"))
_DAGS_FOLDER = _AIRFLOW_HOME / "dags"
_DAGS_FOLDER.mkdir()
for _folder in (REPO_ROOT / "example_dags", REPO_ROOT / "tests" / "dags"):
    for _dag_file in sorted(_folder.glob("*.py")):
        if not _dag_file.name.startswith("_"):
            (_DAGS_FOLDER / _dag_file.name).symlink_to(_dag_file)

os.environ.update(
    {
        "AIRFLOW_HOME": str(_AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(_DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    }
)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated SQLite metadata database, made once per test session."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
    return _AIRFLOW_HOME


@pytest.fixture
def vtex_connection(monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Define a ``vtex`` connection the way users do: an ``AIRFLOW_CONN_*`` environment variable."""

    def define(
        conn_id: str = "vtex_default",
        *,
        login: str | None = "KEY",
        password: str | None = "TOKEN",
        host: str | None = "mystore",
        **extra: Any,
    ) -> str:
        spec: dict[str, Any] = {"conn_type": "vtex", "extra": extra}
        for name, value in (("login", login), ("password", password), ("host", host)):
            if value is not None:
                spec[name] = value
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(spec))
        return conn_id

    return define


@pytest.fixture
def reference_invoice() -> dict[str, Any]:
    """VTEX's reference invoice example (older route fields included), as the core issue gives it."""
    return json.loads(
        '{"cfop": "6.104", "courier": "corrupti", "extraValue": 100, "invoiceKey": "illum", '
        '"invoiceNumber": "123456789", "invoiceUrl": "vel", "invoiceValue": "2499", "issuedDate": "2020-07-15", '
        '"items": [{"itemIndex": "67", "price": 2499, "quantity": 3}, {"itemIndex": "67", "price": 2499, '
        '"quantity": 3}, {"itemIndex": "67", "price": 2499, "quantity": 3}], "trackingNumber": "deserunt", '
        '"trackingUrl": "suscipit", "type": "Output", "volumes": 3}'
    )


@pytest.fixture
def valid_invoice() -> dict[str, Any]:
    """A minimal invoice that follows VTEX's current OpenAPI contract."""
    return {
        "type": "Output",
        "invoiceNumber": "NF-0001",
        "invoiceValue": "7497",
        "issuanceDate": "2024-01-31T18:25:43-05:00",
        "items": [{"id": "1", "price": 2499, "quantity": 3}],
    }


@pytest.fixture
def no_sleep(mocker: Any) -> Iterator[Any]:
    """Record the hook's retry waits instead of sleeping through them."""
    return mocker.patch("airflow_provider_vtex.hooks.vtex.time.sleep")


@pytest.fixture
def run_dag(airflow_db: Path) -> Callable[..., Any]:
    """Run a DAG from the DAGs folder with ``dag.test()`` (in-process, SQLite) and return its DagRun."""
    try:  # Airflow 3.2+
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 2.x, 3.0, 3.1
        from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=str(_DAGS_FOLDER))  # example DAGs are off via AIRFLOW__CORE__LOAD_EXAMPLES
    assert not bag.import_errors, bag.import_errors

    def run(dag_id: str, **kwargs: Any) -> Any:
        dag = bag.get_dag(dag_id)
        assert dag is not None, f"{dag_id} not found in {_DAGS_FOLDER}"
        return dag.test(**kwargs)

    return run


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


# ------------------------------------------------------------------ contract check of every hook request
#: Requests of the current test that broke VTEX's OpenAPI contract.
_CONTRACT_VIOLATIONS: list[Any] = []


@pytest.fixture(scope="session", autouse=True)
def _record_hook_requests() -> Iterator[None]:
    """Check every request the hook sends (recognised by its User-Agent) against VTEX's OpenAPI spec.

    Wraps ``requests.Session.send``, above the transport, so requests answered by the sandbox and by
    the requests-level fakes are both checked.
    """
    from tests import contract

    if not contract.spec_available():
        yield
        return
    import requests

    original = requests.Session.send

    def send(self: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if str(request.headers.get("User-Agent", "")).startswith("airflow-provider-vtex/"):
            _CONTRACT_VIOLATIONS.extend(
                contract.check_request(
                    request.method or "", request.url or "", dict(request.headers), request.body
                )
            )
        return original(self, request, **kwargs)

    requests.Session.send = send  # type: ignore[method-assign]
    try:
        yield
    finally:
        requests.Session.send = original  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _hook_requests_follow_vtex_contract(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test whose hook requests broke the spec, unless it is marked as a documented deviation."""
    _CONTRACT_VIOLATIONS.clear()
    yield
    found = sorted({str(v) for v in _CONTRACT_VIOLATIONS})
    _CONTRACT_VIOLATIONS.clear()
    marker = request.node.get_closest_marker("spec_deviation")
    if marker is not None:
        allowed = marker.args
        unexpected = [v for v in found if not any(fragment in v for fragment in allowed)]
        assert not unexpected, (
            "requests broke VTEX's OpenAPI contract beyond the documented deviation:\n"
            + "\n".join(unexpected)
        )
        return
    assert not found, "requests the hook sent broke VTEX's OpenAPI contract:\n" + "\n".join(found)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fault-report",
        metavar="PATH",
        help="write the fault matrix of tests/test_reliability.py as a Markdown table to PATH",
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = session.config.getoption("--fault-report")
    reliability = sys.modules.get("tests.test_reliability")
    rows = getattr(reliability, "FAULT_REPORT", [])
    if not path or not rows:
        return
    from airflow import __version__ as airflow_version

    columns = list(rows[0])
    lines = [
        "# Fault matrix",
        "",
        "Generated by `make fault-matrix` (`pytest tests/test_reliability.py --fault-report=...`): each fault is",
        f"injected by the VTEX sandbox while `vtex_fault_matrix` runs in real Airflow {airflow_version} with task",
        "retries (2, one second apart), a 1 s request timeout and 3 request retries. The invoice task POSTs",
        "one invoice for order 70caf3941s6df1, then the tracking task sends its tracking number and delivery.",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
    ]
    lines += ["| " + " | ".join(str(row[c]) for c in columns) + " |" for row in rows]
    lines += [
        "",
        f"Duplicates in total: {sum(r['duplicates'] for r in rows)}; "
        f"notifications lost: {sum(r['lost'] for r in rows)}.",
        "",
    ]
    Path(path).write_text("\n".join(lines), encoding="utf-8")
