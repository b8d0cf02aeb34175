"""Test setup shared by the whole suite.

Airflow reads its configuration when first imported, so the isolated Airflow home (SQLite database,
DAGs folder, no example DAGs) is set here, at import time, before any test module imports Airflow.
The DAGs folder holds links to ``example_dags/``, ``tests/integration/dags/`` and ``docs/snippets/`` (the docs' DAGs): Airflow 3's ``dag.test()``
only runs DAGs it can find in the configured DAGs folder.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

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


# The property tests run their full example counts on Airflow 3.3 (`make test`). The Airflow 2.11 and
# lowest-version runs prove the same validation code on other versions and load this profile
# (`--hypothesis-profile=compat`, Makefile): a tenth of hypothesis's default of 100, by which the property
# tests scale their counts (tests/unit/operators/test_bad_input.py).
settings.register_profile("compat", max_examples=10)


_BUDGET_STORES = _AIRFLOW_HOME / "budget-stores"
_BUDGET_STORES.mkdir()
_BUDGET_STORE_NUMBERS = itertools.count()


@pytest.fixture(autouse=True)
def own_budget_store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test its own account budgets (``[vtex] budget_store``): a 429 one test provokes pauses its
    account for VTEX's advised time, and tests reuse base URLs. Deployment tests keep the deployment's."""
    if "deployment" in request.node.path.parts:
        yield
        return
    from airflow_provider_vtex.client.budget import close_stores

    path = _BUDGET_STORES / f"{next(_BUDGET_STORE_NUMBERS)}.sqlite3"
    monkeypatch.setenv("AIRFLOW__VTEX__BUDGET_STORE", f"sqlite:///{path}")
    yield
    close_stores()


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
    invoice: dict[str, Any] = json.loads(
        '{"cfop": "6.104", "courier": "corrupti", "extraValue": 100, "invoiceKey": "illum", '
        '"invoiceNumber": "123456789", "invoiceUrl": "vel", "invoiceValue": "2499", "issuedDate": "2020-07-15", '
        '"items": [{"itemIndex": "67", "price": 2499, "quantity": 3}, {"itemIndex": "67", "price": 2499, '
        '"quantity": 3}, {"itemIndex": "67", "price": 2499, "quantity": 3}], "trackingNumber": "deserunt", '
        '"trackingUrl": "suscipit", "type": "Output", "volumes": 3}'
    )
    return invoice


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
