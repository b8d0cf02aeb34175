"""VTEX's answer shapes: every documented field present, no ``null`` where the file says string/integer.

Schemathesis (test_conformance) sees orders as the seed leaves them; here the orders first go through
everything the sandbox models -- invoices with tracking and delivery, a refund, a cancellation -- and
the answers are then held to the response schema of their own file (``../shared/vtex``, corrected only
as ``vtex_sandbox/spec_corrections.py`` says).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from vtex_sandbox import VtexSandbox, spec_corrections

AUTH = {"X-VTEX-API-AppKey": "sandbox-key", "X-VTEX-API-AppToken": "sandbox-token"}
ORDER = "70caf3941s6df1"  # 3 x SKU 2001 at 2499
CANCELED = "v502559llux-01"

STANDARD_GET = ("/api/oms/pvt/orders/{orderId}", "get")
STANDARD_LIST = ("/api/oms/pvt/orders", "get")
PII_GET = ("/api/orders/pvt/document/{orderId}", "get")
PII_LIST = ("/api/orders/extendsearch/orders", "post")


@pytest.fixture(autouse=True)
def _spec_files() -> None:
    spec_corrections.require_spec_or_skip()


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _response_schema(architecture: str, path: str, verb: str) -> tuple[dict[str, Any], dict[str, Any]]:
    spec = spec_corrections.corrected_spec(architecture, "contract")
    content = spec["paths"][path][verb]["responses"]["200"]["content"]
    return spec, _resolve(spec, next(iter(content.values()))["schema"])


#: Documented fields an answer leaves out on purpose, with the reason.
ABSENT_BY_DESIGN = {
    # {} is how VTEX says "no refund" (an Output invoice, or a return on an order never fully invoiced).
    ".packageAttachment.packages[].restitutions.Refund",
}


def shape_problems(spec: dict[str, Any], schema: Any, value: Any, where: str = "") -> list[str]:
    """Documented fields missing from ``value``, and ``null`` where the schema is not nullable -- at every
    depth the answer reaches (an empty list or a documented ``null`` has nothing below to check)."""
    schema = _resolve(spec, schema)
    if value is None:
        return [] if schema.get("nullable") or not schema else [f"{where or '(root)'}: null, not nullable"]
    problems: list[str] = []
    if isinstance(value, dict) and "properties" in schema:
        for name, sub in schema["properties"].items():
            if name not in value:
                if re.sub(r"\[\d+\]", "[]", f"{where}.{name}") not in ABSENT_BY_DESIGN:
                    problems.append(f"{where}.{name}: missing")
            else:
                problems += shape_problems(spec, sub, value[name], f"{where}.{name}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            problems += shape_problems(spec, schema["items"], item, f"{where}[{index}]")
    return problems


def _inline(spec: dict[str, Any], node: Any) -> Any:
    node = _resolve(spec, node)
    if isinstance(node, dict):
        return {key: _inline(spec, value) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(spec, value) for value in node]
    return node


def schema_errors(spec: dict[str, Any], schema: dict[str, Any], value: Any) -> list[str]:
    """JSON-schema errors of ``value`` with OpenAPI 3.0 semantics (openapi-core's own validator)."""
    from openapi_schema_validator import OAS30Validator

    validator = OAS30Validator(_inline(spec, schema))
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(value)]


def _busy_orders(sandbox: VtexSandbox, invoice: dict[str, Any], session: requests.Session) -> None:
    """Give ORDER an invoice with tracking (and delivery where the route set has it) and a refund, and
    cancel another order, so every optional part of the answers is filled."""
    base = sandbox.url
    if sandbox.data_architecture == "standard":
        orders = f"{base}/api/oms/pvt/orders"
        assert session.post(f"{orders}/{ORDER}/invoice", json=invoice, timeout=5).ok
        tracking = {"trackingNumber": "TRK-1", "trackingUrl": "https://t.example/1", "courier": "Correios"}
        assert session.patch(f"{orders}/{ORDER}/invoice/NF-1", json=tracking, timeout=5).ok
        events = [{"city": "Recife", "state": "PE", "description": "Entregue", "date": "2026-11-07"}]
        status = {"isDelivered": True, "deliveredDate": "2026-11-07 14:30", "events": events}
        assert session.put(f"{orders}/{ORDER}/invoice/NF-1/tracking", json=status, timeout=5).ok
        refund = {**invoice, "type": "Input", "invoiceNumber": "RET-1", "invoiceValue": "2499"}
        refund["items"] = [{"id": "2001", "price": 2499, "quantity": 1}]
        assert session.post(f"{orders}/{ORDER}/invoice", json=refund, timeout=5).ok
        assert session.post(f"{orders}/{CANCELED}/cancel", json={"reason": "stock"}, timeout=5).ok
    else:
        documents = f"{base}/api/orders/pvt/document"
        assert session.post(f"{documents}/{ORDER}/invoices", json=invoice, timeout=5).ok
        refund = {**invoice, "type": "Input", "invoiceNumber": "RET-1", "invoiceValue": 2499}
        refund["items"] = [{"itemIndex": 0, "price": 2499, "quantity": 1}]
        assert session.post(f"{documents}/{ORDER}/invoices", json=refund, timeout=5).ok
        assert session.post(f"{documents}/{CANCELED}/cancel", json={"reason": "stock"}, timeout=5).ok


