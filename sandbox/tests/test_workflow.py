"""Start handling and cancel, on both route sets: VTEX's workflow rules and answers."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests

from vtex_sandbox import VtexSandbox

ORDER = "70caf3941s6df1"  # ready-for-handling, 3 x SKU 2001 at 2499
HANDLING = "1172452900789-01"
CANCELED = "1172452900790-01"
ROUTES = {
    "standard": {
        "order": "/api/oms/pvt/orders/{}",
        "start": "/api/oms/pvt/orders/{}/start-handling",
        "cancel": "/api/oms/pvt/orders/{}/cancel",
        "invoice": "/api/oms/pvt/orders/{}/invoice",
    },
    "pii": {
        "order": "/api/orders/pvt/document/{}",
        "start": "/api/orders/pvt/document/{}/actions/start-handling",
        "cancel": "/api/orders/pvt/document/{}/cancel",
        "invoice": "/api/orders/pvt/document/{}/invoices",
    },
}


@pytest.fixture(params=["standard", "pii"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[VtexSandbox]:
    with VtexSandbox(data_architecture=request.param) as sb:
        yield sb


@pytest.fixture
def vtex_sandbox(sandbox: VtexSandbox) -> VtexSandbox:
    """This module's sandbox (both route sets), so the shared ``api`` session talks to it."""
    return sandbox


def url(sandbox: VtexSandbox, route: str, order: str = ORDER) -> str:
    return sandbox.url + ROUTES[sandbox.data_architecture][route].format(order)


def partial_invoice(sandbox: VtexSandbox) -> dict[str, object]:
    if sandbox.data_architecture == "pii":
        return {
            "type": "Output",
            "issuedDate": "2026-11-05",
            "invoiceNumber": "P1",
            "invoiceValue": 2499,
            "items": [{"itemIndex": 0, "price": 2499, "quantity": 1}],
        }
    return {
        "type": "Output",
        "issuanceDate": "2026-11-05T10:00:00-03:00",
        "invoiceNumber": "P1",
        "invoiceValue": "2499",
        "items": [{"id": "2001", "price": 2499, "quantity": 1}],
    }


def test_start_handling_moves_a_ready_order_to_handling_with_204(
    api: requests.Session, sandbox: VtexSandbox
) -> None:
    response = api.post(url(sandbox, "start"), timeout=5)
    assert response.status_code == 204
    assert response.content == b""
    assert sandbox.order(ORDER)["status"] == "handling"
    again = api.post(url(sandbox, "start"), timeout=5)
    assert again.status_code == 409
    assert again.json()["error"] == {
        "code": "OMS003",
        "message": "Order status should be ready-for-handling to perform this action",
        "exception": None,
    }


@pytest.mark.parametrize("order", [HANDLING, CANCELED])
def test_start_handling_needs_ready_for_handling(
    api: requests.Session, sandbox: VtexSandbox, order: str
) -> None:
    before = sandbox.order(order)["status"]
    assert api.post(url(sandbox, "start", order), timeout=5).status_code == 409
    assert sandbox.order(order)["status"] == before


def test_cancel_answers_a_receipt_and_cancels(api: requests.Session, sandbox: VtexSandbox) -> None:
    response = api.post(url(sandbox, "cancel"), json={"reason": "Unexpected stock shortage"}, timeout=5)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"date", "orderId", "receipt"}
    assert answer["orderId"] == ORDER
    assert re.fullmatch(r"[0-9a-f]{32}", answer["receipt"])
    order = sandbox.order(ORDER)
    assert order["status"] == "canceled"
    assert order["cancelReason"] == "Unexpected stock shortage"
    assert order["allowCancellation"] is False
    # A retried cancel does not fail; an invoice for a canceled order does.
    assert api.post(url(sandbox, "cancel"), timeout=5).status_code == 200
    refused = api.post(url(sandbox, "invoice"), json=partial_invoice(sandbox), timeout=5)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "OMS003"


def test_partially_invoiced_and_invoiced_orders_cannot_be_canceled(
    api: requests.Session, sandbox: VtexSandbox
) -> None:
    assert api.post(url(sandbox, "invoice"), json=partial_invoice(sandbox), timeout=5).ok
    response = api.post(url(sandbox, "cancel"), timeout=5)
    assert response.status_code == 400
    assert "Partially invoiced orders cannot be canceled" in response.json()["error"]["message"]
    sandbox.set_status(ORDER, "invoiced")
    response = api.post(url(sandbox, "cancel"), timeout=5)
    assert response.status_code == 400
    assert "send a return (Input) invoice instead" in response.json()["error"]["message"]
    assert sandbox.order(ORDER)["status"] == "invoiced"


@pytest.mark.parametrize("body", [{"reason": 5}, [], "text"])
def test_cancel_body_follows_its_contract(api: requests.Session, sandbox: VtexSandbox, body: object) -> None:
    assert api.post(url(sandbox, "cancel"), json=body, timeout=5).status_code == 400
    assert sandbox.order(ORDER)["status"] == "ready-for-handling"


def test_unknown_orders_are_404(api: requests.Session, sandbox: VtexSandbox) -> None:
    for route in ("start", "cancel"):
        response = api.post(url(sandbox, route, "nope-01"), timeout=5)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "OMS007"


def test_each_move_needs_its_license_manager_resource(api: requests.Session, sandbox: VtexSandbox) -> None:
    sandbox.permissions = {"View order", "Notify invoice"}
    started = api.post(url(sandbox, "start"), timeout=5)
    assert started.status_code == 403
    assert "'Change order workflow status'" in started.json()["error"]["message"]
    canceled = api.post(url(sandbox, "cancel"), timeout=5)
    assert canceled.status_code == 403
    assert "'Cancel order'" in canceled.json()["error"]["message"]
    sandbox.permissions = {"Change order workflow status", "Cancel order"}
    assert api.post(url(sandbox, "start"), timeout=5).status_code == 204
    assert api.post(url(sandbox, "cancel"), timeout=5).status_code == 200


def test_faults_target_the_new_routes(api: requests.Session, sandbox: VtexSandbox) -> None:
    sandbox.add_fault("start_handling", "status", status=503, count=1)
    sandbox.add_fault("cancel", "rate_limit", count=1, retry_after=0)
    assert api.post(url(sandbox, "start"), timeout=5).status_code == 503
    assert sandbox.order(ORDER)["status"] == "ready-for-handling"
    assert api.post(url(sandbox, "start"), timeout=5).status_code == 204
    assert api.post(url(sandbox, "cancel"), timeout=5).status_code == 429
    assert api.post(url(sandbox, "cancel"), timeout=5).status_code == 200
    assert [e["route"] for e in sandbox.requests] == ["start_handling"] * 2 + ["cancel"] * 2
