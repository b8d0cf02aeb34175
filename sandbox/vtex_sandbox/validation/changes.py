"""The request contracts of order modifications (``/api/order-system/orders/...``) and of the legacy
"Register modifications" route, as VTEX documents them in ``VTEX - Orders API.json``.

A modification body holds ``reason`` (required) and any of ``add`` (``{"items": [...]}``), ``remove``
(``{"items": [...]}``) and ``replace`` (``[{"from": {"items": [...]}, "to": {"items": [...]}}]``): the
file's schema spells only ``replace``, its description shows ``add`` and ``remove`` in the same body. An
item is ``{"id", "quantity", "uniqueId"?, "price"?, "measurementUnit"?, "unitMultiplier"?,
"manualDiscountValue"?, "manualIncrementValue"?}``. What the body means for the order (which SKU, what
price, the new total) is decided in ``vtex_sandbox.modifications``; here only its shape is checked.
Property names are matched without regard to case, as VTEX's .NET readers do (``common.canonical_keys``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vtex_sandbox.errors import bad_request
from vtex_sandbox.validation.common import canonical_keys, is_int, is_text, require_object

_ROOT = ("reason", "add", "remove", "replace", "settings", "customData")
_ITEM = (
    "id",
    "uniqueId",
    "quantity",
    "price",
    "measurementUnit",
    "unitMultiplier",
    "manualDiscountValue",
    "manualIncrementValue",
    "clientProfileData",
)
_EXAMPLE = (
    '{"reason": "Item out of stock", "remove": {"items": [{"id": "18", "quantity": 1}]}} or '
    '{"reason": "...", "replace": [{"from": {"items": [...]}, "to": {"items": [...]}}]}'
)


@dataclass(frozen=True)
class ItemMove:
    """One item of a modification: which SKU (and line), how many, and optional manual values (cents)."""

    sku: str
    quantity: int
    unique_id: str | None = None
    price: int | None = None
    manual_discount: int = 0
    manual_increment: int = 0


@dataclass(frozen=True)
class ChangeBody:
    """A checked modification body: what leaves the order and what enters it, in the order given."""

    reason: str
    removed: tuple[ItemMove, ...]
    added: tuple[ItemMove, ...]
    discount: int = 0
    increment: int = 0


def parse_change(body: Any) -> ChangeBody:
    """``PATCH .../changes`` and ``POST .../changes/preview``; a 400 naming the field otherwise."""
    root = canonical_keys(require_object(body), _ROOT)
    reason = root.get("reason")
    if not isinstance(reason, str) or not is_text(reason):
        raise bad_request(
            f"reason is required: why the order is modified (a non-empty string), e.g. {_EXAMPLE}"
        )
    removed: list[ItemMove] = []
    added: list[ItemMove] = []
    if "remove" in root:
        removed.extend(_items(root["remove"], "remove"))
    if "add" in root:
        added.extend(_items(root["add"], "add"))
    if "replace" in root:
        for gone, came in _replace_pairs(root["replace"]):
            removed.extend(gone)
            added.extend(came)
    if not removed and not added:
        raise bad_request(
            f"The modification changes nothing: send add, remove or replace items, e.g. {_EXAMPLE}"
        )
    if "settings" in root:
        parse_settings(root["settings"])
    return ChangeBody(
        reason,
        tuple(removed),
        tuple(added),
        discount=sum(m.manual_discount for m in added),
        increment=sum(m.manual_increment for m in added),
    )


def _replace_pairs(replace: Any) -> list[tuple[list[ItemMove], list[ItemMove]]]:
    if not isinstance(replace, list):
        raise bad_request("replace must be a list of {from: {items}, to: {items}} objects")
    pairs = []
    for index, raw in enumerate(replace):
        pair = canonical_keys(require_object(raw, f"replace[{index}]"), ("from", "to"), f"replace[{index}].")
        for side in ("from", "to"):
            if side not in pair:
                raise bad_request(f"replace[{index}].{side} is required ({{'items': [...]}})")
        pairs.append(
            (_items(pair["from"], f"replace[{index}].from"), _items(pair["to"], f"replace[{index}].to"))
        )
    return pairs


def _items(value: Any, where: str) -> list[ItemMove]:
    part = canonical_keys(require_object(value, where), ("items", "customData"), f"{where}.")
    items = part.get("items")
    if not isinstance(items, list):
        raise bad_request(f"{where}.items is required: a list of {{id, quantity}} items")
    return [_item(raw, f"{where}.items[{index}]") for index, raw in enumerate(items)]


def _item(raw: Any, where: str) -> ItemMove:
    item = canonical_keys(require_object(raw, where), _ITEM, f"{where}.")
    sku = item.get("id")
    if not isinstance(sku, str) or not is_text(sku):
        raise bad_request(f"{where}.id is required: the SKU id, as a string")
    quantity = item.get("quantity")
    if not is_int(quantity) or quantity <= 0:
        raise bad_request(f"{where}.quantity is required: an integer greater than 0")
    # The optional fields are typed, not nullable: null is refused like any other wrong type.
    unique_id = item.get("uniqueId")
    if "uniqueId" in item and not isinstance(unique_id, str):
        raise bad_request(f"{where}.uniqueId must be a string (the line's uniqueId in GET order)")
    if "measurementUnit" in item and not isinstance(item["measurementUnit"], str):
        raise bad_request(f"{where}.measurementUnit must be a string (e.g. 'un' or 'kg')")
    numbers = {}
    for key in ("price", "manualDiscountValue", "manualIncrementValue"):
        number = item.get(key)
        if key in item and (not is_int(number) or number < 0):
            raise bad_request(f"{where}.{key} must be an integer >= 0 (cents)")
        numbers[key] = number
    multiplier = item.get("unitMultiplier")
    if "unitMultiplier" in item and (
        isinstance(multiplier, bool) or not isinstance(multiplier, (int, float)) or multiplier <= 0
    ):
        raise bad_request(f"{where}.unitMultiplier must be a number greater than 0")
    return ItemMove(
        sku,
        quantity,
        unique_id or None,
        numbers["price"],
        numbers["manualDiscountValue"] or 0,
        numbers["manualIncrementValue"] or 0,
    )


def parse_legacy_change(body: Any) -> ChangeBody:
    """The deprecated ``POST /api/oms/pvt/orders/{orderId}/changes``: ``requestId``, ``reason``,
    ``discountValue`` and ``incrementValue`` required, ``itemsRemoved``/``itemsAdded`` of ``{id, price,
    quantity}``."""
    fields = ("requestId", "reason", "discountValue", "incrementValue", "itemsRemoved", "itemsAdded")
    root = canonical_keys(require_object(body), fields)
    for key in ("requestId", "reason"):
        if not isinstance(root.get(key), str) or not is_text(root[key]):
            raise bad_request(f"{key} is required: a non-empty string")
    for key in ("discountValue", "incrementValue"):
        if not is_int(root.get(key)) or root[key] < 0:
            raise bad_request(f"{key} is required: an integer >= 0 (cents)")
    moves: dict[str, list[ItemMove]] = {"itemsRemoved": [], "itemsAdded": []}
    for key, found in moves.items():
        if key not in root:
            continue
        raw = root[key]
        if not isinstance(raw, list):
            raise bad_request(f"{key} must be a list of {{id, price, quantity}} items")
        found.extend(_item(item, f"{key}[{index}]") for index, item in enumerate(raw))
    return ChangeBody(
        root["reason"],
        tuple(moves["itemsRemoved"]),
        tuple(moves["itemsAdded"]),
        discount=root["discountValue"],
        increment=root["incrementValue"],
    )


def parse_retry_or_cancel(body: Any) -> str | None:
    """Retry and cancel of a change request: the body is optional (a retry needs nothing new); when one
    is sent it is the file's ``{"reason": string, ...}``."""
    if body is None:
        return None
    root = canonical_keys(require_object(body), ("reason", "replace", "settings"))
    reason = root.get("reason")
    if not isinstance(reason, str):
        raise bad_request("reason is required in a body: a string saying why (or send no body)")
    if "replace" in root:
        _replace_pairs(root["replace"])
    if "settings" in root:
        parse_settings(root["settings"])
    return reason


