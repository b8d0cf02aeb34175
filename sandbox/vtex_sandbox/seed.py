"""Order definitions: the bundled seed file and the checks that keep an order VTEX could hold."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from vtex_sandbox.clock import vtex_now
from vtex_sandbox.model import STATUS_DESCRIPTIONS, Order, OrderItem
from vtex_sandbox.validation.common import is_int, is_text, parse_date_time

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
    if not isinstance(order_id, str) or not is_text(order_id):
        raise ValueError("orderId must be a non-empty string")
    raw_items = definition.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise ValueError(f"order {order_id}: items must be a non-empty list")
    status = definition.get("status", "ready-for-handling")
    if status not in STATUS_DESCRIPTIONS:
        raise ValueError(f"order {order_id}: unknown status {status!r}")
    items = [_build_item(order_id, index, raw) for index, raw in enumerate(raw_items)]
    items_total = sum(i.price * i.quantity for i in items)
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
    creation = _timestamp(definition.get("creationDate"), f"order {order_id}: creationDate") or vtex_now()
    client_name = str(definition.get("clientName", "Sandbox Customer"))
    order = Order(
        order_id=order_id,
        sequence=str(definition.get("sequence", sequence)),
        status=status,
        value=value,
        items=items,
        creation_date=creation,
        last_change=_timestamp(definition.get("lastChange"), f"order {order_id}: lastChange") or creation,
        client_name=client_name,
        client_email=str(definition.get("clientEmail") or f"{_slug(client_name, '.')}@example.com"),
        shipping_value=shipping,
    )
    for key, attribute in (
        ("marketplaceOrderId", "marketplace_order_id"),
        ("sellerOrderId", "seller_order_id"),
    ):
        related = definition.get(key)
        if related is not None:
            if not isinstance(related, str) or not is_text(related):
                raise ValueError(f"order {order_id}: {key} must be a non-empty string")
            setattr(order, attribute, related)
    payment_id = definition.get("paymentId")
    if payment_id is not None:
        if not isinstance(payment_id, str) or not is_text(payment_id):
            raise ValueError(f"order {order_id}: paymentId must be a non-empty string")
        order.payment_id = payment_id
    incomplete = definition.get("incomplete", False)
    if not isinstance(incomplete, bool):
        raise ValueError(f"order {order_id}: incomplete must be true or false")
    order.incomplete = incomplete
    if status == "invoiced":
        order.invoiced_date = (
            _timestamp(definition.get("invoicedDate"), f"order {order_id}: invoicedDate") or creation
        )
    return order


def _build_item(order_id: str, index: int, raw: Any) -> OrderItem:
    if not isinstance(raw, dict):
        raise ValueError(f"order {order_id}: item {index} must be an object")
    sku = raw.get("id")
    if is_int(sku):
        sku = str(sku)
    if not isinstance(sku, str) or not is_text(sku):
        raise ValueError(f"order {order_id}: item {index} needs a SKU id")
    quantity, price = raw.get("quantity", 1), raw.get("price")
    if not is_int(quantity) or quantity <= 0:
        raise ValueError(f"order {order_id}: item {index} quantity must be a positive integer")
    if not is_int(price) or price < 0:
        raise ValueError(f"order {order_id}: item {index} price must be integer cents >= 0")
    selling_price = raw.get("sellingPrice", price)
    if not is_int(selling_price) or selling_price < 0:
        raise ValueError(f"order {order_id}: item {index} sellingPrice must be integer cents >= 0")
    name = str(raw.get("name") or f"SKU {sku}")
    slug = _slug(name, "-")
    return OrderItem(
        unique_id=hashlib.sha256(f"{order_id}/{index}/{sku}".encode()).hexdigest()[:32].upper(),
        sku=sku,
        product_id=str(raw.get("productId", sku)),
        ref_id=str(raw.get("refId") or f"REF-{sku}"),
        ean=str(raw["ean"]) if raw.get("ean") is not None else None,
        name=name,
        quantity=quantity,
        price=price,
        list_price=int(raw.get("listPrice", price)),
        selling_price=selling_price,
        seller=str(raw.get("seller", "1")),
        # VTEX answers strings here (never null); sandbox.invalid is a reserved, never-resolving name.
        image_url=str(raw.get("imageUrl") or f"https://sandbox.invalid/arquivos/ids/{sku}-55-55/{slug}.jpg"),
        detail_url=str(raw.get("detailUrl") or f"/{slug}/p"),
    )


def _timestamp(value: Any, where: str) -> str | None:
    """A seed date as VTEX prints it (seed files may use any ISO 8601 date and time)."""
    if value is None:
        return None
    parsed = parse_date_time(value)
    if parsed is None:
        raise ValueError(f"{where} must be an ISO 8601 date and time, got {value!r}")
    return parsed


def _slug(text: str, joiner: str) -> str:
    return joiner.join(re.findall(r"[a-z0-9]+", text.lower())) or "item"


def definition_from_invoice(order_id: str, body: Any, architecture: str) -> dict[str, Any] | None:
    """An order shaped by its first invoice (``auto_create_orders``); ``None`` when the body is too
    broken to shape one -- the contract check then answers the 400 it deserves.

    Standard invoices name SKUs and UNIT prices; PII invoices name positions and line TOTALS.
    """
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        return None
    raw_value = body.get("invoiceValue")
    value = (
        int(raw_value) if is_int(raw_value) or (isinstance(raw_value, str) and raw_value.isdigit()) else None
    )
    if architecture == "pii":
        by_index = {i.get("itemIndex"): i for i in items}
        if set(by_index) != set(range(len(by_index))):
            return None
        lines = []
        for index in range(len(by_index)):
            line = by_index[index]
            quantity, total = line.get("quantity", 1), line.get("price")
            if not is_int(quantity) or quantity <= 0 or not is_int(total):
                return None
            lines.append({"id": f"SKU-{index}", "price": total // quantity, "quantity": quantity})
    else:
        if not all("id" in i for i in items):
            return None
        lines = [{"id": i["id"], "price": i.get("price"), "quantity": i.get("quantity", 1)} for i in items]
    definition: dict[str, Any] = {"orderId": order_id, "items": lines}
    if value:
        definition["value"] = value
    return definition
