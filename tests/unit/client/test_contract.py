"""The contract check itself: it reads the OpenAPI file of each route set and refuses what that file
refuses (openapi-core), corrected only where ``vtex_sandbox/spec_corrections.py`` says the file is wrong.

Every test in the suite already has its hook requests checked (see conftest); these tests prove the
check can fail, that each route set is held to its own file, and what happens without the files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_vtex.models import Invoice, PiiInvoice, Tracking, TrackingStatus
from tests import contract
from vtex_sandbox import spec_corrections

REPO_ROOT = Path(__file__).resolve().parents[3]
BASE = "https://mystore.vtexcommercestable.com.br/api/oms/pvt/orders/o-1"
PII = "http://127.0.0.1:8089/api/orders/pvt/document/o-1"
HEADERS = {
    "Accept": "application/json",
    "Content-Type": "application/json",
    "X-VTEX-API-AppKey": "KEY",
    "X-VTEX-API-AppToken": "TOKEN",
}
PII_INVOICE = {
    "type": "Output",
    "issuedDate": "2024-09-20",
    "invoiceNumber": "NF-1",
    "invoiceValue": 2499,
    "items": [{"itemIndex": 0, "price": 2499, "quantity": 1}],
}


@pytest.fixture(autouse=True)
def _spec_files() -> None:
    spec_corrections.require_spec_or_skip()


def violations(method: str, url: str, body: Any, headers: dict[str, str] = HEADERS) -> list[str]:
    return [
        str(v)
        for v in contract.check_request(method, url, headers, json.dumps(body) if body is not None else None)
    ]


def test_hook_bodies_built_from_valid_payloads_pass(valid_invoice: dict[str, Any]) -> None:
    assert violations("POST", f"{BASE}/invoice", Invoice.parse(valid_invoice).to_wire()) == []
    tracking = {"trackingNumber": "BR1", "trackingUrl": None, "courier": "Correios", "dispatchedDate": None}
    # The hook sends every key the schema requires (what VTEX holds for those not given).
    assert (
        violations("PATCH", f"{BASE}/invoice/NF-1", {**tracking, **Tracking.parse(tracking).to_wire()}) == []
    )
    status = TrackingStatus.parse(
        {"events": [{"city": "Rio", "state": "RJ", "description": "x", "date": "2024-01-01"}]}
    )
    assert violations("PUT", f"{BASE}/invoice/NF-1/tracking", status.to_wire()) == []
    assert violations("GET", BASE, None) == []
    assert violations("GET", "https://x.example/api/oms/pvt/orders?per_page=1&page=1", None) == []


@pytest.mark.parametrize(
    ("method", "url", "body", "fragment"),
    [
        (
            "POST",
            f"{BASE}/invoice",
            {"type": "Sale"},
            "body['type']: 'Sale' is not one of ['Output', 'Input']",
        ),
        ("POST", f"{BASE}/invoice", {"type": "Output"}, "'invoiceNumber' is a required property"),
        ("PATCH", f"{BASE}/invoice/NF-1", {"trackingNumber": "x"}, "'courier' is a required property"),
        ("PUT", f"{BASE}/invoice/NF-1/tracking", {"events": []}, "'isDelivered' is a required property"),
        ("DELETE", f"{BASE}/invoice", None, "no such operation"),
        ("GET", "https://x.example/api/oms/pvt/orders?per_page=many", None, "query per_page"),
    ],
)
def test_the_check_refuses_what_the_spec_refuses(method: str, url: str, body: Any, fragment: str) -> None:
    assert any(fragment in v for v in violations(method, url, body))


def test_credentials_and_the_body_media_type_are_checked() -> None:
    assert any("security" in v for v in violations("GET", BASE, None, headers={}))
    without_type = {k: v for k, v in HEADERS.items() if k != "Content-Type"}
    found = violations("POST", f"{BASE}/invoice", {"type": "Output"}, headers=without_type)
    assert any("body" in v and "mimetype" in v for v in found)


def test_a_get_without_accept_or_content_type_is_no_violation() -> None:
    """Listed in spec_corrections: the file marks both headers required even on GET."""
    bare = {"X-VTEX-API-AppKey": "KEY", "X-VTEX-API-AppToken": "TOKEN"}
    assert violations("GET", BASE, None, headers=bare) == []


def test_pii_routes_are_held_to_the_pii_file() -> None:
    assert contract.route_set("/api/orders/pvt/document/o-1/invoices") == "pii"
    assert contract.route_set("/api/oms/pvt/orders/o-1/invoice") == "standard"
    # The standard file's own route under /api/orders/pvt/document stays standard.
    assert contract.route_set("/api/orders/pvt/document/o-1/change-summary") == "standard"
    assert violations("POST", f"{PII}/invoices", PII_INVOICE) == []
    assert violations("POST", f"{PII}/actions/start-handling", None) == []
    assert violations("POST", "http://127.0.0.1:8089/api/orders/extendsearch/orders", {"page": 1}) == []


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"invoiceValue": "2499"}, "body['invoiceValue']: '2499' is not of type 'integer'"),
        ({"issuedDate": None}, "body['issuedDate']"),
        ({"items": [{"id": "123", "price": 2499, "quantity": 1}]}, "'itemIndex' is a required property"),
    ],
)
def test_the_pii_check_refuses_standard_habits(changes: dict[str, Any], fragment: str) -> None:
    found = violations("POST", f"{PII}/invoices", {**PII_INVOICE, **changes})
    assert any(fragment in v for v in found), found


def test_a_standard_body_on_the_pii_route_is_refused_and_vice_versa(valid_invoice: dict[str, Any]) -> None:
    on_pii = violations("POST", f"{PII}/invoices", valid_invoice)
    assert any("'issuedDate' is a required property" in v for v in on_pii)
    on_standard = violations("POST", f"{BASE}/invoice", PII_INVOICE)
    assert any("'issuanceDate' is a required property" in v for v in on_standard)


def test_the_reference_payload_is_the_pii_routes_body(reference_invoice: dict[str, Any]) -> None:
    """VTEX's reference example (InvoiceNotification2) is valid on the PII route as the hook sends it, and
    breaks the standard route's contract, which requires issuanceDate and items[].id."""
    assert violations("POST", f"{PII}/invoices", PiiInvoice.parse(reference_invoice).to_wire()) == []
    found = violations("POST", f"{BASE}/invoice", reference_invoice)
    assert "POST /api/oms/pvt/orders/o-1/invoice: body: 'issuanceDate' is a required property" in found
    assert any("body['items'][0]: 'id' is a required property" in v for v in found)


