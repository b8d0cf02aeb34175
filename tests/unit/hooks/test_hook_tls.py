"""The hook against the sandbox over HTTPS: the ``verify`` extra, CA bundles from the environment, and
the error a missing certificate gives. (The sandbox's own HTTPS tests are in ``sandbox/tests/test_tls.py``.)"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
import requests

from airflow_provider_vtex.exceptions import VtexRetriesExhaustedError, VtexTransportError
from vtex_sandbox import VtexSandbox

ORDER = "70caf3941s6df1"
INVOICE = {
    "type": "Output",
    "invoiceNumber": "NF-TLS-1",
    "invoiceValue": "7497",
    "issuanceDate": "2024-01-31T18:25:43-05:00",
    "items": [{"id": "2001", "price": 2499, "quantity": 3}],
}


# -- the hook over HTTPS ------------------------------------------------------------------------------

#: requests lets these environment variables override ``Session.verify`` (psf/requests#3829).
_CA_BUNDLE_ENV_VARS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@pytest.fixture
def no_ca_bundle_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many images (Debian's python, CI runners) set REQUESTS_CA_BUNDLE; the hook's session.verify loses to it."""
    for name in _CA_BUNDLE_ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.vtex_sandbox(tls=True)
@pytest.mark.usefixtures("no_ca_bundle_env")
def test_hook_talks_to_a_tls_sandbox_through_the_connection(vtex_sandbox_connection: VtexSandbox) -> None:
    from airflow_provider_vtex.hooks.vtex import VtexHook

    conn = json.loads(os.environ["AIRFLOW_CONN_VTEX_DEFAULT"])
    assert conn["extra"]["verify"] == vtex_sandbox_connection.ca_file
    hook = VtexHook()
    try:
        assert hook.get_conn().verify == vtex_sandbox_connection.ca_file
        result = hook.send_invoice(ORDER, INVOICE)
        assert result.order_id == ORDER
        assert result.receipt
        order = hook.get_order(ORDER)
        assert order["status"] == "invoiced"
        ok, message = hook.test_connection()
        assert ok, message
    finally:
        hook.close()
    assert vtex_sandbox_connection.post_count(ORDER) == 1


@pytest.mark.vtex_sandbox(tls=True)
def test_verify_extra_wins_over_a_ca_bundle_env_var(
    vtex_sandbox_connection: VtexSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_vtex.hooks.vtex import VtexHook

    # requests' type stubs leave out certs.where (certifi's, which requests re-exports)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", requests.certs.where())  # type: ignore[attr-defined]
    hook = VtexHook(max_retries=0)
    try:
        assert hook.get_order(ORDER)["orderId"] == ORDER
    finally:
        hook.close()


@pytest.mark.vtex_sandbox(tls=True)
@pytest.mark.usefixtures("no_ca_bundle_env")
def test_hook_without_verify_reports_a_clear_tls_error(
    vtex_sandbox: VtexSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_vtex.hooks.vtex import VtexHook

    conn: dict[str, Any] = json.loads(vtex_sandbox.airflow_connection())
    del conn["extra"]["verify"]
    monkeypatch.setenv("AIRFLOW_CONN_VTEX_DEFAULT", json.dumps(conn))
    hook = VtexHook(max_retries=1, backoff_initial=0.01, backoff_max=0.01)
    with pytest.raises((VtexTransportError, VtexRetriesExhaustedError)) as raised:
        hook.send_invoice(ORDER, INVOICE)
    message = str(raised.value)
    assert "TLS" in message
    assert "'verify' extra" in message
    assert "vtex_default" in message
    assert "sandbox-token" not in message
    # Nothing reached the sandbox's VTEX routes: the handshake failed before any request was sent.
    assert vtex_sandbox.post_count() == 0


@pytest.mark.vtex_sandbox(tls=True)
def test_a_ca_bundle_from_the_environment_is_still_trusted(
    vtex_sandbox: VtexSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hook resolves the environment once, when it builds its session, and keeps honouring it."""
    from airflow_provider_vtex.hooks.vtex import VtexHook

    conn: dict[str, Any] = json.loads(vtex_sandbox.airflow_connection())
    del conn["extra"]["verify"]
    monkeypatch.setenv("AIRFLOW_CONN_VTEX_DEFAULT", json.dumps(conn))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(vtex_sandbox.ca_file))
    hook = VtexHook(max_retries=0)
    try:
        assert hook.get_order(ORDER)["orderId"] == ORDER
    finally:
        hook.close()
