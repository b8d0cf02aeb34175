"""The contract check itself: VTEX's OpenAPI file is read, and it refuses what VTEX's spec refuses.

Every test in the suite already has its hook requests checked against the spec (see conftest); these
tests prove the check can fail and pin down where the spec and VTEX's reference payload disagree.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_vtex.models import Invoice, Tracking, TrackingStatus
from tests import contract

pytestmark = pytest.mark.skipif(not contract.spec_available(), reason=contract.MISSING_SPEC_REASON)

BASE = "https://mystore.vtexcommercestable.com.br/api/oms/pvt/orders/o-1"
HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}


def violations(method: str, url: str, body: Any, headers: dict[str, str] = HEADERS) -> list[str]:
    return [
        str(v)
        for v in contract.check_request(method, url, headers, json.dumps(body) if body is not None else None)
    ]


def test_hook_bodies_built_from_valid_payloads_pass(valid_invoice: dict[str, Any]) -> None:
    assert violations("POST", f"{BASE}/invoice", Invoice.parse(valid_invoice).to_wire()) == []
    tracking = {"trackingNumber": "BR1", "courier": None, "trackingUrl": None, "dispatchedDate": None}
    assert (
        violations("PATCH", f"{BASE}/invoice/NF-1", {**Tracking.parse(tracking).to_wire(), **tracking}) == []
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
        ("POST", f"{BASE}/invoice", {"type": "Sale"}, "'Sale' is not one of ['Output', 'Input']"),
        ("POST", f"{BASE}/invoice", {"type": "Output"}, "'invoiceNumber' is a required property"),
        ("PATCH", f"{BASE}/invoice/NF-1", {"trackingNumber": "x"}, "'courier' is a required property"),
        ("PUT", f"{BASE}/invoice/NF-1/tracking", {"events": []}, "'isDelivered' is a required property"),
        ("DELETE", f"{BASE}/invoice", None, "no such operation"),
    ],
)
def test_the_check_refuses_what_the_spec_refuses(method: str, url: str, body: Any, fragment: str) -> None:
    assert any(fragment in v for v in violations(method, url, body))


def test_missing_required_headers_are_reported() -> None:
    assert any("header Accept" in v for v in violations("GET", BASE, None, headers={}))
