"""Fault injection: 429 with Retry-After, 5xx, HTML pages, latency and responses lost after the write."""

from __future__ import annotations

import http.client
import json
import time
from typing import Any

import pytest
import requests

from vtex_sandbox import Fault, FaultError, VtexSandbox

ORDER = "70caf3941s6df1"
AUTH = {"X-VTEX-API-AppKey": "sandbox-key", "X-VTEX-API-AppToken": "sandbox-token"}
INVOICE = {
    "type": "Output",
    "invoiceNumber": "NF-1001",
    "invoiceValue": "7497",
    "issuanceDate": "2026-11-05T10:00:00-03:00",
    "items": [{"id": "2001", "price": 2499, "quantity": 3}],
}


def get_order(api: requests.Session, sb: VtexSandbox) -> requests.Response:
    return api.get(f"{sb.url}/api/oms/pvt/orders/{ORDER}", timeout=5)


def post_invoice(api: requests.Session, sb: VtexSandbox, body: dict[str, Any] = INVOICE) -> requests.Response:
    return api.post(f"{sb.url}/api/oms/pvt/orders/{ORDER}/invoice", json=body, timeout=5)


# -- the rule itself ------------------------------------------------------------------------------------


def test_parse_cli_spec() -> None:
    fault = Fault.parse("invoice:rate_limit:count=3,retry_after=1")
    assert fault == Fault("invoice", "rate_limit", count=3, retry_after=1)
    assert Fault.parse("*:latency:latency=0.25") == Fault("*", "latency", latency=0.25)
    assert Fault.parse("get_order:status:status=503").status == 503
    assert Fault.parse("list_orders:rate_limit:rps=5").rps == 5.0


@pytest.mark.parametrize(
    "spec",
    [
        "invoice",
        "orders:status",
        "invoice:explode",
        "invoice:status:count=0",
        "invoice:status:count=x",
        "invoice:status:colour=red",
        "invoice:latency",
        "invoice:status:rps=3",
        "invoice:status:status=999",
        "invoice:status:every=0",
        "invoice:rate_limit:every=2,rps=3",
    ],
)
def test_bad_specs_are_refused(spec: str) -> None:
    with pytest.raises(FaultError):
        Fault.parse(spec)


def test_from_dict_refuses_unknown_fields() -> None:
    assert Fault.from_dict({"route": "invoice", "kind": "html"}) == Fault("invoice", "html")
    with pytest.raises(FaultError):
        Fault.from_dict({"route": "invoice", "kind": "html", "colour": "red"})
    with pytest.raises(FaultError):
        Fault.from_dict(["invoice"])
    # A GET /_sandbox/faults listing can be posted back.
    listed = Fault("invoice", "status", count=2, status=503).to_dict()
    assert listed["remaining"] == 2
    assert Fault.from_dict(listed) == Fault("invoice", "status", count=2, status=503)


# -- kinds ----------------------------------------------------------------------------------------------