_SETTINGS_SHAPE: dict[str, dict[str, str]] = {
    "paymentConfiguration": {"customPaymentSystemsAllowed": "strings"},
    "rolloutConfiguration": {
        "usingDefaultBehavior": "bool",
        "enableApi": "bool",
        "enableAdminOrders": "workspaces",
        "enableMyOrders": "workspaces",
    },
    "pipelineConfiguration": {
        "enableTaxHubRecalculation": "bool",
        "compensateShippingChanges": "bool",
        "enablePromotionRecalculation": "bool",
        "enableNativeTaxRecalculation": "bool",
    },
}


def parse_settings(body: Any) -> dict[str, dict[str, Any]]:
    """``PUT .../changes/settings``: the sections and fields given (each optional), checked by type."""
    root = canonical_keys(require_object(body), _SETTINGS_SHAPE)
    parsed: dict[str, dict[str, Any]] = {}
    for section, value in root.items():
        if section not in _SETTINGS_SHAPE:
            raise bad_request(
                f"{section} is not a section of the settings; send {', '.join(_SETTINGS_SHAPE)}"
            )
        shape = _SETTINGS_SHAPE[section]
        fields = canonical_keys(require_object(value, section), shape, f"{section}.")
        for name, given in fields.items():
            kind = shape.get(name)
            where = f"{section}.{name}"
            if kind is None:
                raise bad_request(f"{where} is not a setting; the settings here are {', '.join(shape)}")
            if kind == "bool" and not isinstance(given, bool):
                raise bad_request(f"{where} must be true or false")
            if kind == "strings" and not _strings(given):
                raise bad_request(f"{where} must be a list of strings")
            if kind == "workspaces":
                workspaces = canonical_keys(require_object(given, where), ("enabledWorkspaces",), f"{where}.")
                if set(workspaces) - {"enabledWorkspaces"} or not _strings(
                    workspaces.get("enabledWorkspaces")
                ):
                    raise bad_request(f"{where} must be {{'enabledWorkspaces': [workspace names]}}")
                given = workspaces
            parsed.setdefault(section, {})[name] = given
    return parsed


def parse_seller_window(body: Any) -> int:
    """``POST .../window-to-change-seller``: ``{"waitingTime": days}``, a whole number of days >= 1."""
    root = canonical_keys(require_object(body), ("waitingTime",))
    days = root.get("waitingTime")
    if not is_int(days) or days < 1:
        raise bad_request("waitingTime is required: the window to change seller in whole days (>= 1), e.g. 4")
    return days


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
