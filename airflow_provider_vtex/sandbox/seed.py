"""Order definitions: the bundled seed file and the checks that keep an order VTEX could hold."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from airflow_provider_vtex.sandbox.clock import vtex_now
from airflow_provider_vtex.sandbox.model import STATUS_DESCRIPTIONS, Order
from airflow_provider_vtex.sandbox.validation.common import is_int, is_text

DEFAULT_SEED_FILE = Path(__file__).with_name("seed_orders.json")


def load_seed(path: str | Path | None = None) -> list[dict[str, Any]]:
    """Read order definitions (a JSON list, or ``{"orders": [...]}``) from ``path``."""
    with open(path or DEFAULT_SEED_FILE, encoding="utf-8") as fh:
        data = json.load(fh)
    if isinstance(data, dict) and isinstance(data.get("orders"), list):
        data = data["orders"]
    if not isinstance(data, list):
        raise ValueError(f"seed file {path} must hold a JSON list of orders")
    return data


def build_order(definition: Any, sequence: int) -> Order:
    """Turn a seed/``add_order`` definition into an order, refusing anything VTEX could not hold."""
    if not isinstance(definition, dict):
        raise ValueError("an order definition must be an object")
    order_id = definition.get("orderId")
    if not is_text(order_id):
        raise ValueError("orderId must be a non-empty string")
    assert isinstance(order_id, str)
    raw_items = definition.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise ValueError(f"order {order_id}: items must be a non-empty list")
    status = definition.get("status", "ready-for-handling")
    if status not in STATUS_DESCRIPTIONS:
        raise ValueError(f"order {order_id}: unknown status {status!r}")
    items: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_items):
        if not isinstance(raw, dict):
            raise ValueError(f"order {order_id}: item {index} must be an object")
        sku = raw.get("id")
        if is_int(sku):
            sku = str(sku)
        if not is_text(sku):
            raise ValueError(f"order {order_id}: item {index} needs a SKU id")
        quantity, price = raw.get("quantity", 1), raw.get("price")
        if not is_int(quantity) or quantity <= 0:
            raise ValueError(f"order {order_id}: item {index} quantity must be a positive integer")
        if not is_int(price) or price < 0:
            raise ValueError(f"order {order_id}: item {index} price must be integer cents >= 0")
        name = str(raw.get("name") or f"SKU {sku}")
        digest = hashlib.sha256(f"{order_id}/{index}/{sku}".encode()).hexdigest()[:32].upper()
        selling_price = raw.get("sellingPrice", price)
        items.append(
            {
                "uniqueId": digest,
                "id": sku,
                "productId": str(raw.get("productId", sku)),
                "ean": raw.get("ean"),
                "lockId": f"00-{order_id.split('-')[0]}-01",
                "quantity": quantity,
                "seller": str(raw.get("seller", "1")),
                "name": name,
                "refId": raw.get("refId"),
                "price": price,
                "listPrice": raw.get("listPrice", price),
                "manualPrice": None,
                "priceTags": [],
                "imageUrl": raw.get("imageUrl"),
                "detailUrl": raw.get("detailUrl"),
                "sellerSku": sku,
                "measurementUnit": "un",
                "unitMultiplier": 1.0,
                "sellingPrice": selling_price,
                "isGift": False,
                "shippingPrice": None,
                "tax": 0,
                "priceDefinition": {
                    "sellingPrices": [{"value": selling_price, "quantity": quantity}],
                    "calculatedSellingPrice": selling_price,
                    "total": selling_price * quantity,
                    "reason": None,
                },
            }
        )
    items_total = sum(i["price"] * i["quantity"] for i in items)
    shipping = definition.get("shippingValue", 0)
    if not is_int(shipping) or shipping < 0:
        raise ValueError(f"order {order_id}: shippingValue must be integer cents >= 0")
    value = definition.get("value")
    if value is None:
        value = items_total + shipping
    elif not is_int(value) or value <= 0:
        raise ValueError(f"order {order_id}: value must be integer cents > 0")
    else:
        shipping = max(value - items_total, 0)
    creation = definition.get("creationDate") or vtex_now()
    order = Order(
        order_id=order_id,
        sequence=str(definition.get("sequence", sequence)),
        status=status,
        value=value,
        items=items,
        creation_date=str(creation),
        last_change=str(definition.get("lastChange", creation)),
        client_name=str(definition.get("clientName", "Sandbox Customer")),
        shipping_value=shipping,
    )
    if status == "invoiced":
        order.invoiced_date = str(definition.get("invoicedDate") or creation)
    return order
