"""Checks of an invoiced line against the order it invoices, common to both route sets.

The two route sets disagree on what ``items[].price`` means (standard: the UNIT price, VTEX multiplies
it by the quantity; PII: the TOTAL of the line). A client that mixes them up sends a price larger than
the order ever charged: that is refused here with a message that says which meaning the route uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vtex_sandbox.errors import bad_request

if TYPE_CHECKING:
    from vtex_sandbox.model import Order


def check_line(order: Order, index: int, price: int, quantity: int, where: str, *, unit_price: bool) -> None:
    item = order.items[index]
    if quantity > item.quantity:
        raise bad_request(
            f"{where}quantity {quantity} is more than the {item.quantity} unit(s) of SKU {item.sku} "
            f"in order {order.order_id}"
        )
    if unit_price and price > item.selling_price:
        raise bad_request(
            f"{where}price {price} is more than the unit price {item.selling_price} of SKU {item.sku}: on "
            "this route price is the UNIT price in cents (VTEX multiplies it by quantity), not the line total"
        )
    if not unit_price and price > item.selling_price * quantity:
        raise bad_request(
            f"{where}price {price} is more than {quantity} x {item.selling_price} for SKU {item.sku}: on "
            "this route price is the TOTAL price of the invoiced line in cents"
        )
