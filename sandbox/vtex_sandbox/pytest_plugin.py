"""pytest fixtures for testing VTEX code against the sandbox.

Registered through the ``pytest11`` entry point, so it loads in *every* pytest session where the
package is installed: it must stay cheap and import only the standard library and the sandbox
(the server module is imported when a fixture first runs, not at collection).

Fixtures:

* ``vtex_sandbox`` -- a started :class:`~vtex_sandbox.VtexSandbox` on a free port,
  stopped after the test. Configure it per test with the marker
  ``@pytest.mark.vtex_sandbox(permissions={"View order"}, invoice_visibility_delay=0.2)`` (any
  constructor keyword).
* ``vtex_sandbox_connection`` -- the same sandbox, with ``AIRFLOW_CONN_VTEX_DEFAULT`` set so that
  the Airflow connection ``vtex_default`` points at it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from vtex_sandbox.app import VtexSandbox

CONNECTION_ENV_VAR = "AIRFLOW_CONN_VTEX_DEFAULT"


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker, so ``--strict-markers`` sessions accept it."""
    config.addinivalue_line(
        "markers",
        "vtex_sandbox(**kwargs): keyword arguments for the VtexSandbox built by the vtex_sandbox fixture",
    )


@pytest.fixture
def vtex_sandbox(request: pytest.FixtureRequest) -> Iterator[VtexSandbox]:
    """A running VTEX OMS sandbox on a free loopback port (seeded orders, all permissions)."""
    from vtex_sandbox.app import VtexSandbox

    marker = request.node.get_closest_marker("vtex_sandbox")
    kwargs = dict(marker.kwargs) if marker is not None else {}
    with VtexSandbox(**kwargs) as sandbox:
        yield sandbox


@pytest.fixture
def vtex_sandbox_connection(vtex_sandbox: VtexSandbox, monkeypatch: pytest.MonkeyPatch) -> VtexSandbox:
    """The sandbox, with the Airflow connection ``vtex_default`` pointing at it (via env var)."""
    monkeypatch.setenv(CONNECTION_ENV_VAR, vtex_sandbox.airflow_connection())
    return vtex_sandbox
