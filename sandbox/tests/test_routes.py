"""The sandbox's VTEX routes over real HTTP: auth, permissions, media type, reads, routing."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
import requests

from vtex_sandbox import VtexSandbox

ORDER = "70caf3941s6df1"
ORDERS = "/api/oms/pvt/orders"


def invoice_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "Output",
        "invoiceNumber": "NF-1001",
        "invoiceValue": "7497",
        "issuanceDate": "2026-11-05T10:00:00-03:00",
        "items": [{"id": "2001", "price": 2499, "quantity": 3}],
    }
    body.update(changes)
    return body


def assert_error(response: requests.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    error = response.json()["error"]
    assert set(error) == {"code", "message", "exception"}
    assert error["exception"] is None
    if code is not None:
        assert error["code"] == code
    return dict(error)


# -- lifecycle --------------------------------------------------------------------------------------


def test_start_stop_context_manager_and_free_port() -> None:
    sandbox = VtexSandbox(seed_default=False)
    with pytest.raises(RuntimeError):
        _ = sandbox.url
    with sandbox as sb:
        assert sb.running
        assert sb.port > 0
        assert sb.url == f"http://127.0.0.1:{sb.port}"
        assert requests.get(sb.url + "/_sandbox/health", timeout=5).json() == {"status": "ok", "orders": 0}
        port = sb.port
    assert not sandbox.running
    # The port is released: binding it again works.
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))


def test_stop_cuts_idle_keep_alive_connections(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    assert api.get(vtex_sandbox.url + ORDERS + "/" + ORDER, timeout=5).status_code == 200
    url = vtex_sandbox.url + ORDERS + "/" + ORDER
    vtex_sandbox.stop()  # must not hang on the idle pooled connection
    with pytest.raises(requests.ConnectionError):
        api.get(url, timeout=5)


def test_airflow_connection_json(vtex_sandbox: VtexSandbox) -> None:
    conn = json.loads(vtex_sandbox.airflow_connection())
    assert conn == {
        "conn_type": "vtex",
        "login": "sandbox-key",
        "password": "sandbox-token",
        "host": "sandbox",
        "extra": {"base_url": vtex_sandbox.url},
    }
    assert json.loads(vtex_sandbox.airflow_connection("http"))["conn_type"] == "http"


def test_keep_alive_and_headers(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    first = api.get(vtex_sandbox.url + ORDERS + "/" + ORDER, timeout=5)
    second = api.get(vtex_sandbox.url + ORDERS + "/" + ORDER, timeout=5)
    assert first.status_code == second.status_code == 200
    assert first.headers["Content-Length"] == str(len(first.content))
    assert first.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "close" not in first.headers.get("Connection", "")


# -- authentication and permissions -------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-VTEX-API-AppKey": "sandbox-key"},
        {"X-VTEX-API-AppToken": "sandbox-token"},
        {"X-VTEX-API-AppKey": "sandbox-key", "X-VTEX-API-AppToken": "wrong"},
        {"X-VTEX-API-AppKey": "other", "X-VTEX-API-AppToken": "sandbox-token"},
    ],
)
def test_missing_or_wrong_credentials_are_401(vtex_sandbox: VtexSandbox, headers: dict[str, str]) -> None:
    response = requests.get(vtex_sandbox.url + ORDERS + "/" + ORDER, headers=headers, timeout=5)
    error = assert_error(response, 401, "1")
    assert error["message"] == "Unauthorized access"


def test_header_names_are_case_insensitive(vtex_sandbox: VtexSandbox) -> None:
    headers = {"x-vtex-api-appkey": "sandbox-key", "X-VTEX-API-APPTOKEN": "sandbox-token"}
    assert requests.get(vtex_sandbox.url + ORDERS + "/" + ORDER, headers=headers, timeout=5).ok


def test_custom_credentials() -> None:
    with VtexSandbox(app_key="k1", app_token="t1") as sb:
        url = sb.url + ORDERS + "/" + ORDER
        assert requests.get(
            url, headers={"X-VTEX-API-AppKey": "k1", "X-VTEX-API-AppToken": "t1"}, timeout=5
        ).ok
        default = {"X-VTEX-API-AppKey": "sandbox-key", "X-VTEX-API-AppToken": "sandbox-token"}
        assert requests.get(url, headers=default, timeout=5).status_code == 401


@pytest.mark.vtex_sandbox(permissions={"View order"})
def test_missing_license_manager_resource_is_403(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    assert api.get(vtex_sandbox.url + ORDERS + "/" + ORDER, timeout=5).ok
    assert api.get(vtex_sandbox.url + ORDERS, params={"per_page": 1}, timeout=5).ok
    response = api.post(vtex_sandbox.url + f"{ORDERS}/{ORDER}/invoice", json=invoice_body(), timeout=5)
    error = assert_error(response, 403, "403")
    assert error["message"] == "Forbidden: the credentials lack the License Manager resource 'Notify invoice'"
    assert "sandbox-token" not in response.text
    response = api.patch(
        vtex_sandbox.url + f"{ORDERS}/{ORDER}/invoice/NF-1", json={"trackingNumber": "T"}, timeout=5
    )
    assert_error(response, 403)
    assert vtex_sandbox.invoices(ORDER) == []


@pytest.mark.vtex_sandbox(permissions={"Notify invoice"})
def test_view_order_resource_required_for_reads(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    error = assert_error(api.get(vtex_sandbox.url + ORDERS + "/" + ORDER, timeout=5), 403)
    assert "'View order'" in error["message"]
    assert_error(api.get(vtex_sandbox.url + ORDERS, timeout=5), 403)
    assert api.post(vtex_sandbox.url + f"{ORDERS}/{ORDER}/invoice", json=invoice_body(), timeout=5).ok


def test_refund_invoice_accepts_notify_refund(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    vtex_sandbox.permissions = {"Notify refund"}
    body = invoice_body(type="Input", invoiceNumber="RET-1", invoiceValue="2499")
    body["items"] = [{"id": "2001", "price": 2499, "quantity": 1}]
    assert api.post(vtex_sandbox.url + f"{ORDERS}/{ORDER}/invoice", json=body, timeout=5).ok
    response = api.post(vtex_sandbox.url + f"{ORDERS}/{ORDER}/invoice", json=invoice_body(), timeout=5)
    assert_error(response, 403)


# -- media type and body parsing ------------------------------------------------------------------------


def test_body_without_json_content_type_is_415(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    response = api.post(
        vtex_sandbox.url + f"{ORDERS}/{ORDER}/invoice",
        data=json.dumps(invoice_body()),
        headers={"Content-Type": "text/plain"},
        timeout=5,
    )
    assert_error(response, 415)
    response = api.post(
        vtex_sandbox.url + f"{ORDERS}/{ORDER}/invoice", data=json.dumps(invoice_body()), timeout=5
    )
    assert_error(response, 415)
    assert vtex_sandbox.invoices(ORDER) == []


def test_content_type_with_charset_is_accepted(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    response = api.post(
        vtex_sandbox.url + f"{ORDERS}/{ORDER}/invoice",
        data=json.dumps(invoice_body()).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        timeout=5,
    )
    assert response.ok, response.text


def test_invalid_json_is_400(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    response = api.post(
        vtex_sandbox.url + f"{ORDERS}/{ORDER}/invoice",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert_error(response, 400)
    assert vtex_sandbox.requests[-1]["body"] == "{not json"


def test_chunked_body_is_read(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    payload = json.dumps(invoice_body()).encode()
    chunks = iter([payload[:10], payload[10:]])
    response = api.post(
        vtex_sandbox.url + f"{ORDERS}/{ORDER}/invoice",
        data=chunks,
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert response.ok, response.text
    # The connection stays usable after a chunked request.
    assert api.get(vtex_sandbox.url + ORDERS + "/" + ORDER, timeout=5).ok


# -- reads ----------------------------------------------------------------------------------------------


def test_get_order_shape(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    order = api.get(vtex_sandbox.url + ORDERS + "/" + ORDER, timeout=5).json()
    assert order["orderId"] == ORDER
    assert order["status"] == "ready-for-handling"
    assert order["value"] == 7497
    assert order["invoicedDate"] is None
    assert order["packageAttachment"] == {"packages": []}
    assert order["workflowIsInError"] is False
    assert {t["id"] for t in order["totals"]} == {"Items", "Discounts", "Shipping", "Tax"}
    (item,) = order["items"]
    assert item["id"] == "2001"
    assert item["quantity"] == 3
    assert item["price"] == item["sellingPrice"] == 2499
    assert len(item["uniqueId"]) == 32
    assert order == vtex_sandbox.order(ORDER)


def test_get_order_by_sequence(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    sequence = vtex_sandbox.order(ORDER)["sequence"]
    response = api.get(f"{vtex_sandbox.url}{ORDERS}/seq{sequence}", timeout=5)
    assert response.json()["orderId"] == ORDER


def test_unknown_order_is_404(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    error = assert_error(api.get(vtex_sandbox.url + ORDERS + "/nope-01", timeout=5), 404, "OMS007")
    # VTEX's message, then a hint naming the option that would have created the order.
    assert error["message"].startswith("Order Not Found (vtex-sandbox: ")
    assert "--auto-create-orders" in error["message"]
    response = api.post(vtex_sandbox.url + f"{ORDERS}/nope-01/invoice", json=invoice_body(), timeout=5)
    assert_error(response, 404, "OMS007")
    with pytest.raises(KeyError):
        vtex_sandbox.order("nope-01")


def test_list_orders_paging_and_filter(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    listing = api.get(vtex_sandbox.url + ORDERS, params={"per_page": 1}, timeout=5).json()
    assert listing["paging"] == {"total": 7, "pages": 7, "currentPage": 1, "perPage": 1}
    assert len(listing["list"]) == 1
    assert listing["list"][0]["items"] is None
    assert "totalValue" in listing["list"][0]
    assert listing["stats"]["stats"]["totalValue"]["Count"] == 7
    page2 = api.get(vtex_sandbox.url + ORDERS, params={"per_page": 4, "page": 2}, timeout=5).json()
    assert len(page2["list"]) == 3
    canceled = api.get(vtex_sandbox.url + ORDERS, params={"f_status": "canceled"}, timeout=5).json()
    assert [o["status"] for o in canceled["list"]] == ["canceled"]
    assert_error(api.get(vtex_sandbox.url + ORDERS, params={"per_page": "x"}, timeout=5), 400)


# -- routing --------------------------------------------------------------------------------------------


def test_unknown_route_is_404_with_error_body(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    assert_error(api.get(vtex_sandbox.url + "/api/catalog/pvt/product/1", timeout=5), 404)
    assert_error(api.get(vtex_sandbox.url + "/", timeout=5), 404)


def test_wrong_method_is_405_with_allow(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    # POST instead of PATCH for the tracking number: a classic client mistake.
    response = api.post(
        vtex_sandbox.url + f"{ORDERS}/{ORDER}/invoice/NF-1", json={"trackingNumber": "T"}, timeout=5
    )
    assert_error(response, 405)
    assert response.headers["Allow"] == "PATCH"
    for method in ("DELETE", "OPTIONS", "TRACE", "QUERY"):
        other = api.request(method, vtex_sandbox.url + f"{ORDERS}/{ORDER}", timeout=5)
        assert other.status_code == 405, method
        assert other.headers["Allow"] == "GET"
    head = api.head(vtex_sandbox.url + f"{ORDERS}/{ORDER}", timeout=5)
    assert head.status_code == 405
    assert head.content == b""


def test_path_segments_are_url_decoded(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    vtex_sandbox.add_order("A B-01", [{"id": "1", "name": "x", "quantity": 1, "price": 100}])
    assert api.get(vtex_sandbox.url + ORDERS + "/A%20B-01", timeout=5).json()["orderId"] == "A B-01"
    body = invoice_body(
        invoiceNumber="NF/1", invoiceValue="100", items=[{"id": "1", "price": 100, "quantity": 1}]
    )
    assert api.post(vtex_sandbox.url + f"{ORDERS}/A%20B-01/invoice", json=body, timeout=5).ok
    # Like OMS (known issue 1302085), %2F is decoded too: the invoice "NF/1" cannot be reached.
    response = api.patch(
        vtex_sandbox.url + f"{ORDERS}/A%20B-01/invoice/NF%2F1", json={"trackingNumber": "T"}, timeout=5
    )
    assert response.status_code == 404


# -- request log ----------------------------------------------------------------------------------------


def test_request_log_redacts_the_token(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    api.post(vtex_sandbox.url + f"{ORDERS}/{ORDER}/invoice", json=invoice_body(), timeout=5)
    # A careless client leaks the token in the query string and in the body: still never logged.
    api.get(vtex_sandbox.url + ORDERS, params={"token": "sandbox-token"}, timeout=5)
    api.post(
        vtex_sandbox.url + f"{ORDERS}/{ORDER}/invoice",
        json=invoice_body(invoiceNumber="NF-2", note="token=sandbox-token"),
        timeout=5,
    )
    # A wrong token is a secret too.
    requests.get(
        vtex_sandbox.url + ORDERS,
        headers={"X-VTEX-API-AppKey": "sandbox-key", "X-VTEX-API-AppToken": "almost-the-token"},
        timeout=5,
    )
    log = vtex_sandbox.requests
    assert len(log) == 4
    first = log[0]
    assert first["method"] == "POST"
    assert first["route"] == "invoice"
    assert first["orderId"] == ORDER
    assert first["invoiceNumber"] == "NF-1001"
    assert first["status"] == 200
    assert first["body"]["invoiceValue"] == "7497"
    assert first["headers"]["X-VTEX-API-AppToken"] == "***REDACTED***"
    assert log[1]["query"] == {"token": "***REDACTED***"}
    assert log[3]["status"] == 401
    dumped = json.dumps(log) + json.dumps(
        requests.get(vtex_sandbox.url + "/_sandbox/requests", timeout=5).json()
    )
    assert "sandbox-token" not in dumped
    assert "almost-the-token" not in dumped


def test_request_log_scrubs_the_token_from_every_field(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    token = vtex_sandbox.app_token
    # The token as an order id (raw and URL-encoded), an invoice number, a custom header's value, a
    # query key, inside a body string: none of it may reach the log.
    api.get(f"{vtex_sandbox.url}{ORDERS}/{token}", headers={"X-Debug": f"token={token}"}, timeout=5)
    api.get(f"{vtex_sandbox.url}{ORDERS}/x%20{token}", params={token: "1"}, timeout=5)
    api.post(
        f"{vtex_sandbox.url}{ORDERS}/{ORDER}/invoice",
        json=invoice_body(invoiceNumber=f"NF-{token}", note=[{"deep": token}]),
        timeout=5,
    )
    api.patch(f"{vtex_sandbox.url}{ORDERS}/{ORDER}/invoice/{token}", json={"trackingNumber": "T"}, timeout=5)
    log = vtex_sandbox.requests
    assert len(log) == 4
    admin = requests.get(vtex_sandbox.url + "/_sandbox/requests", timeout=5).text
    assert token not in json.dumps(log) + admin
    assert log[0]["orderId"] == "***REDACTED***"
    assert log[0]["headers"]["X-Debug"] == "token=***REDACTED***"
    assert log[2]["invoiceNumber"] == "NF-***REDACTED***"
    assert log[3]["invoiceNumber"] == "***REDACTED***"


def test_stats_busiest_second_and_duplicates(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    for _ in range(3):
        api.post(f"{vtex_sandbox.url}{ORDERS}/{ORDER}/invoice", json=invoice_body(), timeout=5)
    api.get(f"{vtex_sandbox.url}{ORDERS}/{ORDER}", timeout=5)
    stats = vtex_sandbox.stats()
    assert stats["requests"] == 4
    assert 1 <= stats["busiestSecond"]["count"] <= 4
    assert stats["routes"]["invoice"]["requests"] == 3
    assert stats["orders"] == {
        ORDER: {
            "invoices": 1,
            "receipts": 3,
            "duplicates": 2,
            "resentInvoices": {"NF-1001": 3},
            "hiddenReads": 0,
        }
    }
    assert requests.get(f"{vtex_sandbox.url}/_sandbox/stats", timeout=5).json() == vtex_sandbox.stats()


@pytest.mark.vtex_sandbox(invoice_visibility_delay=30)
def test_stats_count_the_reads_that_hid_an_invoice(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    api.get(f"{vtex_sandbox.url}{ORDERS}/{ORDER}", timeout=5)  # nothing to hide yet
    api.post(f"{vtex_sandbox.url}{ORDERS}/{ORDER}/invoice", json=invoice_body(), timeout=5)
    for _ in range(2):
        order = api.get(f"{vtex_sandbox.url}{ORDERS}/{ORDER}", timeout=5).json()
        assert order["packageAttachment"]["packages"] == []
    assert vtex_sandbox.stats()["orders"][ORDER]["hiddenReads"] == 2


def test_busiest_window_slides_over_the_time_stamps() -> None:
    from vtex_sandbox.request_log import busiest_window

    assert busiest_window([]) == {"count": 0, "start": None}
    # 0.0-0.9 holds three; 0.5-1.4 holds four (a fixed window per whole second would say three).
    assert busiest_window([0.0, 0.5, 0.9, 1.2, 1.4, 3.0]) == {"count": 4, "start": 0.5}
    assert busiest_window([2.0, 1.0, 1.5, 1.0]) == {"count": 3, "start": 1.0}  # any order
    assert busiest_window([0.0, 1.0]) == {"count": 1, "start": 0.0}  # the window is half-open


def test_counts(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    for _ in range(3):
        api.post(vtex_sandbox.url + f"{ORDERS}/{ORDER}/invoice", json=invoice_body(), timeout=5)
    api.get(vtex_sandbox.url + ORDERS + "/" + ORDER, timeout=5)
    assert vtex_sandbox.post_count(ORDER) == 3
    assert vtex_sandbox.post_count() == 3
    assert vtex_sandbox.count("GET", route="get_order", order_id=ORDER) == 1
    assert vtex_sandbox.count(status=200) == 4
    assert vtex_sandbox.count(invoice_number="NF-1001") == 3


def test_error_after_commit_applies_the_write_then_answers_500(
    vtex_sandbox: VtexSandbox, api: requests.Session
) -> None:
    vtex_sandbox.add_fault("invoice", "error_after_commit", count=1)
    answer = api.post(
        f"{vtex_sandbox.url}{ORDERS}/{ORDER}/invoice", json=invoice_body(invoiceNumber="NF-EAC")
    )
    assert_error(answer, 500, "500")
    assert [p["invoiceNumber"] for p in vtex_sandbox.invoices(ORDER)] == ["NF-EAC"]


def test_set_status_moves_the_order_along_the_workflow(vtex_sandbox: Any) -> None:
    vtex_sandbox.set_status("70caf3941s6df1", "payment-pending")
    assert vtex_sandbox.order("70caf3941s6df1")["status"] == "payment-pending"
    with pytest.raises(ValueError, match="unknown order status"):
        vtex_sandbox.set_status("70caf3941s6df1", "shipped")


@pytest.mark.vtex_sandbox(auto_create_orders=True)
def test_auto_create_orders_makes_an_unknown_order_from_its_first_invoice(
    vtex_sandbox: VtexSandbox, api: requests.Session
) -> None:
    body = invoice_body(
        invoiceNumber="NF-AUTO", invoiceValue="500", items=[{"id": "9", "price": 250, "quantity": 2}]
    )
    answer = api.post(f"{vtex_sandbox.url}{ORDERS}/bulk-000001/invoice", json=body)
    assert answer.status_code == 200, answer.text
    assert vtex_sandbox.order("bulk-000001")["status"] == "invoiced"
    unknown = api.get(f"{vtex_sandbox.url}{ORDERS}/never-invoiced")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == "Order Not Found"  # no hint: the option is on
