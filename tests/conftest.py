"""Test setup shared by the whole suite.

Airflow reads its configuration when first imported, so the isolated Airflow home (SQLite database,
DAGs folder, no example DAGs) is set here, at import time, before any test module imports Airflow.
The DAGs folder holds links to ``example_dags/``, ``tests/integration/dags/`` and ``docs/snippets/`` (the docs' DAGs): Airflow 3's ``dag.test()``
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
for _folder in (
    REPO_ROOT / "example_dags",
    REPO_ROOT / "tests" / "integration" / "dags",
    REPO_ROOT / "docs" / "snippets",
):
    for _dag_file in sorted(_folder.glob("*.py")):
        if not _dag_file.name.startswith("_"):
            (_DAGS_FOLDER / _dag_file.name).symlink_to(_dag_file)

os.environ.update(
    {
        "AIRFLOW_HOME": str(_AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(_DAGS_FOLDER),
        # The example DAGs' stand-in ERP (example_dags/erp_stand_in.py): one database for this test session.
        "VTEX_EXAMPLE_ERP_DATABASE": str(_AIRFLOW_HOME / "erp.sqlite3"),
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


class FakeClock:
    """A clock for the hook's modules only: ``sleep`` records the wait and moves ``monotonic``/``time`` on.

    Retry and read-back waits run to completion in microseconds and can be asserted exactly, while the
    rest of the process (threads, sockets, Airflow) keeps the real clock.
    """

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)

    @property
    def slept(self) -> float:
        return sum(self.sleeps)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Fake time in the hook, client, rules, invoice-once and rate-limiter modules (see :class:`FakeClock`)."""
    from airflow_provider_vtex.client import invoice_once, rate_limit, rules, transport
    from airflow_provider_vtex.hooks import vtex

    fake = FakeClock()
    for module in (transport, rate_limit, rules, invoice_once, vtex):
        monkeypatch.setattr(module, "time", fake)
    return fake


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
#: Requests of the current test that broke VTEX's OpenAPI contract (or could not be checked).
_CONTRACT_VIOLATIONS: list[Any] = []
#: Hook requests sent while VTEX's files are missing and VTEX_REQUIRE_SPEC=1 demands them.
_UNCHECKED_REQUESTS: list[str] = []


@pytest.fixture(scope="session", autouse=True)
def _record_hook_requests() -> Iterator[None]:
    """Check every request the hook sends (recognised by its User-Agent) against the OpenAPI file of its
    route set (PII routes -> the PII file, the others -> the standard file), with openapi-core.

    Wraps the transport adapters' ``send`` (requests' own ``HTTPAdapter`` and requests-mock's adapter),
    the one step every request passes, however it was prepared, so requests answered by the sandbox and
    by requests-mock are both checked. Without ``../shared/vtex`` nothing can be checked: the requests
    are let through locally, but with ``VTEX_REQUIRE_SPEC=1`` (CI) each test that sent one fails.
    """
    from tests import contract
    from vtex_sandbox import spec_corrections

    available = contract.spec_available()
    if not available and not spec_corrections.spec_required():
        yield
        return
    import requests
    import requests_mock.adapter

    def check(request: requests.PreparedRequest) -> None:
        if str(request.headers.get("User-Agent", "")).startswith("airflow-provider-vtex/"):
            if available:
                _CONTRACT_VIOLATIONS.extend(
                    contract.check_request(
                        request.method or "", request.url or "", dict(request.headers), request.body
                    )
                )
            else:
                _UNCHECKED_REQUESTS.append(f"{request.method} {request.url}")

    adapters = (requests.adapters.HTTPAdapter, requests_mock.adapter.Adapter)
    originals = {adapter: adapter.send for adapter in adapters}

    def wrap(original: Any) -> Any:
        def send(self: Any, request: requests.PreparedRequest, **kwargs: Any) -> Any:
            check(request)
            return original(self, request, **kwargs)

        return send

    for adapter, original in originals.items():
        adapter.send = wrap(original)  # type: ignore[method-assign]
    try:
        yield
    finally:
        for adapter, original in originals.items():
            adapter.send = original  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _hook_requests_follow_vtex_contract(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test whose hook requests broke the spec, unless it is marked as a documented deviation."""
    from vtex_sandbox import spec_corrections

    _CONTRACT_VIOLATIONS.clear()
    _UNCHECKED_REQUESTS.clear()
    yield
    found = sorted({str(v) for v in _CONTRACT_VIOLATIONS})
    unchecked = list(_UNCHECKED_REQUESTS)
    _CONTRACT_VIOLATIONS.clear()
    _UNCHECKED_REQUESTS.clear()
    if unchecked:
        pytest.fail(
            f"VTEX_REQUIRE_SPEC=1 but the hook's requests could not be checked: {spec_corrections.SPEC_DIR} "
            f"does not hold VTEX's OpenAPI files. Unchecked: {unchecked}"
        )
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
        help="write the fault matrix (tests/fault_report.py) as Markdown to PATH",
    )
    parser.addoption(
        "--fault-delays",
        metavar="SECONDS",
        default="10",
        help="comma-separated VTEX visibility delays the crash tests run with (default 10; the matrix: 0,10,25)",
    )
    parser.addoption(
        "--soak-invoices",
        metavar="N",
        type=int,
        default=1000,
        help="invoices of the bulk soak under faults (default 1,000; make fault-matrix: 5,000)",
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = session.config.getoption("--fault-report")
    if not path:
        return
    from airflow import __version__ as airflow_version

    from tests import fault_report

    fault_report.write(Path(path), airflow_version)
