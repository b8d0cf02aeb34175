"""Invoice notification, tracking number and tracking status, validated as VTEX documents them."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import pytest
import requests

from vtex_sandbox import VtexSandbox

ORDER = "70caf3941s6df1"  # 3 x SKU 2001 at 2499 = 7497
# SKU 18 (1 x 990) + SKU 27 (2 x 4590) + 300 shipping = 10470; it also holds SKU 123 (2 x 2499, the SKU
# of VTEX's examples) given away: a discount of 4998 keeps the order value at 10470.
TWO_ITEMS = "1172452900788-01"
CANCELED = "1172452900790-01"
DROP = object()
#: VTEX's time stamps: UTC, 7 fractional digits, "Z" (e.g. 2024-09-25T18:03:19.7055982Z).
VTEX_TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z"


def invoice_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "Output",
        "invoiceNumber": "NF-1001",
        "invoiceValue": "7497",
        "issuanceDate": "2026-11-05T10:00:00-03:00",
        "invoiceKey": "CFe35201100063960001504590006629690333214542150",
        "invoiceUrl": "https://shop.example/invoices/NF-1001.pdf",
        "courier": "",
        "trackingNumber": "",
        "trackingUrl": "",
        "dispatchedDate": None,
        "items": [{"id": "2001", "price": 2499, "quantity": 3, "description": "T-shirt"}],
    }
    for key, value in changes.items():
        if value is DROP:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def post_invoice(api: requests.Session, sb: VtexSandbox, body: Any, order: str = ORDER) -> requests.Response:
    return api.post(f"{sb.url}/api/oms/pvt/orders/{order}/invoice", json=body, timeout=5)


def patch_tracking(
    api: requests.Session, sb: VtexSandbox, number: str, body: Any, order: str = ORDER
) -> requests.Response:
    return api.patch(f"{sb.url}/api/oms/pvt/orders/{order}/invoice/{number}", json=body, timeout=5)


def put_status(
    api: requests.Session, sb: VtexSandbox, number: str, body: Any, order: str = ORDER
) -> requests.Response:
    return api.put(f"{sb.url}/api/oms/pvt/orders/{order}/invoice/{number}/tracking", json=body, timeout=5)


def assert_receipt(response: requests.Response, order: str = ORDER) -> dict[str, str]:
    assert response.status_code == 200, response.text
    data: dict[str, str] = response.json()
    assert set(data) == {"date", "orderId", "receipt"}
    assert data["orderId"] == order
    assert re.fullmatch(r"[0-9a-f]{32}", data["receipt"])
    assert re.fullmatch(VTEX_TIMESTAMP, data["date"])
    return data


# -- POST invoice ---------------------------------------------------------------------------------------


def test_invoice_records_a_package_and_invoices_the_order(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    receipt = assert_receipt(post_invoice(api, vtex_sandbox, invoice_body()))
    order = api.get(f"{vtex_sandbox.url}/api/oms/pvt/orders/{ORDER}", timeout=5).json()
    assert order["status"] == "invoiced"
    assert order["statusDescription"] == "Faturado"
    assert order["invoicedDate"] == receipt["date"]
    (package,) = order["packageAttachment"]["packages"]
    assert package["invoiceNumber"] == "NF-1001"
    assert package["invoiceValue"] == 7497  # an integer in GET order, a string in the request
    assert package["type"] == "Output"
    assert package["issuanceDate"] == "2026-11-05T13:00:00.0000000Z"  # normalised as VTEX does
    assert package["invoiceKey"].startswith("CFe")
    assert package["courierStatus"] is None
    assert package["restitutions"] == {}
    assert package["items"] == [
        {"itemIndex": 0, "quantity": 3, "price": 2499, "description": "T-shirt", "unitMultiplier": 1.0}
    ]
    for key in (
        "invoiceUrl",
        "embeddedInvoice",
        "courier",
        "trackingNumber",
        "trackingUrl",
        "dispatchedDate",
    ):
        assert key in package
    (invoice,) = vtex_sandbox.invoices(ORDER)
    assert invoice["receipt"] == receipt["receipt"]
    assert [r["receipt"] for r in invoice["receipts"]] == [receipt["receipt"]]


def test_same_invoice_number_gets_a_new_receipt_not_a_new_package(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    first = assert_receipt(post_invoice(api, vtex_sandbox, invoice_body()))
    # Only the receipt changes: VTEX ignores other changes under an existing number.
    second = assert_receipt(post_invoice(api, vtex_sandbox, invoice_body(invoiceUrl="https://changed")))
    assert first["receipt"] != second["receipt"]
    (invoice,) = vtex_sandbox.invoices(ORDER)
    assert invoice["receipt"] == second["receipt"]
    assert [r["receipt"] for r in invoice["receipts"]] == [first["receipt"], second["receipt"]]
    assert invoice["invoiceUrl"] == "https://shop.example/invoices/NF-1001.pdf"
    assert len(vtex_sandbox.order(ORDER)["packageAttachment"]["packages"]) == 1
    assert vtex_sandbox.summary()[ORDER]["invoices"][0]["receipts"] == [first["receipt"], second["receipt"]]


def test_partial_invoices_reach_invoiced_only_at_the_order_value(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    one = {"id": "2001", "price": 2499, "quantity": 1}
    assert_receipt(
        post_invoice(api, vtex_sandbox, invoice_body(invoiceNumber="P1", invoiceValue="2499", items=[one]))
    )
    assert vtex_sandbox.order(ORDER)["status"] == "ready-for-handling"
    assert vtex_sandbox.order(ORDER)["invoicedDate"] is None
    two = {"id": "2001", "price": 2499, "quantity": 2}
    assert_receipt(
        post_invoice(api, vtex_sandbox, invoice_body(invoiceNumber="P2", invoiceValue="4998", items=[two]))
    )
    assert vtex_sandbox.order(ORDER)["status"] == "invoiced"
    assert [p["invoiceNumber"] for p in vtex_sandbox.invoices(ORDER)] == ["P1", "P2"]


def test_invoice_over_the_order_value_is_refused(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    # 74.97 sent as 749700 (cents of cents): the sandbox catches it.
    response = post_invoice(api, vtex_sandbox, invoice_body(invoiceValue="749700"))
    assert response.status_code == 400
    assert "exceeds the order value" in response.json()["error"]["message"]
    assert vtex_sandbox.invoices(ORDER) == []


def test_shipping_is_part_of_the_order_value(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    items = [{"id": "18", "price": 990, "quantity": 1}, {"id": "27", "price": 4590, "quantity": 2}]
    body = invoice_body(invoiceValue="10170", items=items)
    assert_receipt(post_invoice(api, vtex_sandbox, body, TWO_ITEMS), TWO_ITEMS)
    assert vtex_sandbox.order(TWO_ITEMS)["status"] == "ready-for-handling"  # 300 of shipping missing
    body = invoice_body(
        invoiceNumber="NF-SHIP", invoiceValue="300", items=[{"id": "27", "price": 0, "quantity": 1}]
    )
    assert_receipt(post_invoice(api, vtex_sandbox, body, TWO_ITEMS), TWO_ITEMS)
    assert vtex_sandbox.order(TWO_ITEMS)["status"] == "invoiced"
    packages = vtex_sandbox.order(TWO_ITEMS)["packageAttachment"]["packages"]
    assert [i["itemIndex"] for i in packages[0]["items"]] == [0, 1]
    assert packages[1]["items"][0]["itemIndex"] == 1


def test_canceled_order_cannot_be_invoiced(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    body = invoice_body(invoiceValue="15900", items=[{"id": "5002", "price": 15900, "quantity": 1}])
    response = post_invoice(api, vtex_sandbox, body, CANCELED)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "OMS003"
    assert vtex_sandbox.invoices(CANCELED) == []


def test_return_invoice_creates_a_refund_and_keeps_status(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    assert_receipt(post_invoice(api, vtex_sandbox, invoice_body()))
    body = invoice_body(type="Input", invoiceNumber="RET-1", invoiceValue="2499")
    body["items"] = [{"id": "2001", "price": 2499, "quantity": 1}]
    assert_receipt(post_invoice(api, vtex_sandbox, body))
    refund = vtex_sandbox.invoices(ORDER)[1]["restitutions"]["Refund"]
    assert refund["value"] == 2499
    assert refund["items"][0]["id"] == "2001"
    assert vtex_sandbox.order(ORDER)["status"] == "invoiced"


@pytest.mark.parametrize(
    "changes",
    [
        {"issuanceDate": "2026-11-05T10:00:00Z"},
        {"issuanceDate": "2026-11-05T10:00"},
        {"issuanceDate": "2026-11-05T10:00:00.1234567+05:30"},
        {"dispatchedDate": "2026-11-06T08:00:00.0000000+00:00"},
        {"courier": DROP, "trackingNumber": DROP, "trackingUrl": DROP, "invoiceUrl": None},
        {"items": [{"id": "2001", "price": 2400, "quantity": 3}]},
        {"unknownField": "VTEX ignores fields it does not know"},
    ],
    ids=[
        "utc",
        "no-seconds",
        "ticks-and-offset",
        "dispatched",
        "optional-missing",
        "discount",
        "unknown-field",
    ],
)
def test_accepted_variants(api: requests.Session, vtex_sandbox: VtexSandbox, changes: dict[str, Any]) -> None:
    assert_receipt(post_invoice(api, vtex_sandbox, invoice_body(**changes)))


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"type": DROP}, "type"),
        ({"type": "output"}, "type"),
        ({"type": "Sale"}, "type"),
        ({"invoiceNumber": DROP}, "invoiceNumber"),
        ({"invoiceNumber": ""}, "invoiceNumber"),
        ({"invoiceNumber": "   "}, "invoiceNumber"),
        ({"invoiceValue": DROP}, "invoiceValue"),
        ({"invoiceValue": "74.97"}, "invoiceValue"),
        ({"invoiceValue": 74.97}, "invoiceValue"),
        ({"invoiceValue": "7,497"}, "invoiceValue"),
        ({"invoiceValue": True}, "invoiceValue"),
        ({"invoiceValue": 0}, "STRING of digits"),
        ({"invoiceValue": 7497}, "STRING of digits"),
        ({"invoiceValue": "0"}, "greater than 0"),
        ({"invoiceValue": -5}, "invoiceValue"),
        ({"issuanceDate": DROP}, "issuanceDate"),
        ({"issuanceDate": "05/11/2026"}, "issuanceDate"),
        ({"issuanceDate": "2026-11-20"}, "date AND time"),
        ({"issuanceDate": "2026-11-20garbage"}, "issuanceDate"),
        ({"issuanceDate": "2026-11-20T10:00:00-03:00garbage"}, "issuanceDate"),
        ({"issuanceDate": "2026-02-30T10:00:00Z"}, "issuanceDate"),
        ({"issuanceDate": "2026-11-20T25:00:00Z"}, "issuanceDate"),
        ({"issuanceDate": "2026-11-20 10:00:00"}, "issuanceDate"),
        ({"issuedDate": "2026-11-05"}, "issuedDate is not a field of the standard route"),
        ({"extraValue": 100}, "belongs to the PII route"),
        ({"volumes": 1}, "belongs to the PII route"),
        ({"cfop": "5100"}, "belongs to the PII route"),
        ({"courier": None}, "null is not allowed"),
        ({"dispatchedDate": "2026-11-06"}, "dispatchedDate"),
        ({"items": DROP}, "items"),
        ({"items": []}, "items"),
        ({"items": {"id": "2001"}}, "items"),
        ({"items": ["2001"]}, "items[0]"),
        ({"items": [{"id": "2001", "quantity": 3}]}, "price"),
        ({"items": [{"id": "2001", "price": 24.99, "quantity": 3}]}, "price"),
        ({"items": [{"id": "2001", "price": "2499", "quantity": 3}]}, "price"),
        ({"items": [{"id": "2001", "price": -1, "quantity": 3}]}, "price"),
        ({"items": [{"id": "2001", "price": 2499}]}, "quantity"),
        ({"items": [{"id": "2001", "price": 2499, "quantity": 0}]}, "quantity"),
        ({"items": [{"price": 2499, "quantity": 3}]}, "id"),
        ({"items": [{"id": "9999", "price": 2499, "quantity": 3}]}, "not a SKU"),
        ({"items": [{"id": 2001, "price": 2499, "quantity": 3}]}, "as a string"),
        (
            {"items": [{"itemIndex": 0, "price": 2499, "quantity": 3}]},
            "itemIndex is not a field of the standard",
        ),
        ({"items": [{"id": "2001", "price": 7497, "quantity": 3}]}, "UNIT price"),
        ({"items": [{"id": "2001", "price": 2499, "quantity": 4}]}, "more than the 3 unit(s)"),
        ({"items": [{"id": "2001", "price": 2499, "quantity": 3, "description": 5}]}, "description"),
        ({"courier": 5}, "courier"),
    ],
)
def test_invalid_invoice_is_400(
    api: requests.Session, vtex_sandbox: VtexSandbox, changes: dict[str, Any], fragment: str
) -> None:
    response = post_invoice(api, vtex_sandbox, invoice_body(**changes))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "OMS001"
    assert fragment in error["message"]
    assert vtex_sandbox.invoices(ORDER) == []
    assert vtex_sandbox.order(ORDER)["status"] == "ready-for-handling"


@pytest.mark.parametrize("body", [[], "text", 5, None])
def test_non_object_body_is_400(api: requests.Session, vtex_sandbox: VtexSandbox, body: Any) -> None:
    assert post_invoice(api, vtex_sandbox, body).status_code == 400


# -- eventual consistency -------------------------------------------------------------------------------


@pytest.mark.vtex_sandbox(invoice_visibility_delay=0.3)
def test_new_invoice_shows_in_get_order_only_after_the_delay(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    assert_receipt(post_invoice(api, vtex_sandbox, invoice_body()))
    url = f"{vtex_sandbox.url}/api/oms/pvt/orders/{ORDER}"
    stale = api.get(url, timeout=5).json()
    assert stale["packageAttachment"]["packages"] == []
    assert stale["status"] == "ready-for-handling"
    assert stale["invoicedDate"] is None
    listed = api.get(f"{vtex_sandbox.url}/api/oms/pvt/orders", params={"f_status": "invoiced"}, timeout=5)
    assert listed.json()["list"] == []  # the list lags too
    # The write side is consistent at once: the sandbox's own view and PATCH see the invoice.
    assert vtex_sandbox.order(ORDER)["status"] == "invoiced"
    assert_receipt(patch_tracking(api, vtex_sandbox, "NF-1001", {"trackingNumber": "TRK-1"}))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        fresh = api.get(url, timeout=5).json()
        if fresh["packageAttachment"]["packages"]:
            break
        time.sleep(0.05)
    assert fresh["status"] == "invoiced"
    assert fresh["packageAttachment"]["packages"][0]["trackingNumber"] == "TRK-1"


# -- PATCH tracking number and PUT tracking status ------------------------------------------------------


def test_tracking_number_then_events(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    assert_receipt(post_invoice(api, vtex_sandbox, invoice_body()))
    patch = {
        "trackingNumber": "TRK-48960684",
        "trackingUrl": "https://tracking.example/TRK-48960684",
        "courier": "Correios",
        "dispatchedDate": "2026-11-06T08:00:00.0000000+00:00",
    }
    assert_receipt(patch_tracking(api, vtex_sandbox, "NF-1001", patch))
    events = [
        {
            "city": "Rio de Janeiro",
            "state": "RJ",
            "description": "Coletado pela transportadora",
            "date": "2026-11-06",
        },
        {"city": "Sao Paulo", "state": "SP", "description": "Entregue", "date": "2026-11-07"},
    ]
    status = {"isDelivered": True, "deliveredDate": "2026-11-07 14:30", "events": events}
    assert_receipt(put_status(api, vtex_sandbox, "NF-1001", status))
    package = vtex_sandbox.order(ORDER)["packageAttachment"]["packages"][0]
    for key in ("trackingNumber", "trackingUrl", "courier"):
        assert package[key] == patch[key]
    assert package["dispatchedDate"] == "2026-11-06T08:00:00.0000000Z"
    courier_status = package["courierStatus"]
    assert courier_status["status"] == "ok"
    assert courier_status["finished"] is True
    # VTEX normalises the dates a client sends into its own time stamps.
    assert courier_status["deliveredDate"] == "2026-11-07T14:30:00.0000000Z"
    assert [(e["city"], e["state"], e["description"], e["createDate"]) for e in courier_status["data"]] == [
        (e["city"], e["state"], e["description"], e["date"] + "T00:00:00.0000000Z") for e in events
    ]
    assert all("lastChange" in e for e in courier_status["data"])
    invoice = vtex_sandbox.invoices(ORDER)[0]
    assert [r["operation"] for r in invoice["trackingReceipts"]] == ["tracking_number", "tracking_status"]
    assert len(invoice["receipts"]) == 1  # tracking calls do not touch the invoice receipt history
    delivery = vtex_sandbox.summary()[ORDER]["invoices"][0]["delivery"]
    assert delivery["isDelivered"] is True


def test_tracking_number_sent_with_the_invoice_allows_events(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    assert_receipt(post_invoice(api, vtex_sandbox, invoice_body(trackingNumber="TRK-9", courier="Loggi")))
    status: dict[str, Any] = {"isDelivered": False, "deliveredDate": None, "events": []}
    assert_receipt(put_status(api, vtex_sandbox, "NF-1001", status))
    assert vtex_sandbox.invoices(ORDER)[0]["courierStatus"]["finished"] is False


def test_unknown_invoice_is_404(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    response = patch_tracking(api, vtex_sandbox, "NF-404", {"trackingNumber": "T"})
    assert response.status_code == 404
    assert response.json()["error"] == {"code": "OMS010", "message": "Invoice Not Found", "exception": None}
    status: dict[str, Any] = {"isDelivered": False, "deliveredDate": None, "events": []}
    assert put_status(api, vtex_sandbox, "NF-404", status).status_code == 404
    assert patch_tracking(api, vtex_sandbox, "NF-1", {"trackingNumber": "T"}, "nope-01").json()["error"][
        "code"
    ] == ("OMS007")


def test_invoice_number_with_trailing_space_is_another_invoice(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    # Known issue 631970: "NF-1 " and "NF-1" are different invoices.
    assert_receipt(post_invoice(api, vtex_sandbox, invoice_body(invoiceNumber="NF-1 ")))
    assert patch_tracking(api, vtex_sandbox, "NF-1", {"trackingNumber": "T"}).status_code == 404
    assert_receipt(patch_tracking(api, vtex_sandbox, "NF-1%20", {"trackingNumber": "T"}))


@pytest.mark.parametrize(
    "body",
    [{}, {"trackingNumber": ""}, {"trackingNumber": None}, {"trackingNumber": "T", "courier": 1}, ["T"]],
)
def test_tracking_number_validation(api: requests.Session, vtex_sandbox: VtexSandbox, body: Any) -> None:
    assert_receipt(post_invoice(api, vtex_sandbox, invoice_body()))
    response = patch_tracking(api, vtex_sandbox, "NF-1001", body)
    assert response.status_code == 400, response.text
    assert vtex_sandbox.invoices(ORDER)[0]["trackingNumber"] == ""


def test_tracking_patch_keeps_absent_keys_and_erases_explicit_nulls(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    sent = invoice_body(courier="Loggi", trackingUrl="https://t.example/1", trackingNumber="TRK-0")
    assert_receipt(post_invoice(api, vtex_sandbox, sent))
    assert_receipt(patch_tracking(api, vtex_sandbox, "NF-1001", {"trackingNumber": "TRK-1"}))
    (held,) = vtex_sandbox.invoices(ORDER)
    assert (held["trackingNumber"], held["courier"], held["trackingUrl"]) == (
        "TRK-1",
        "Loggi",
        "https://t.example/1",
    )
    # The pessimistic reading of PATCH: an explicit null erases what the invoice held.
    assert_receipt(patch_tracking(api, vtex_sandbox, "NF-1001", {"trackingNumber": "TRK-1", "courier": None}))
    (held,) = vtex_sandbox.invoices(ORDER)
    assert (held["courier"], held["trackingUrl"]) == (None, "https://t.example/1")


def test_events_before_tracking_number_are_refused(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    assert_receipt(post_invoice(api, vtex_sandbox, invoice_body()))
    response = put_status(
        api, vtex_sandbox, "NF-1001", {"isDelivered": False, "deliveredDate": None, "events": []}
    )
    assert response.status_code == 400
    assert "send the tracking number first (PATCH)" in response.json()["error"]["message"]


GOOD_EVENT = {"city": "Recife", "state": "PE", "description": "Saiu para entrega", "date": "2026-11-07"}


@pytest.mark.parametrize(
    "body",
    [
        {"deliveredDate": None, "events": []},
        {"isDelivered": "true", "deliveredDate": None, "events": []},
        {"isDelivered": False, "events": []},
        {"isDelivered": True, "deliveredDate": "2026-11-07T14:30:00Z", "events": []},
        {"isDelivered": False, "deliveredDate": None},
        {"isDelivered": False, "deliveredDate": None, "events": "x"},
        {"isDelivered": False, "deliveredDate": None, "events": [{**GOOD_EVENT, "city": None}]},
        {"isDelivered": False, "deliveredDate": None, "events": [{**GOOD_EVENT, "date": "07/11/2026"}]},
        {"isDelivered": False, "deliveredDate": None, "events": [{**GOOD_EVENT, "description": "x" * 5001}]},
    ],
    ids=[
        "no-isDelivered",
        "string-bool",
        "no-deliveredDate",
        "iso-deliveredDate",
        "no-events",
        "events-not-list",
        "event-city",
        "event-date",
        "long-description",
    ],
)
def test_tracking_status_validation(api: requests.Session, vtex_sandbox: VtexSandbox, body: Any) -> None:
    assert_receipt(post_invoice(api, vtex_sandbox, invoice_body(trackingNumber="TRK")))
    response = put_status(api, vtex_sandbox, "NF-1001", body)
    assert response.status_code == 400, response.text
    assert vtex_sandbox.invoices(ORDER)[0]["courierStatus"] is None


# -- state API ------------------------------------------------------------------------------------------


def test_add_order_and_reset(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    order = vtex_sandbox.add_order("NEW-01", [{"id": "9", "name": "Widget", "quantity": 2, "price": 150}])
    assert order["value"] == 300
    assert order["status"] == "ready-for-handling"
    assert (
        vtex_sandbox.add_order("NEW-02", [{"id": "9", "quantity": 1, "price": 150}], value=1000)["value"]
        == 1000
    )
    body = invoice_body(invoiceValue="300", items=[{"id": "9", "price": 150, "quantity": 2}])
    assert_receipt(post_invoice(api, vtex_sandbox, body, "NEW-01"), "NEW-01")
    vtex_sandbox.add_fault("get_order", "status", status=500)
    vtex_sandbox.reset()
    assert "NEW-01" not in vtex_sandbox.summary()
    assert vtex_sandbox.requests == []
    assert vtex_sandbox.faults.list() == []
    assert vtex_sandbox.order(ORDER)["packageAttachment"]["packages"] == []


@pytest.mark.parametrize(
    "items",
    [
        [],
        [{"id": "1", "quantity": 1}],
        [{"id": "1", "quantity": 0, "price": 1}],
        [{"quantity": 1, "price": 1}],
    ],
)
def test_add_order_rejects_impossible_orders(vtex_sandbox: VtexSandbox, items: list[dict[str, Any]]) -> None:
    with pytest.raises(ValueError, match="BAD-01"):
        vtex_sandbox.add_order("BAD-01", items)


def test_custom_orders_and_no_seed() -> None:
    orders = [{"orderId": "X-01", "items": [{"id": "1", "name": "x", "quantity": 1, "price": 10}]}]
    with VtexSandbox(orders=orders, seed_default=False) as sb:
        assert list(sb.summary()) == ["X-01"]
        sb.reset()
        assert list(sb.summary()) == ["X-01"]


def test_seed_has_the_documented_example_order(vtex_sandbox: VtexSandbox) -> None:
    summary = vtex_sandbox.summary()
    assert len(summary) == 7
    assert summary[ORDER]["value"] == 7497
    assert summary[ORDER]["status"] == "ready-for-handling"
    # The orders of the spec files' examples hold SKU "123", so VTEX's own example bodies are accepted.
    for example_order in ("1172452900788-01", "v71021948str-01"):
        assert "123" in {item["id"] for item in vtex_sandbox.order(example_order)["items"]}


def test_concurrent_invoices_are_consistent(vtex_sandbox: VtexSandbox) -> None:
    vtex_sandbox.add_order("BULK-01", [{"id": "1", "name": "x", "quantity": 100, "price": 100}])
    errors: list[str] = []

    def worker(n: int) -> None:
        with requests.Session() as session:
            session.headers.update(
                {"X-VTEX-API-AppKey": "sandbox-key", "X-VTEX-API-AppToken": "sandbox-token"}
            )
            for i in range(10):
                body = invoice_body(
                    invoiceNumber=f"T{n}-{i % 5}",
                    invoiceValue="100",
                    items=[{"id": "1", "price": 100, "quantity": 1}],
                )
                response = post_invoice(session, vtex_sandbox, body, "BULK-01")
                if response.status_code != 200:
                    errors.append(response.text)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    invoices = vtex_sandbox.invoices("BULK-01")
    assert len(invoices) == 30
    assert all(len(i["receipts"]) == 2 for i in invoices)
    assert vtex_sandbox.post_count("BULK-01") == 60
