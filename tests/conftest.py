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
