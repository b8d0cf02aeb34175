"""The order routes beyond invoices, over real HTTP: cancellation with VTEX's rules, the order's log
(interactions), order groups, the payment transaction, conversation messages, user orders, the seller
window, and the list route's cap, creation-date slicing and index lag."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from vtex_sandbox import VtexSandbox

ORDERS = "/api/oms/pvt/orders"
READY = "70caf3941s6df1"


def _cancel(
    api: requests.Session, sandbox: VtexSandbox, order_id: str, reason: str = "stockout"
) -> requests.Response:
    return api.post(f"{sandbox.url}{ORDERS}/{order_id}/cancel", json={"reason": reason})


def _invoice(api: requests.Session, sandbox: VtexSandbox, value: int, quantity: int) -> requests.Response:
    body = {
        "type": "Output",
        "invoiceNumber": f"NF-{value}",
        "invoiceValue": str(value),
        "issuanceDate": "2026-11-05T10:00:00-03:00",
        "items": [{"id": "2001", "price": 2499, "quantity": quantity}],
    }
    return api.post(f"{sandbox.url}{ORDERS}/{READY}/invoice", json=body)


# -- cancellation -------------------------------------------------------------------------------------


def test_cancel_outside_any_window_cancels_at_once(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    answer = _cancel(api, vtex_sandbox, READY)
    assert answer.status_code == 200
    assert set(answer.json()) == {"date", "orderId", "receipt"}
    order = vtex_sandbox.order(READY)
    assert (order["status"], order["cancelReason"]) == ("canceled", "stockout")
    assert order["cancellationRequests"] is None
    assert _cancel(api, vtex_sandbox, READY).status_code == 200  # a retried cancel does not fail


@pytest.mark.parametrize(
    ("invoiced", "named"),
    [(3, "invoiced status cannot be canceled"), (1, "Partially invoiced orders cannot be canceled")],
)
def test_invoiced_and_partially_invoiced_orders_refuse_cancellation(
    api: requests.Session, vtex_sandbox: VtexSandbox, invoiced: int, named: str
) -> None:
    assert _invoice(api, vtex_sandbox, 2499 * invoiced, invoiced).status_code == 200
    answer = _cancel(api, vtex_sandbox, READY)
    assert answer.status_code == 400
    assert named in answer.json()["error"]["message"]
    assert vtex_sandbox.order(READY)["status"] != "canceled"


@pytest.mark.vtex_sandbox(
    orders=[{"orderId": "INC-01", "items": [{"id": "9", "quantity": 1, "price": 100}], "incomplete": True}]
)
def test_incomplete_orders_refuse_cancellation_and_stay_out_of_the_default_list(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    answer = _cancel(api, vtex_sandbox, "INC-01")
    assert answer.status_code == 400
    assert "Incomplete orders cannot be canceled" in answer.json()["error"]["message"]
    assert vtex_sandbox.order("INC-01")["isCompleted"] is False
    listed = api.get(f"{vtex_sandbox.url}{ORDERS}").json()["list"]
    assert "INC-01" not in [o["orderId"] for o in listed]
    incomplete = api.get(f"{vtex_sandbox.url}{ORDERS}", params={"incompleteOrders": "true"}).json()["list"]
    assert [o["orderId"] for o in incomplete] == ["INC-01"]


@pytest.mark.vtex_sandbox(cancellation_window_seconds=600)
def test_inside_the_grace_window_a_cancellation_is_granted_even_if_the_seller_would_deny(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    vtex_sandbox.place_order("GRACE-01")
    vtex_sandbox.deny_next_cancellation("GRACE-01", "already packed")
    assert _cancel(api, vtex_sandbox, "GRACE-01").status_code == 200
    assert vtex_sandbox.order("GRACE-01")["status"] == "canceled"


@pytest.mark.vtex_sandbox(cancellation_window_seconds=600)
def test_after_the_grace_window_the_seller_may_deny_the_request(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    vtex_sandbox.place_order("LATE-01", status="ready-for-handling")
    vtex_sandbox.advance_clock(601)
    vtex_sandbox.deny_next_cancellation("LATE-01", "already packed")
    denied = _cancel(api, vtex_sandbox, "LATE-01", "customer asked")
    assert denied.status_code == 200  # VTEX received the request: read the order back to learn its fate
    order = vtex_sandbox.order("LATE-01")
    assert order["status"] == "ready-for-handling"
    [request] = order["cancellationRequests"]
    assert (request["reason"], request["deniedBySeller"], request["deniedBySellerReason"]) == (
        "customer asked",
        True,
        "already packed",
    )
    # The seller answers each request: the next one is granted, and both are on the order.
    assert _cancel(api, vtex_sandbox, "LATE-01").status_code == 200
    order = vtex_sandbox.order("LATE-01")
    assert order["status"] == "canceled"
    assert [r["deniedBySeller"] for r in order["cancellationRequests"]] == [True, False]


# -- the order's log, group, payment, conversation ---------------------------------------------------------


def test_interactions_are_logged_on_the_order_once_per_call(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    url = f"{vtex_sandbox.url}{ORDERS}/{READY}/interactions"
    answer = api.post(url, json={"source": "ERP", "message": "Item 2001 short: order modified"})
    assert (answer.status_code, answer.content) == (200, b"")
    assert api.post(url, json={"Source": "ERP", "Message": "Invoice NF-1 sent"}).status_code == 200
    assert [(i["source"], i["message"]) for i in vtex_sandbox.interactions(READY)] == [
        ("ERP", "Item 2001 short: order modified"),
        ("ERP", "Invoice NF-1 sent"),
    ]
    refused = api.post(url, json={"source": "ERP"})
    assert refused.status_code == 400
    assert "message is required" in refused.json()["error"]["message"]
    assert (
        api.post(
            f"{vtex_sandbox.url}{ORDERS}/NOPE-01/interactions", json={"source": "a", "message": "b"}
        ).status_code
        == 404
    )


def test_an_order_group_holds_the_orders_of_a_split_purchase(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    vtex_sandbox.add_order("v71021948str-02", [{"id": "77", "name": "Mug", "quantity": 1, "price": 1500}])
    group = api.get(f"{vtex_sandbox.url}{ORDERS}/order-group/v71021948str")
    assert group.status_code == 200
    assert sorted(o["orderId"] for o in group.json()) == ["v71021948str-01", "v71021948str-02"]
    assert {o["orderGroup"] for o in group.json()} == {"v71021948str"}
    assert api.get(f"{vtex_sandbox.url}{ORDERS}/order-group/nothing").status_code == 404


def test_the_payment_transaction_follows_the_order_value(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    transaction = api.get(f"{vtex_sandbox.url}{ORDERS}/{READY}/payment-transaction").json()
    assert {"status", "isActive", "transactionId", "merchantName", "payments"} <= set(transaction)
    assert transaction["payments"][0]["value"] == vtex_sandbox.order(READY)["value"]


def test_conversation_messages_follow_the_announced_statuses(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    url = f"{vtex_sandbox.url}{ORDERS}/{READY}/conversation-message"
    assert api.get(url).json() == []
    _cancel(api, vtex_sandbox, READY)
    [message] = api.get(url).json()
    assert "cancelado" in message["subject"]
    assert message["to"][0]["email"] == vtex_sandbox.order(READY)["clientProfileData"]["email"]


def test_user_orders_are_listed_by_client_email(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    email = vtex_sandbox.order(READY)["clientProfileData"]["email"]
    listed = api.get(f"{vtex_sandbox.url}/api/oms/user/orders", params={"clientEmail": email}).json()
    assert [o["orderId"] for o in listed["list"]] == [READY]
    assert api.get(f"{vtex_sandbox.url}/api/oms/user/orders/{READY}").json()["orderId"] == READY


def test_the_seller_window_is_read_and_set(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    url = f"{vtex_sandbox.url}/api/checkout/pvt/configuration/window-to-change-seller"
    assert api.get(url).json() == 2
    assert api.post(url, json={"waitingTime": 4}).status_code == 201
    assert api.get(url).json() == 4
    assert api.post(url, json={"waitingTime": 0}).status_code == 400


# -- the list route's cap, slicing and lag --------------------------------------------------------------


def _listed(api: requests.Session, sandbox: VtexSandbox, **params: Any) -> list[str]:
    answer = api.get(f"{sandbox.url}{ORDERS}", params=params)
    assert answer.status_code == 200, answer.text
    return [o["orderId"] for o in answer.json()["list"]]


def test_the_list_serves_30_pages_and_says_how_to_read_further(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    assert api.get(f"{vtex_sandbox.url}{ORDERS}", params={"page": 30}).status_code == 200
    beyond = api.get(f"{vtex_sandbox.url}{ORDERS}", params={"page": 31})
    assert beyond.status_code == 400
    assert "f_creationDate" in beyond.json()["error"]["message"]
    assert api.get(f"{vtex_sandbox.url}{ORDERS}", params={"per_page": 500}).json()["paging"]["perPage"] == 100


def test_the_list_slices_by_creation_date_in_either_order(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    window = "creationDate:[2026-11-04T00:00:00.000Z TO 2026-11-05T07:45:12.000Z]"
    assert _listed(api, vtex_sandbox, f_creationDate=window) == [
        "1172452900791-01",
        "1172452900790-01",
        "v502559llux-01",
    ]
    ascending = _listed(api, vtex_sandbox, f_creationDate=window, orderBy="creationDate,asc")
    assert ascending == ["v502559llux-01", "1172452900790-01", "1172452900791-01"]
    broken = api.get(f"{vtex_sandbox.url}{ORDERS}", params={"f_creationDate": "2026-11-04"})
    assert broken.status_code == 400


@pytest.mark.vtex_sandbox(list_index_lag_seconds=30)
def test_a_new_order_shows_in_the_list_only_after_the_index_lag(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    vtex_sandbox.place_order("LAG-01")
    assert "LAG-01" not in _listed(api, vtex_sandbox)
    assert api.get(f"{vtex_sandbox.url}{ORDERS}/LAG-01").status_code == 200  # GET order is not indexed
    vtex_sandbox.advance_clock(30)
    assert "LAG-01" in _listed(api, vtex_sandbox)


@pytest.mark.vtex_sandbox(data_architecture="pii", list_index_lag_seconds=30)
def test_the_pii_search_has_the_same_cap_slicing_and_lag(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    url = f"{vtex_sandbox.url}/api/orders/extendsearch/orders"
    vtex_sandbox.place_order("LAG-02")
    assert "LAG-02" not in [o["orderId"] for o in api.post(url, json={}).json()["list"]]
    vtex_sandbox.advance_clock(30)
    assert "LAG-02" in [o["orderId"] for o in api.post(url, json={}).json()["list"]]
    assert api.post(url, json={"page": 31}).status_code == 400
    window = {
        "f_creationDate": "creationDate:[2026-11-03T00:00:00Z TO 2026-11-03T23:59:59Z]",
        "orderBy": "creationDate,asc",
    }
    assert [o["orderId"] for o in api.post(url, json=window).json()["list"]] == [
        "70caf3941s6df1",
        "1172452900789-01",
    ]