def test_rate_limit_for_count_requests(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    vtex_sandbox.add_fault("invoice", "rate_limit", count=2, retry_after=0)
    for _ in range(2):
        response = post_invoice(api, vtex_sandbox)
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "0"
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        assert response.json()["error"]["code"] == "429"
    assert vtex_sandbox.invoices(ORDER) == []  # a 429 changes nothing
    assert post_invoice(api, vtex_sandbox).status_code == 200
    assert vtex_sandbox.faults.list() == []  # exhausted rules are dropped
    assert [e["status"] for e in vtex_sandbox.requests] == [429, 429, 200]
    assert [e["fault"] for e in vtex_sandbox.requests] == ["rate_limit", "rate_limit", None]


def test_rate_limit_uses_the_sandbox_default_retry_after() -> None:
    with VtexSandbox(retry_after_seconds=7) as sb:
        sb.add_fault("get_order", "rate_limit", count=1)
        response = requests.get(f"{sb.url}/api/oms/pvt/orders/{ORDER}", headers=AUTH, timeout=5)
        assert response.headers["Retry-After"] == "7"


def test_rate_limit_by_requests_per_second(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    vtex_sandbox.add_fault("get_order", "rate_limit", rps=2, retry_after=0)
    statuses = [get_order(api, vtex_sandbox).status_code for _ in range(5)]
    assert statuses == [200, 200, 429, 429, 429]
    # Other routes are not limited.
    assert api.get(f"{vtex_sandbox.url}/api/oms/pvt/orders", timeout=5).status_code == 200
    assert len(vtex_sandbox.faults.list()) == 1  # an rps rule without count stays


def test_status_fault(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    vtex_sandbox.add_fault("invoice", "status", status=503, count=1)
    response = post_invoice(api, vtex_sandbox)
    assert response.status_code == 503
    assert response.json()["error"]["exception"] is None
    assert vtex_sandbox.invoices(ORDER) == []
    assert post_invoice(api, vtex_sandbox).status_code == 200


def test_status_fault_defaults_to_500_and_every_request(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    vtex_sandbox.add_fault(Fault("get_order", "status"))
    assert [get_order(api, vtex_sandbox).status_code for _ in range(3)] == [500, 500, 500]
    vtex_sandbox.clear_faults()
    assert get_order(api, vtex_sandbox).status_code == 200


def test_html_fault(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    vtex_sandbox.add_fault("invoice", "html", count=1)
    vtex_sandbox.add_fault("invoice", "html", count=1, status=200)  # the "login page with 200" trap
    response = post_invoice(api, vtex_sandbox)
    assert response.status_code == 502
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.text.startswith("<!DOCTYPE html>")
    response = post_invoice(api, vtex_sandbox)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(requests.JSONDecodeError):
        response.json()
    assert vtex_sandbox.invoices(ORDER) == []


def test_latency_fault_then_normal_handling(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    vtex_sandbox.add_fault("get_order", "latency", latency=0.05, count=1)
    started = time.perf_counter()
    assert get_order(api, vtex_sandbox).status_code == 200
    assert time.perf_counter() - started >= 0.05
    vtex_sandbox.add_fault("get_order", "latency", latency=0.3, count=1)
    with pytest.raises(requests.Timeout):
        api.get(f"{vtex_sandbox.url}/api/oms/pvt/orders/{ORDER}", timeout=0.05)


def test_drop_after_commit_applies_the_write_and_sends_nothing(vtex_sandbox: VtexSandbox) -> None:
    vtex_sandbox.add_fault("invoice", "drop_after_commit", count=1)
    conn = http.client.HTTPConnection("127.0.0.1", vtex_sandbox.port, timeout=5)
    try:
        conn.request(
            "POST",
            f"/api/oms/pvt/orders/{ORDER}/invoice",
            body=json.dumps(INVOICE),
            headers={**AUTH, "Content-Type": "application/json"},
        )
        with pytest.raises(http.client.RemoteDisconnected):
            conn.getresponse()
    finally:
        conn.close()
    # Committed: the invoice exists and the order is invoiced, though the client saw nothing.
    (invoice,) = vtex_sandbox.invoices(ORDER)
    assert len(invoice["receipts"]) == 1
    assert vtex_sandbox.order(ORDER)["status"] == "invoiced"
    (entry,) = vtex_sandbox.requests
    assert entry["status"] == "dropped"
    assert entry["fault"] == "drop_after_commit"


def test_drop_after_commit_with_requests_then_retry(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    vtex_sandbox.add_fault("invoice", "drop_after_commit", count=1)
    with pytest.raises(requests.ConnectionError):
        post_invoice(api, vtex_sandbox)
    # A blind retry is answered (a new receipt), and the package is not duplicated.
    assert post_invoice(api, vtex_sandbox).status_code == 200
    (invoice,) = vtex_sandbox.invoices(ORDER)
    assert len(invoice["receipts"]) == 2
    assert vtex_sandbox.post_count(ORDER) == 2
    assert vtex_sandbox.count(status="dropped") == 1


def test_faults_are_consumed_in_order(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    vtex_sandbox.add_fault("invoice", "status", status=503, count=1)
    vtex_sandbox.add_fault("invoice", "rate_limit", count=1, retry_after=0)
    vtex_sandbox.add_fault("invoice", "html", count=1)
    statuses = [post_invoice(api, vtex_sandbox).status_code for _ in range(4)]
    assert statuses == [503, 429, 502, 200]


def test_wildcard_route_and_admin_routes_untouched(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    vtex_sandbox.add_fault("*", "status", status=500, count=2)
    assert get_order(api, vtex_sandbox).status_code == 500
    assert api.get(f"{vtex_sandbox.url}/api/oms/pvt/orders", timeout=5).status_code == 500
    assert requests.get(f"{vtex_sandbox.url}/_sandbox/health", timeout=5).status_code == 200
    assert get_order(api, vtex_sandbox).status_code == 200


def test_faults_apply_before_authentication(vtex_sandbox: VtexSandbox) -> None:
    # VTEX's edge rate limits before it looks at credentials.
    vtex_sandbox.add_fault("get_order", "rate_limit", count=1, retry_after=0)
    response = requests.get(f"{vtex_sandbox.url}/api/oms/pvt/orders/{ORDER}", timeout=5)
    assert response.status_code == 429
    response = requests.get(f"{vtex_sandbox.url}/api/oms/pvt/orders/{ORDER}", timeout=5)
    assert response.status_code == 401


# -- admin API ------------------------------------------------------------------------------------------


def test_admin_fault_endpoints(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    admin = f"{vtex_sandbox.url}/_sandbox/faults"
    created = requests.post(
        admin, json={"route": "invoice", "kind": "status", "status": 503, "count": 1}, timeout=5
    )
    assert created.status_code == 201
    assert created.json()["remaining"] == 1
    assert requests.get(admin, timeout=5).json()["faults"][0]["status"] == 503
    bad = requests.post(admin, json={"route": "nowhere", "kind": "status"}, timeout=5)
    assert bad.status_code == 400
    assert "unknown fault route" in bad.json()["error"]["message"]
    assert post_invoice(api, vtex_sandbox).status_code == 503
    requests.post(admin, json={"route": "invoice", "kind": "html"}, timeout=5)
    assert requests.delete(admin, timeout=5).json() == {"status": "cleared"}
    assert requests.get(admin, timeout=5).json() == {"faults": []}
    assert post_invoice(api, vtex_sandbox).status_code == 200


def test_admin_state_endpoints(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    base = f"{vtex_sandbox.url}/_sandbox"
    new = {"orderId": "ADM-01", "items": [{"id": "7", "name": "Thing", "quantity": 2, "price": 500}]}
    created = requests.post(f"{base}/orders", json=new, timeout=5)
    assert created.status_code == 201
    assert created.json()["value"] == 1000
    assert requests.post(f"{base}/orders", json={"orderId": "X"}, timeout=5).status_code == 400
    assert requests.post(f"{base}/orders", data=b"{", timeout=5).status_code == 400
    assert post_invoice(api, vtex_sandbox).status_code == 200
    summary = requests.get(f"{base}/orders", timeout=5).json()
    assert summary["ADM-01"]["value"] == 1000
    invoice = summary[ORDER]["invoices"][0]
    assert invoice["invoiceNumber"] == "NF-1001"
    assert invoice["invoiceValue"] == 7497
    assert len(invoice["receipts"]) == 1
    detail = requests.get(f"{base}/orders/{ORDER}", timeout=5).json()
    assert detail["order"]["status"] == "invoiced"
    assert detail["invoices"][0]["receipts"][0]["receipt"] == invoice["receipt"]
    assert requests.get(f"{base}/orders/none", timeout=5).status_code == 404
    log = requests.get(f"{base}/requests", timeout=5).json()["requests"]
    assert [e["route"] for e in log] == ["invoice"]  # admin calls are not logged
    assert requests.post(f"{base}/reset", timeout=5).json() == {"status": "reset"}
    assert "ADM-01" not in requests.get(f"{base}/orders", timeout=5).json()
    assert requests.get(f"{base}/requests", timeout=5).json() == {"requests": []}
    assert requests.get(f"{base}/nothing", timeout=5).status_code == 404


# -- answers cut short ----------------------------------------------------------------------------------


def test_truncated_answer_applies_nothing_and_breaks_the_read(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    vtex_sandbox.add_fault("invoice", "truncated", count=1)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        post_invoice(api, vtex_sandbox)
    assert vtex_sandbox.invoices(ORDER) == []
    (entry,) = vtex_sandbox.requests
    assert (entry["status"], entry["fault"]) == (502, "truncated")
    assert post_invoice(api, vtex_sandbox).status_code == 200  # the next connection works


def test_truncated_after_commit_applies_the_write_then_breaks_the_read(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    vtex_sandbox.add_fault("invoice", "truncated_after_commit", count=1)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        post_invoice(api, vtex_sandbox)
    (invoice,) = vtex_sandbox.invoices(ORDER)  # committed, though the client could not read the receipt
    assert len(invoice["receipts"]) == 1
    assert vtex_sandbox.requests[0]["fault"] == "truncated_after_commit"


def test_truncated_read_with_a_200_status(vtex_sandbox: VtexSandbox) -> None:
    vtex_sandbox.add_fault("get_order", "truncated", status=200, count=1)
    conn = http.client.HTTPConnection("127.0.0.1", vtex_sandbox.port, timeout=5)
    try:
        conn.request("GET", f"/api/oms/pvt/orders/{ORDER}", headers=AUTH)
        response = conn.getresponse()
        assert response.status == 200
        announced = int(response.headers["Content-Length"])
        with pytest.raises(http.client.IncompleteRead) as cut:
            response.read()
        assert 0 < len(cut.value.partial) < announced
    finally:
        conn.close()


def test_parse_the_new_kinds_and_routes() -> None:
    assert Fault.parse("cancel:truncated_after_commit:count=1") == Fault(
        "cancel", "truncated_after_commit", 1
    )
    assert Fault.parse("start_handling:truncated:status=200").status == 200


def test_every_fires_on_one_request_in_n(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    vtex_sandbox.add_fault("get_order", "status", status=503, every=3)
    statuses = [get_order(api, vtex_sandbox).status_code for _ in range(9)]
    assert statuses == [200, 200, 503] * 3
    assert Fault.parse("invoice:rate_limit:every=10,retry_after=0").every == 10


def test_every_with_count_fires_count_times(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    vtex_sandbox.add_fault("get_order", "status", status=503, every=2, count=2)
    statuses = [get_order(api, vtex_sandbox).status_code for _ in range(6)]
    assert statuses == [200, 503, 200, 503, 200, 200]


def test_echo_headers_quotes_the_credentials_but_the_request_log_does_not(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    vtex_sandbox.add_fault("invoice", "echo_headers", count=1)
    answer = post_invoice(api, vtex_sandbox)
    assert answer.status_code == 400
    assert "X-VTEX-API-AppToken: sandbox-token" in answer.json()["error"]["message"]
    assert vtex_sandbox.invoices(ORDER) == []  # replaced VTEX's answer: nothing applied
    assert "sandbox-token" not in json.dumps(vtex_sandbox.requests)
    assert post_invoice(api, vtex_sandbox).status_code == 200


def test_body_answers_any_json_in_place_of_vtex(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    lot = [{"eventId": "E1", "handle": "H1"}, {"unexpected": [1, 2, 3]}]
    vtex_sandbox.add_fault("get_order", "body", body=lot, count=1)
    answer = get_order(api, vtex_sandbox)
    assert (answer.status_code, answer.json()) == (200, lot)
    assert get_order(api, vtex_sandbox).json()["orderId"] == ORDER  # one answer replaced, then VTEX again
    assert vtex_sandbox.requests[0]["fault"] == "body"
    posted = api.post(f"{vtex_sandbox.url}/_sandbox/faults", json={"route": "*", "kind": "body", "body": {}})
    assert posted.status_code == 201
    assert posted.json()["body"] == {}


def test_body_goes_with_its_kind_only() -> None:
    with pytest.raises(FaultError, match="body"):
        Fault("feed", "body")
    with pytest.raises(FaultError, match="body"):
        Fault("feed", "status", body=[])
    with pytest.raises(FaultError, match="bad fault option"):
        Fault.parse("feed:body:body=1")