STANDARD_INVOICE = {
    "type": "Output",
    "invoiceNumber": "NF-1",
    "invoiceValue": "7497",
    "issuanceDate": "2026-11-05T10:00:00-03:00",
    "items": [{"id": "2001", "price": 2499, "quantity": 3}],
}
PII_INVOICE = {
    "type": "Output",
    "invoiceNumber": "NF-1",
    "invoiceValue": 7497,
    "issuedDate": "2026-11-05",
    "trackingNumber": "TRK-1",
    "courier": "Correios",
    "items": [{"itemIndex": 0, "price": 7497, "quantity": 3}],
}


@pytest.fixture(params=["standard", "pii"])
def busy(request: pytest.FixtureRequest) -> Iterator[tuple[VtexSandbox, requests.Session]]:
    with VtexSandbox(data_architecture=request.param) as sandbox, requests.Session() as session:
        session.headers.update(AUTH)
        invoice = STANDARD_INVOICE if request.param == "standard" else PII_INVOICE
        _busy_orders(sandbox, invoice, session)
        yield sandbox, session


def _get_order(sandbox: VtexSandbox, session: requests.Session, order_id: str, **params: str) -> Any:
    prefix = "/api/oms/pvt/orders" if sandbox.data_architecture == "standard" else "/api/orders/pvt/document"
    response = session.get(f"{sandbox.url}{prefix}/{order_id}", params=params, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def _list(sandbox: VtexSandbox, session: requests.Session) -> Any:
    if sandbox.data_architecture == "standard":
        response = session.get(f"{sandbox.url}/api/oms/pvt/orders", params={"per_page": 100}, timeout=5)
    else:
        response = session.post(
            f"{sandbox.url}/api/orders/extendsearch/orders", json={"per_page": 100}, timeout=5
        )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("order_id", [ORDER, CANCELED, "1172452900788-01"])
def test_get_order_has_every_documented_field_and_type(
    busy: tuple[VtexSandbox, requests.Session], order_id: str
) -> None:
    sandbox, session = busy
    operation = STANDARD_GET if sandbox.data_architecture == "standard" else PII_GET
    spec, schema = _response_schema(sandbox.data_architecture, *operation)
    order = _get_order(sandbox, session, order_id)
    assert shape_problems(spec, schema, order) == []
    assert schema_errors(spec, schema, order) == []


def test_list_has_every_documented_field_and_type(busy: tuple[VtexSandbox, requests.Session]) -> None:
    sandbox, session = busy
    operation = STANDARD_LIST if sandbox.data_architecture == "standard" else PII_LIST
    spec, schema = _response_schema(sandbox.data_architecture, *operation)
    listing = _list(sandbox, session)
    assert len(listing["list"]) == 7
    assert shape_problems(spec, schema, listing) == []
    assert schema_errors(spec, schema, listing) == []


def test_the_shape_check_can_fail() -> None:
    spec, schema = _response_schema("standard", *STANDARD_LIST)
    broken = {"list": [], "facets": [], "paging": {"total": 0, "pages": 0, "currentPage": 1}, "stats": None}
    problems = shape_problems(spec, schema, broken)
    assert ".paging.perPage: missing" in problems
    assert ".stats: null, not nullable" in problems


def test_the_fields_the_review_found_are_never_null(busy: tuple[VtexSandbox, requests.Session]) -> None:
    sandbox, session = busy
    order = _get_order(sandbox, session, ORDER)
    (package, _refund) = order["packageAttachment"]["packages"]
    assert isinstance(package["embeddedInvoice"], str)
    if sandbox.data_architecture == "standard":
        assert isinstance(package["volumes"], int)
        assert package["courierStatus"]["deliveredDate"] == "2026-11-07T14:30:00.0000000Z"
    assert all(isinstance(i["imageUrl"], str) and isinstance(i["detailUrl"], str) for i in order["items"])
    assert isinstance(order["clientProfileData"]["email"], str)
    stats = _list(sandbox, session)["stats"]["stats"]["totalValue"]
    assert {"StdDev", "SumOfSquares", "Facets"} <= set(stats)
