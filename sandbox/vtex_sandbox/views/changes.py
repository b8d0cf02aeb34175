"""The answers of order modifications: a change request (PATCH 202, preview, history, detail), the change
summary and the settings.

Shapes from ``VTEX - Orders API.json``. The file types ``add`` and ``remove`` differently in each answer
(an array of strings, an object), so the sandbox answers them ``null`` -- as every example of the file
does -- and shows each touched SKU as one ``replace`` pair: an added SKU has no ``from`` item, a removed
one no ``to`` item, a changed quantity both. ``totals`` are objects (``{id, name, value}``) in every
answer, as the history, detail and preview schemas and the examples have them; see
``vtex_sandbox/spec_corrections.py`` for the PATCH schema that says strings.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from vtex_sandbox.views import common

if TYPE_CHECKING:
    from vtex_sandbox.model import ChangeLine, ChangeRequest, Order, OrderItem

#: The settings of a store that never changed them (VTEX's defaults as its examples show them).
DEFAULT_SETTINGS: dict[str, dict[str, Any]] = {
    "paymentConfiguration": {"customPaymentSystemsAllowed": []},
    "rolloutConfiguration": {
        "usingDefaultBehavior": True,
        "enableApi": True,
        "enableAdminOrders": {"enabledWorkspaces": ["*"]},
        "enableMyOrders": {"enabledWorkspaces": ["*"]},
    },
    "pipelineConfiguration": {
        "enableTaxHubRecalculation": False,
        "compensateShippingChanges": True,
        "enablePromotionRecalculation": False,
        "enableNativeTaxRecalculation": False,
    },
}


def change_request(
    order: Order,
    request: ChangeRequest,
    settings: dict[str, Any],
    *,
    detail: bool = False,
    preview: bool = False,
) -> dict[str, Any]:
    """One change request as PATCH (202), preview (200, no ids: nothing was created), the history and the
    detail (``status``, ``inProgress``, ``logs``) answer it."""
    items_delta = request.total_change + request.manual_discount - request.manual_increment
    view: dict[str, Any] = {}
    if not preview:
        view |= {"requestId": request.request_id, "workflowId": request.workflow_id}
    if detail:
        view |= {"status": request.status, "inProgress": request.in_progress}
    view |= {
        "reason": request.reason,
        "manualDiscountValue": request.manual_discount,
        "manualIncrementValue": request.manual_increment,
        "totalChangeValue": request.total_change,
        "totals": [
            {"id": "Items", "name": "Items Total", "value": items_delta},
            {
                "id": "ManualValues",
                "name": "Manual Values Total",
                "value": request.manual_increment - request.manual_discount,
            },
        ],
        "add": None,
        "remove": None,
        "replace": [_pair(order, line) for line in request.lines],
        "date": request.date,
        "origin": {"account": common.STORE, "orderId": order.order_id, "component": "OrderModifications"},
        # The detail's schema spells the settings flat ({customPaymentSystemsAllowed}), the PATCH's nested
        # by section: both are given, so either reading finds its field.
        "settings": {
            **copy.deepcopy(settings),
            "customPaymentSystemsAllowed": list(
                settings["paymentConfiguration"]["customPaymentSystemsAllowed"]
            ),
        },
    }
    if detail:
        view["logs"] = list(request.logs)
    return view


def _pair(order: Order, line: ChangeLine) -> dict[str, Any]:
    item = next((i for i in order.items if i.sku == line.sku), None)
    before = [_from_item(line)] if line.quantity_from else []
    after = [_to_item(line, item)] if line.quantity_to else []
    return {
        "from": {"paymentData": {"transactions": []}, "items": before, "shippingData": {"logisticsInfo": []}},
        "to": {
            "items": after,
            "paymentData": {"transactions": []},
            "receiptData": None,
            "shippingData": {"logisticsInfo": []},
        },
    }


def _from_item(line: ChangeLine) -> dict[str, Any]:
    return {
        "id": line.sku,
        "quantity": line.quantity_from,
        "price": None,
        "measurementUnit": "un",
        "unitMultiplier": 1,
        "sellingPrice": line.price_from,
        "name": line.name,
        "detailUrl": None,
        "imageUrl": None,
    }


def _to_item(line: ChangeLine, item: OrderItem | None) -> dict[str, Any]:
    return {
        "uniqueId": line.unique_id,
        "id": line.sku,
        "productId": item.product_id if item else None,
        "productRefId": None,
        "refId": item.ref_id if item else None,
        "ean": item.ean if item else None,
        "name": line.name,
        "skuName": line.name,
        "modalType": None,
        "parentItemIndex": None,
        "parentAssemblyBinding": None,
        "assemblies": [],
        "priceValidUntil": None,
        "tax": 0,
        "price": line.price_to,
        "listPrice": item.list_price if item else line.price_to,
        "manualPrice": None,
        "manualPriceAppliedBy": None,
        "sellingPrice": line.price_to,
        "rewardValue": 0,
        "isGift": False,
        "additionalInfo": {
            "dimension": None,
            "brandName": None,
            "brandId": None,
            "offeringInfo": None,
            "offeringType": None,
            "offeringTypeId": None,
            "categoriesIds": None,
            "productClusterId": None,
            "commercialConditionId": None,
        },
        "preSaleDate": None,
        "productCategoryIds": None,
        "productCategories": {},
        "quantity": line.quantity_to,
        "seller": "1",
        "sellerChain": ["1"],
        "imageUrl": item.image_url if item else None,
        "detailUrl": item.detail_url if item else None,
        "components": [],
        "bundleItems": [],
        "attachments": [],
        "attachmentOfferings": [],
        "offerings": [],
        "priceTags": [],
        "availability": "available",
        "measurementUnit": "un",
        "unitMultiplier": 1,
        "manufacturerCode": None,
        "priceDefinition": None,
    }


def history(order: Order, settings: dict[str, Any]) -> dict[str, Any]:
    """``GET .../changes``: every request VTEX accepted (the legacy route's are not part of it)."""
    requests = [change_request(order, r, settings) for r in order.changes if not r.legacy]
    return {"requests": requests, "actions": []}


def summary(order: Order) -> dict[str, Any]:
    """``GET /api/orders/pvt/document/{orderId}/change-summary``: the original items, what the done
    modifications added and removed (per SKU, summed), and the aggregated values."""
    done = [r for r in order.changes if r.status == "done" and not r.legacy]
    added: dict[str, int] = {}
    removed: dict[str, int] = {}
    names: dict[str, ChangeLine] = {}
    for request in done:
        for line in request.lines:
            names[line.sku] = line
            if line.quantity_to > line.quantity_from:
                added[line.sku] = added.get(line.sku, 0) + line.quantity_to - line.quantity_from
            else:
                removed[line.sku] = removed.get(line.sku, 0) + line.quantity_from - line.quantity_to
    discount = sum(r.manual_discount for r in done)
    increment = sum(r.manual_increment for r in done)
    total = sum(r.total_change for r in done)
    original = order.original_items if order.original_items is not None else order.items
    return {
        "original": [_summary_original(order, index, item) for index, item in enumerate(original)],
        "added": [_summary_line(names[sku], quantity) for sku, quantity in added.items()],
        "removed": [_summary_line(names[sku], quantity) for sku, quantity in removed.items()],
        "replaced": [],
        "manualDiscountValueAggregated": discount,
        "manualIncrementValueAggregated": increment,
        "totalChangeValueAggregated": total,
        # The order's totals now (TotalsUpdated: Items, Discounts, Shipping, Tax), as one group.
        "totals": [common.totals(order)],
        "lastChange": done[-1].date if done else order.last_change,
    }


def _summary_original(order: Order, index: int, item: OrderItem) -> dict[str, Any]:
    return {
        "totalQuantity": item.quantity,
        "quantity": item.quantity,
        "deliveryIds": None,
        "itemIndex": index,
        "uniqueId": item.unique_id,
        "id": item.sku,
        "productId": item.product_id,
        "lockId": common.lock_id(order),
        "ean": item.ean,
        "seller": item.seller,
        "sellerSku": item.sku,
        "priceValidUntil": None,
        "name": item.name,
        "additionalInfo": common.item_additional_info(item),
        "attachments": [],
        "attachmentOfferings": None,
        "assemblies": None,
        "refId": item.ref_id,
        "shippingPrice": None,
        "price": item.price,
        "sellingPrice": item.selling_price,
        "manualPrice": None,
        "manualPriceAppliedBy": None,
        "tax": 0,
        "customTax": None,
        "rewardValue": 0,
        "freightCommission": 0,
        "commission": 0,
        "priceTags": [],
        "imageUrl": item.image_url,
        "detailUrl": item.detail_url,
        "components": [],
        "bundleItems": [],
        "offerings": [],
        "preSaleDate": None,
        "isGift": False,
        "taxCode": None,
        "measurementUnit": "un",
        "unitMultiplier": 1.0,
        "marketingData": None,
        "parentAssemblyBinding": None,
        "parentItemIndex": None,
        "callCenterOperator": None,
        "priceDefinition": common.price_definition(item),
        "costPrice": item.price,
    }


def _summary_line(line: ChangeLine, quantity: int) -> dict[str, Any]:
    return {
        "id": line.sku,
        "uniqueId": line.unique_id,
        "totalQuantity": quantity,
        "quantity": quantity,
        "price": line.price_to,
        "measurementUnit": "un",
        "unitMultiplier": 1.0,
        "imageUrl": "",
        "sellingPrice": line.price_to,
        "priceTags": [],
        "detailUrl": "",
        "name": line.name,
        "refId": line.sku,
        "deliveryIds": None,
    }
