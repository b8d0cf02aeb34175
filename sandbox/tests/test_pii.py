"""A sandbox on VTEX's PII data architecture: its own routes, contract and answers; the other set's routes
are answered with what to use instead."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests

from tests.cli import running_cli
from vtex_sandbox import VtexSandbox
from vtex_sandbox.__main__ import main

ORDER = "70caf3941s6df1"  # 3 x SKU 2001 at 2499 = 7497
TWO_ITEMS = "1172452900791-01"  # SKU 6100 (1 x 8900) + SKU 6101 (5 x 150) + 990 shipping
DOCUMENTS = "/api/orders/pvt/document"
LIST = "/api/orders/extendsearch/orders"
DROP = object()


def pii_invoice(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "Output",
        "issuedDate": "2026-11-05",
        "invoiceNumber": "NF-1001",
        "invoiceValue": 7497,
        "extraValue": 0,
        "invoiceKey": "33240945242914001845550010004817221546274961",
        "invoiceUrl": None,
        "courier": "",
        "trackingNumber": "",
        "trackingUrl": "",
        "cfop": "5100",
        "volumes": 1,
        "items": [{"itemIndex": 0, "price": 7497, "quantity": 3}],
    }
    for key, value in changes.items():
        if value is DROP:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def post(api: requests.Session, sb: VtexSandbox, body: Any, order: str = ORDER) -> requests.Response:
    return api.post(f"{sb.url}{DOCUMENTS}/{order}/invoices", json=body, timeout=5)


pii = pytest.mark.vtex_sandbox(data_architecture="pii")


# -- configuration --------------------------------------------------------------------------------------


def test_unknown_data_architecture_is_refused_with_the_two_choices() -> None:
    with pytest.raises(ValueError, match=r"'standard' .* or 'pii'"):
        VtexSandbox(data_architecture="PII")


@pii
def test_airflow_connection_names_the_pii_architecture(vtex_sandbox: VtexSandbox) -> None:
    assert json.loads(vtex_sandbox.airflow_connection())["extra"] == {
        "base_url": vtex_sandbox.url,
        "data_architecture": "pii",
    }


def test_cli_data_architecture(capsys: pytest.CaptureFixture[str]) -> None:
    with running_cli("--port", "0", "--data-architecture", "pii") as cli:
        assert "data architecture: pii\n" in cli.banner
        assert cli.connection["extra"]["data_architecture"] == "pii"
        headers = {"X-VTEX-API-AppKey": "sandbox-key", "X-VTEX-API-AppToken": "sandbox-token"}
        assert requests.get(f"{cli.url}{DOCUMENTS}/{ORDER}", headers=headers, timeout=5).status_code == 200
    with pytest.raises(SystemExit):
        main(["--data-architecture", "other"])
    assert "invalid choice: 'other'" in capsys.readouterr().err


# -- invoices -------------------------------------------------------------------------------------------


@pii
def test_invoice_records_a_package_with_line_totals(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    answer = post(api, vtex_sandbox, pii_invoice())
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {"date", "orderId", "receipt"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", answer.json()["date"])
    order = api.get(f"{vtex_sandbox.url}{DOCUMENTS}/{ORDER}", timeout=5).json()
    assert order["status"] == "invoiced"
    (package,) = order["packageAttachment"]["packages"]
    assert package["issuanceDate"] == "2026-11-05T00:00:00.0000000Z"
    assert package["items"] == [
        {"itemIndex": 0, "id": "2001", "quantity": 3, "price": 7497, "description": "", "unitMultiplier": 1.0}
    ]
    assert package["invoiceUrl"] == ""  # a string on this route set, never null
    assert package["volumes"] == 1
    assert package["restitutions"] is None


@pii
def test_the_same_invoice_number_twice_is_refused(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    assert post(api, vtex_sandbox, pii_invoice()).status_code == 200
    again = post(api, vtex_sandbox, pii_invoice())
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "OMS013"
    assert "not allow the same invoiceNumber" in again.json()["error"]["message"]
    (held,) = vtex_sandbox.invoices(ORDER)
    assert len(held["receipts"]) == 1


@pii
def test_a_return_refunds_only_a_fully_invoiced_order(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    partial = pii_invoice(
        invoiceNumber="P1", invoiceValue=2499, items=[{"itemIndex": 0, "price": 2499, "quantity": 1}]
    )
    assert post(api, vtex_sandbox, partial).status_code == 200
    early_return = pii_invoice(type="Input", invoiceNumber="R1", invoiceValue=2499, items=partial["items"])
    assert post(api, vtex_sandbox, early_return).status_code == 200
    rest = pii_invoice(
        invoiceNumber="P2", invoiceValue=4998, items=[{"itemIndex": 0, "price": 4998, "quantity": 2}]
    )
    assert post(api, vtex_sandbox, rest).status_code == 200
    late_return = pii_invoice(type="Input", invoiceNumber="R2", invoiceValue=2499, items=partial["items"])
    assert post(api, vtex_sandbox, late_return).status_code == 200
    restitutions = {p["invoiceNumber"]: p["restitutions"] for p in vtex_sandbox.invoices(ORDER)}
    assert restitutions["R1"] is None  # VTEX: "otherwise no refund will occur"
    assert restitutions["R2"]["refund"]["value"] == 2499
    assert restitutions["R2"]["refund"]["items"][0]["price"] == 2499


@pii
@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"issuedDate": DROP}, "issuedDate is required"),
        ({"issuedDate": "2026-11-05T10:00:00Z"}, "YYYY-MM-DD"),
        ({"issuedDate": "2026-11-20garbage"}, "issuedDate"),
        ({"issuedDate": "2026-02-30"}, "issuedDate"),
        ({"invoiceValue": "7497"}, "INTEGER in cents"),
        ({"invoiceValue": 74.97}, "INTEGER"),
        ({"invoiceValue": 0}, "greater than 0"),
        ({"extraValue": None}, "null is not allowed"),
        ({"extraValue": "100"}, "extraValue"),
        ({"volumes": -1}, "volumes"),
        ({"cfop": 5100}, "cfop"),
        ({"courier": 5}, "courier"),
        ({"issuanceDate": "2026-11-05T10:00:00Z"}, "issuanceDate is not a field of the PII route"),
        ({"embeddedInvoice": "<xml/>"}, "belongs to the standard route"),
        ({"dispatchedDate": None}, "belongs to the standard route"),
        ({"items": [{"id": "2001", "price": 7497, "quantity": 3}]}, "id is not a field of the PII route"),
        ({"items": [{"itemIndex": 0, "price": 7497, "quantity": 3, "description": "x"}]}, "description"),
        ({"items": [{"itemIndex": "0", "price": 7497, "quantity": 3}]}, "itemIndex is required"),
        ({"items": [{"itemIndex": 1, "price": 7497, "quantity": 3}]}, "not a position in order"),
        ({"items": [{"itemIndex": 0, "price": 2499, "quantity": 4}]}, "more than the 3 unit(s)"),
        ({"items": [{"itemIndex": 0, "price": 9000, "quantity": 3}]}, "TOTAL price of the invoiced line"),
        ({"items": []}, "items is required"),
        ({"type": "output"}, "type"),
    ],
)
def test_pii_contract(
    api: requests.Session, vtex_sandbox: VtexSandbox, changes: dict[str, Any], fragment: str
) -> None:
    response = post(api, vtex_sandbox, pii_invoice(**changes))
    assert response.status_code == 400, response.text
    assert fragment in response.json()["error"]["message"]
    assert vtex_sandbox.invoices(ORDER) == []


@pii
def test_nan_and_infinity_are_not_json(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    for constant in ("NaN", "Infinity", "-Infinity"):
        text = json.dumps(pii_invoice()).replace('"invoiceValue": 7497', f'"invoiceValue": {constant}')
        response = api.post(
            f"{vtex_sandbox.url}{DOCUMENTS}/{ORDER}/invoices",
            data=text,
            headers={"Content-Type": "application/json"},
            timeout=5,
        )
        assert response.status_code == 400
        assert f"{constant} is not a JSON number" in response.json()["error"]["message"]


@pytest.mark.vtex_sandbox(data_architecture="pii", auto_create_orders=True)
def test_auto_create_shapes_the_order_from_positions_and_line_totals(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    body = pii_invoice(invoiceValue=500, items=[{"itemIndex": 0, "price": 500, "quantity": 2}])
    assert post(api, vtex_sandbox, body, "bulk-1").status_code == 200
    order = vtex_sandbox.order("bulk-1")
    assert order["status"] == "invoiced"
    assert [(i["price"], i["quantity"]) for i in order["items"]] == [(250, 2)]


# -- reads ----------------------------------------------------------------------------------------------


@pii
def test_get_order_is_masked_unless_a_reason_is_given(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    masked = api.get(f"{vtex_sandbox.url}{DOCUMENTS}/{ORDER}", timeout=5).json()
    assert masked["piiHidden"] is True
    assert masked["id"] == masked["orderId"] == ORDER
    assert "*" in masked["clientProfileData"]["email"]
    assert "statusDescription" not in masked
    plain = api.get(f"{vtex_sandbox.url}{DOCUMENTS}/{ORDER}", params={"reason": "data-validation"}, timeout=5)
    assert plain.json()["piiHidden"] is False
    assert plain.json()["clientProfileData"]["email"] == "bruno.lima@example.com"
    unknown = api.get(f"{vtex_sandbox.url}{DOCUMENTS}/nope-01", timeout=5)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "OMS007"


@pii
def test_list_is_a_post_with_filters_in_the_body(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    assert post(api, vtex_sandbox, pii_invoice()).status_code == 200
    everything = api.post(f"{vtex_sandbox.url}{LIST}", timeout=5)  # the body is optional
    assert everything.json()["paging"]["total"] == 7
    page = api.post(f"{vtex_sandbox.url}{LIST}", json={"per_page": 2, "page": 2}, timeout=5).json()
    assert page["paging"] == {"total": 7, "pages": 4, "currentPage": 2, "perPage": 2}
    invoiced = api.post(f"{vtex_sandbox.url}{LIST}", json={"f_status": "invoiced"}, timeout=5).json()
    (entry,) = invoiced["list"]
    assert entry["orderId"] == ORDER
    assert entry["invoicesOutput"] == ["NF-1001"]
    assert "*" in entry["clientEmail"]
    for bad in ({"per_page": "2"}, {"page": 0}, {"incompleteOrders": "yes"}, {"filterError": "some"}, [1]):
        assert api.post(f"{vtex_sandbox.url}{LIST}", json=bad, timeout=5).status_code == 400, bad
    assert api.get(f"{vtex_sandbox.url}{LIST}", timeout=5).headers["Allow"] == "POST"


# -- the other route set --------------------------------------------------------------------------------


@pii
@pytest.mark.parametrize(
    ("method", "path", "instead"),
    [
        (
            "POST",
            f"/api/oms/pvt/orders/{ORDER}/invoice",
            "use POST /api/orders/pvt/document/{orderId}/invoices",
        ),
        ("GET", f"/api/oms/pvt/orders/{ORDER}", "use GET /api/orders/pvt/document/{orderId}"),
        ("GET", "/api/oms/pvt/orders", "use POST /api/orders/extendsearch/orders"),
        ("PATCH", f"/api/oms/pvt/orders/{ORDER}/invoice/NF-1", "has no tracking routes"),
        ("PUT", f"/api/oms/pvt/orders/{ORDER}/invoice/NF-1/tracking", "has no tracking routes"),
        ("POST", f"/api/oms/pvt/orders/{ORDER}/cancel", "use POST /api/orders/pvt/document/{orderId}/cancel"),
    ],
)
def test_standard_routes_on_a_pii_account_say_what_to_use(
    api: requests.Session, vtex_sandbox: VtexSandbox, method: str, path: str, instead: str
) -> None:
    response = api.request(method, vtex_sandbox.url + path, json={}, timeout=5)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "ARCHITECTURE"
    assert error["message"].startswith("This account uses the PII data architecture: ")
    assert instead in error["message"]
    assert "--data-architecture standard" in error["message"]
    assert vtex_sandbox.invoices(ORDER) == []


def test_pii_routes_on_a_standard_account_say_what_to_use(vtex_sandbox: VtexSandbox) -> None:
    response = requests.post(f"{vtex_sandbox.url}{DOCUMENTS}/{ORDER}/invoices", json=pii_invoice(), timeout=5)
    assert response.status_code == 404
    message = response.json()["error"]["message"]
    assert message.startswith("This account uses the standard OMS data architecture: use POST ")
    assert "/api/oms/pvt/orders/{orderId}/invoice" in message
    assert "--data-architecture pii" in message
