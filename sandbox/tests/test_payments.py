"""Payment notification, on both route sets: VTEX's answers (200 without a body; 404 for an unknown order
or payment), the move out of ``payment-pending``, and every notification recorded on the order."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from vtex_sandbox import VtexSandbox

ROUTES = {
    "standard": "/api/oms/pvt/orders/{}/payments/{}/payment-notification",
    "pii": "/api/orders/pvt/document/{}/payment/{}/notify-payment",
}
GET_ORDER = {"standard": "/api/oms/pvt/orders/{}", "pii": "/api/orders/pvt/document/{}"}


@pytest.fixture(params=["standard", "pii"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[VtexSandbox]:
    with VtexSandbox(data_architecture=request.param) as sb:
        yield sb


@pytest.fixture
def api(sandbox: VtexSandbox) -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers.update(
            {"X-VTEX-API-AppKey": sandbox.app_key, "X-VTEX-API-AppToken": sandbox.app_token}
        )
        yield session


def notify(api: requests.Session, sandbox: VtexSandbox, order_id: str, payment_id: str) -> requests.Response:
    path = ROUTES[sandbox.data_architecture].format(order_id, payment_id)
    return api.post(sandbox.url + path, headers={"Accept": "application/json"})


def the_payment_id(api: requests.Session, sandbox: VtexSandbox, order_id: str) -> str:
    """The payment id as a client finds it: in GET order's paymentData."""
    order = api.get(sandbox.url + GET_ORDER[sandbox.data_architecture].format(order_id)).json()
    return str(order["paymentData"]["transactions"][0]["payments"][0]["id"])


def test_a_pending_payment_is_approved_with_200_and_no_body(
    sandbox: VtexSandbox, api: requests.Session
) -> None:
    sandbox.place_order("BOLETO-1")  # placed orders wait in payment-pending
    payment_id = the_payment_id(api, sandbox, "BOLETO-1")

    answer = notify(api, sandbox, "BOLETO-1", payment_id)

    assert (answer.status_code, answer.content) == (200, b"")
    assert sandbox.order("BOLETO-1")["status"] == "payment-approved"
    [recorded] = sandbox.payment_notifications("BOLETO-1")
    assert recorded["paymentId"] == payment_id
    assert recorded["statusBefore"] == "payment-pending"


def test_a_repeat_is_answered_200_again_and_recorded_twice(
    sandbox: VtexSandbox, api: requests.Session
) -> None:
    sandbox.place_order("BOLETO-2")
    payment_id = the_payment_id(api, sandbox, "BOLETO-2")

    statuses = [notify(api, sandbox, "BOLETO-2", payment_id).status_code for _ in range(2)]

    assert statuses == [200, 200]
    assert [n["statusBefore"] for n in sandbox.payment_notifications("BOLETO-2")] == [
        "payment-pending",
        "payment-approved",
    ]
    assert sandbox.order("BOLETO-2")["status"] == "payment-approved"


def test_unknown_order_and_unknown_payment_are_404(sandbox: VtexSandbox, api: requests.Session) -> None:
    sandbox.place_order("BOLETO-3")

    unknown_order = notify(api, sandbox, "NO-SUCH-ORDER", "ABC")
    unknown_payment = notify(api, sandbox, "BOLETO-3", "NOT-ITS-PAYMENT")

    assert unknown_order.status_code == 404
    assert unknown_order.json()["error"]["message"].startswith("Order Not Found")
    assert unknown_payment.status_code == 404
    assert "has no payment NOT-ITS-PAYMENT" in unknown_payment.json()["error"]["message"]
    assert sandbox.payment_notifications("BOLETO-3") == []
    assert sandbox.order("BOLETO-3")["status"] == "payment-pending"


def test_the_other_route_set_s_route_names_the_one_to_use(
    sandbox: VtexSandbox, api: requests.Session
) -> None:
    other = "pii" if sandbox.data_architecture == "standard" else "standard"
    answer = api.post(sandbox.url + ROUTES[other].format("BOLETO-4", "ABC"))

    assert answer.status_code == 404
    assert (
        ROUTES[sandbox.data_architecture].format("{orderId}", "{paymentId}")
        in answer.json()["error"]["message"]
    )


def test_the_route_needs_the_notify_payment_resource(sandbox: VtexSandbox, api: requests.Session) -> None:
    sandbox.place_order("BOLETO-5")
    payment_id = the_payment_id(api, sandbox, "BOLETO-5")
    sandbox.permissions = {"View order", "Notify invoice"}

    answer = notify(api, sandbox, "BOLETO-5", payment_id)

    assert answer.status_code == 403
    assert "Notify payment" in answer.json()["error"]["message"]
    assert sandbox.payment_notifications("BOLETO-5") == []