def test_every_exception_names_where_what_and_why() -> None:
    for exception in spec_corrections.EXCEPTIONS:
        assert exception.spec in ("standard", "pii", "both")
        assert exception.applies_to in ("both", "conformance", "contract")
        assert exception.where
        assert exception.mistake
        assert len(exception.reason) > 30
    assert all(len(reason) > 30 for reason in spec_corrections.EXCLUDED_CHECKS.values())


def test_missing_files_skip_locally_and_fail_when_required(tmp_path: Path) -> None:
    """Run a tiny test that sends a hook-like request with ../shared/vtex pointed at nothing."""
    probe = tmp_path / "test_probe.py"
    probe.write_text(
        textwrap.dedent(
            """
            import requests
            from vtex_sandbox import VtexSandbox

            def test_sends_a_hook_request():
                with VtexSandbox() as sandbox:
                    headers = {"User-Agent": "airflow-provider-vtex/0", "X-VTEX-API-AppKey": "sandbox-key",
                               "X-VTEX-API-AppToken": "sandbox-token"}
                    assert requests.get(sandbox.url + "/api/oms/pvt/orders/70caf3941s6df1", headers=headers,
                                        timeout=5).ok
            """
        )
    )

    def run(required: bool) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "VTEX_SPEC_DIR": str(tmp_path / "no-such-dir")}
        env.pop("VTEX_REQUIRE_SPEC", None)
        if required:
            env["VTEX_REQUIRE_SPEC"] = "1"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-p", "no:cacheprovider"]
        return subprocess.run(
            [*command, "--rootdir", str(REPO_ROOT), str(probe)],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    relaxed = run(required=False)
    assert relaxed.returncode == 0, relaxed.stdout + relaxed.stderr
    strict = run(required=True)
    assert strict.returncode == 1, strict.stdout + strict.stderr
    assert "VTEX_REQUIRE_SPEC=1 but the hook's requests could not be checked" in strict.stdout


@pytest.mark.spec_deviation("is not one of ['Output', 'Input']", "is a required property")
def test_requests_answered_by_requests_mock_are_checked_too(requests_mock: Any, vtex_connection: Any) -> None:
    """The suite-wide check sits at the transport adapter, which requests-mock's answers pass too."""
    from airflow_provider_vtex.client.routes import route_for
    from airflow_provider_vtex.hooks.vtex import VtexHook
    from tests import conftest

    vtex_connection()
    requests_mock.post(f"{BASE}/invoice", json={})
    route = route_for("standard", "invoice")
    VtexHook().client.request(route, route.path(order_id="o-1"), json_body={"type": "Sale"})
    assert any("is not one of ['Output', 'Input']" in str(v) for v in conftest._CONTRACT_VIOLATIONS)
