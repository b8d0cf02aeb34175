"""Which order changes make feed events: FromWorkflow (status moves into the filter's statuses) and
FromOrders (a JSONata expression on the order after ANY change, once per order unless
disableSingleFire), for every kind of change -- placement, admin moves, start-handling, invoicing,
tracking, cancel -- on both data architectures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.feed_client import FeedClient, configured, orders_config, workflow_config
from vtex_sandbox import VtexSandbox

ORDER = "70caf3941s6df1"  # seeded ready-for-handling, 3 x SKU 2001 at 2499 = 7497
ROUTES = {
    "standard": {
        "start": "/api/oms/pvt/orders/{}/start-handling",
        "cancel": "/api/oms/pvt/orders/{}/cancel",
        "invoice": "/api/oms/pvt/orders/{}/invoice",
    },
    "pii": {
        "start": "/api/orders/pvt/document/{}/actions/start-handling",
        "cancel": "/api/orders/pvt/document/{}/cancel",
        "invoice": "/api/orders/pvt/document/{}/invoices",
    },
}


@pytest.fixture(params=["standard", "pii"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[VtexSandbox]:
    with VtexSandbox(data_architecture=request.param) as sb:
        yield sb


def call(feed: FeedClient, sandbox: VtexSandbox, route: str, order_id: str = ORDER, **kwargs: Any) -> int:
    path = ROUTES[sandbox.data_architecture][route].format(order_id)
    return feed.session.post(feed.base + path, timeout=10, **kwargs).status_code


def invoice(sandbox: VtexSandbox, number: str, quantity: int) -> dict[str, object]:
    if sandbox.data_architecture == "pii":
        return {
            "type": "Output",
            "issuedDate": "2026-11-05",
            "invoiceNumber": number,
            "invoiceValue": 2499 * quantity,
            "items": [{"itemIndex": 0, "price": 2499 * quantity, "quantity": quantity}],
        }
    return {
        "type": "Output",
        "issuanceDate": "2026-11-05T10:00:00-03:00",
        "invoiceNumber": number,
        "invoiceValue": str(2499 * quantity),
        "items": [{"id": "2001", "price": 2499, "quantity": quantity}],
    }


def moves(feed: FeedClient) -> list[tuple[str, str, str]]:
    return [(i["orderId"], i["lastState"], i["state"]) for i in feed.drain()]


# -- FromWorkflow -------------------------------------------------------------------------------------


def test_workflow_events_follow_the_order_through_vtex_s_routes(sandbox: VtexSandbox) -> None:
    feed = configured(sandbox, workflow_config("ready-for-handling", "handling", "invoiced", "canceled"))
    assert call(feed, sandbox, "start") == 204
    assert (
        call(feed, sandbox, "invoice", json=invoice(sandbox, "NF-1", 1)) == 200
    )  # partial: no status change
    assert call(feed, sandbox, "invoice", json=invoice(sandbox, "NF-2", 2)) == 200  # the rest: invoiced
    assert moves(feed) == [(ORDER, "ready-for-handling", "handling"), (ORDER, "handling", "invoiced")]
    assert call(feed, sandbox, "cancel", "1172452900788-01", json={"reason": "stock"}) == 200
    assert call(feed, sandbox, "cancel", "1172452900788-01") == 200  # a retried cancel changes nothing
    assert moves(feed) == [("1172452900788-01", "ready-for-handling", "canceled")]
    feed.close()


def test_workflow_events_for_the_admin_moves_only_into_the_filter_s_statuses(sandbox: VtexSandbox) -> None:
    feed = configured(sandbox, workflow_config("ready-for-handling"))
    sandbox.place_order("W-01")
    sandbox.move_order("W-01", "payment-approved")
    sandbox.move_order("W-01", "ready-for-handling")
    sandbox.set_status("W-01", "ready-for-handling")  # no change, no event
    assert moves(feed) == [("W-01", "payment-approved", "ready-for-handling")]
    feed.close()


def test_an_order_placed_straight_into_a_filtered_status_makes_an_event(sandbox: VtexSandbox) -> None:
    feed = configured(sandbox, workflow_config("ready-for-handling"))
    sandbox.add_order("P-01", [{"id": "1", "price": 100}])  # add_order places in ready-for-handling
    assert moves(feed) == [("P-01", "order-created", "ready-for-handling")]
    feed.close()


def test_an_event_s_last_change_is_the_order_s_previous_change(sandbox: VtexSandbox) -> None:
    feed = configured(sandbox, workflow_config("payment-approved", "ready-for-handling"))
    sandbox.place_order("C-01")
    sandbox.move_order("C-01", "payment-approved")
    sandbox.move_order("C-01", "ready-for-handling")
    approved, ready = feed.drain()
    assert ready["lastChange"] == approved["currentChange"]
    assert ready["currentChange"] == sandbox.order("C-01")["lastChange"]
    feed.close()


# -- FromOrders ---------------------------------------------------------------------------------------


def test_from_orders_fires_once_per_order_by_default(sandbox: VtexSandbox) -> None:
    feed = configured(sandbox, orders_config('value > 1000 and status != "payment-pending"'))
    sandbox.place_order("S-01")  # payment-pending: false
    sandbox.move_order("S-01", "payment-approved")  # true: fires
    sandbox.move_order("S-01", "ready-for-handling")  # true again: single fire, nothing
    sandbox.place_order("S-02", [{"id": "1", "price": 500}], status="payment-approved")  # value 500: false
    assert moves(feed) == [("S-01", "payment-pending", "payment-approved")]
    feed.close()


def test_from_orders_with_disable_single_fire_fires_on_every_matching_change(sandbox: VtexSandbox) -> None:
    feed = configured(sandbox, orders_config('status != "payment-pending"', single_fire=False))
    sandbox.place_order("M-01")
    sandbox.move_order("M-01", "payment-approved")
    sandbox.move_order("M-01", "ready-for-handling")
    assert moves(feed) == [
        ("M-01", "payment-pending", "payment-approved"),
        ("M-01", "payment-approved", "ready-for-handling"),
    ]
    assert feed.config().json()["filter"]["disableSingleFire"] is True
    feed.close()


def test_from_orders_sees_changes_that_are_not_status_moves(sandbox: VtexSandbox) -> None:
    """An invoice that does not complete the order changes no status; a FromOrders feed still sees it
    (VTEX: "updates whenever any change is made to an order"), a FromWorkflow feed does not."""
    feed = configured(sandbox, orders_config("$count(packageAttachment.packages) > 0"))
    assert call(feed, sandbox, "invoice", json=invoice(sandbox, "NF-9", 1)) == 200
    assert moves(feed) == [(ORDER, "ready-for-handling", "ready-for-handling")]
    feed.close()


def test_from_orders_sees_a_tracking_update() -> None:
    with VtexSandbox() as sandbox:
        order = "1172452900788-01"
        sandbox.state.invoice(
            order,
            {
                "type": "Output",
                "issuanceDate": "2026-11-05T10:00:00-03:00",
                "invoiceNumber": "NF-T",
                "invoiceValue": "990",
                "items": [{"id": "18", "price": 990, "quantity": 1}],
            },
        )
        feed = configured(sandbox, orders_config('packageAttachment.packages[0].trackingNumber = "TRK-9"'))
        response = feed.session.patch(
            f"{sandbox.url}/api/oms/pvt/orders/{order}/invoice/NF-T",
            json={"trackingNumber": "TRK-9"},
            timeout=10,
        )
        assert response.status_code == 200
        assert moves(feed) == [(order, "ready-for-handling", "ready-for-handling")]
        feed.close()


def test_a_new_filter_forgets_the_orders_the_old_one_fired_for(sandbox: VtexSandbox) -> None:
    feed = configured(sandbox, orders_config("value > 100"))
    sandbox.place_order("N-01")
    sandbox.move_order("N-01", "payment-approved")
    assert [m[0] for m in moves(feed)] == ["N-01"]
    assert feed.configure(orders_config("value > 100")).status_code == 200  # same filter: remembers
    sandbox.move_order("N-01", "ready-for-handling")
    assert moves(feed) == []
    assert feed.configure(orders_config("value > 101")).status_code == 200  # new filter: fires again
    sandbox.move_order("N-01", "handling")
    assert moves(feed) == [("N-01", "ready-for-handling", "handling")]
    feed.close()


def test_an_expression_that_fails_on_one_order_is_counted_not_fatal(sandbox: VtexSandbox) -> None:
    # Runs on the first seeded order (Ana: true), so the configuration is accepted; fails on Bea's.
    expression = 'clientProfileData.firstName = "Ana" or $number(clientProfileData.firstName) > 0'
    feed = configured(sandbox, orders_config(expression, single_fire=False))
    sandbox.place_order("F-01", clientName="Bea Lima")
    sandbox.place_order("F-02", clientName="Ana Lima")
    stats = sandbox.stats()["feeds"][sandbox.app_key]
    assert stats["expressionFailures"] == 1
    assert stats["lastExpressionFailures"][0].startswith("F-01: filter.expression")
    assert moves(feed) == [("F-02", "order-created", "payment-pending")]
    feed.close()


def test_a_from_orders_configuration_is_refused_when_its_expression_fails_on_an_order(
    sandbox: VtexSandbox,
) -> None:
    feed = FeedClient(sandbox)
    response = feed.configure(orders_config("$number(clientProfileData.firstName) > 0"))
    assert response.status_code == 400
    assert "cannot be evaluated on an order" in response.json()["error"]["message"]
    feed.close()
