"""The JSON shapes VTEX answers with, and the sandbox's own inspection views."""

from __future__ import annotations

import copy
from typing import Any

from airflow_provider_vtex.sandbox.model import STATUS_DESCRIPTIONS, Order, Package


def new_package(payload: dict[str, Any], order: Order) -> dict[str, Any]:
    """GET order's package shape: integer ``invoiceValue``, items by ``itemIndex``."""
    items = [
        {
            "itemIndex": i["itemIndex"],
            "quantity": i["quantity"],
            "price": i["price"],
            "description": i["description"],
            "unitMultiplier": 1.0,
        }
        for i in payload["items"]
    ]
    restitutions: dict[str, Any] = {}
    if payload["type"] == "Input":
        restitutions = {
            "Refund": {
                "value": payload["invoiceValue"],
                "giftCardData": None,
                "items": [
                    {
                        "useFreight": False,
                        "isCompensation": False,
                        "compensationValue": 0,
                        "id": i["id"],
                        "quantity": i["quantity"],
                        "price": i["price"],
                        "description": i["description"],
                    }
                    for i in payload["items"]
                ],
            }
        }
    return {
        "items": items,
        "courier": payload.get("courier"),
        "invoiceNumber": payload["invoiceNumber"],
        "invoiceValue": payload["invoiceValue"],
        "invoiceUrl": payload.get("invoiceUrl"),
        "issuanceDate": payload["issuanceDate"],
        "trackingNumber": payload.get("trackingNumber"),
        "invoiceKey": payload.get("invoiceKey"),
        "trackingUrl": payload.get("trackingUrl"),
        "embeddedInvoice": payload.get("embeddedInvoice"),
        "type": payload["type"],
        "courierStatus": None,
        "cfop": payload.get("cfop"),
        "restitutions": restitutions,
        "volumes": payload.get("volumes"),
        "dispatchedDate": payload.get("dispatchedDate"),
        "EnableInferItems": None,
    }


def package_view(package: Package) -> dict[str, Any]:
    view = copy.deepcopy(package.data)
    view["receipt"] = package.receipt
    view["receipts"] = copy.deepcopy(package.receipts)
    view["trackingReceipts"] = copy.deepcopy(package.tracking_receipts)
    return view


def invoice_summary(package: Package) -> dict[str, Any]:
    data = package.data
    courier_status = data.get("courierStatus")
    delivery = None
    if courier_status:
        delivery = {
            "isDelivered": courier_status["finished"],
            "deliveredDate": courier_status["deliveredDate"],
            "events": copy.deepcopy(courier_status["data"]),
        }
    return {
        "invoiceNumber": data["invoiceNumber"],
        "invoiceValue": data["invoiceValue"],
        "type": data["type"],
        "issuanceDate": data["issuanceDate"],
        "receipt": package.receipt,
        "receipts": [r["receipt"] for r in package.receipts],
        "tracking": {
            "trackingNumber": data.get("trackingNumber"),
            "trackingUrl": data.get("trackingUrl"),
            "courier": data.get("courier"),
            "dispatchedDate": data.get("dispatchedDate"),
        },
        "delivery": delivery,
        "trackingReceipts": copy.deepcopy(package.tracking_receipts),
    }


def list_summary(order: dict[str, Any]) -> dict[str, Any]:
    return {
        "orderId": order["orderId"],
        "creationDate": order["creationDate"],
        "clientName": order["clientProfileData"]["firstName"],
        "items": None,
        "totalValue": order["value"],
        "paymentNames": "Mastercard",
        "status": order["status"],
        "statusDescription": order["statusDescription"],
        "marketPlaceOrderId": None,
        "sequence": order["sequence"],
        "salesChannel": "1",
        "affiliateId": "",
        "origin": "Marketplace",
        "workflowInErrorState": False,
        "workflowInRetry": False,
        "lastMessageUnread": None,
        "ShippingEstimatedDate": None,
        "ShippingEstimatedDateMax": None,
        "ShippingEstimatedDateMin": None,
        "orderIsComplete": True,
        "listId": None,
        "listType": None,
        "authorizedDate": order["authorizedDate"],
        "callCenterOperatorName": None,
        "totalItems": sum(i["quantity"] for i in order["items"]),
        "currencyCode": "BRL",
    }


def stats(values: list[int]) -> dict[str, Any]:
    count = len(values)
    total = sum(values)
    return {
        "Count": count,
        "Max": max(values, default=0),
        "Mean": total / count if count else 0,
        "Min": min(values, default=0),
        "Missing": 0,
        "Sum": total,
        "Facets": {},
    }


def render_order(order: Order, now: float, *, hide_recent: bool) -> dict[str, Any]:
    """The order in GET order's shape, as a fresh copy the caller may keep."""
    status, invoiced_date = order.status, order.invoiced_date
    if (
        hide_recent
        and order.invoiced_visible_at is not None
        and now < order.invoiced_visible_at
        and order.status_before_invoiced is not None
    ):
        status, invoiced_date = order.status_before_invoiced, None
    packages = [
        copy.deepcopy(p.data) for p in order.packages.values() if not hide_recent or now >= p.visible_at
    ]
    items_total = sum(i["price"] * i["quantity"] for i in order.items)
    return {
        "orderId": order.order_id,
        "sequence": order.sequence,
        "marketplaceOrderId": "",
        "sellerOrderId": f"00-{order.order_id}",
        "origin": "Marketplace",
        "affiliateId": "",
        "salesChannel": "1",
        "merchantName": None,
        "status": status,
        "workflowIsInError": False,
        "statusDescription": STATUS_DESCRIPTIONS[status],
        "value": order.value,
        "creationDate": order.creation_date,
        "lastChange": order.last_change,
        "orderGroup": order.order_id.split("-")[0],
        "totals": [
            {"id": "Items", "name": "Total dos Itens", "value": items_total},
            {"id": "Discounts", "name": "Total dos Descontos", "value": 0},
            {"id": "Shipping", "name": "Total do Frete", "value": order.shipping_value},
            {"id": "Tax", "name": "Total da Taxa", "value": 0},
        ],
        "items": copy.deepcopy(order.items),
        "clientProfileData": {"firstName": order.client_name, "email": None},
        "hostname": "sandbox",
        "isCompleted": True,
        "roundingError": 0,
        "allowCancellation": status not in ("invoiced", "canceled") and not packages,
        "allowEdition": False,
        "isCheckedIn": False,
        "authorizedDate": order.creation_date,
        "invoicedDate": invoiced_date,
        "cancelReason": None,
        "packageAttachment": {"packages": packages},
        "storePreferencesData": {"countryCode": "BRA", "currencyCode": "BRL", "currencySymbol": "R$"},
    }
