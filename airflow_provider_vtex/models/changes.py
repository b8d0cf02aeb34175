"""Order modifications (VTEX's order modifications v2, ``/api/order-system/orders/{changeOrderId}/changes``):
the change request a DAG sends to add, remove or replace items, its cancellation, and the account's
modification settings.

Where VTEX's file is wrong: its schema of the PATCH (and preview) body lists only ``reason``, ``replace``
and ``settings``, while the same operation's description documents ``add`` and ``remove`` bodies
(``{"add": {"items": [...]}}``, ``{"remove": {"items": [...]}}``) and the answers carry them; and the preview
schema requires ``replace`` although VTEX says a preview "takes the same body" as the PATCH. These models
follow the description: ``add``, ``remove`` and ``replace`` are each optional, and at least one is required.

``reason`` is required and is this provider's key for "once": :meth:`VtexHook.create_change
<airflow_provider_vtex.hooks.changes.ChangesMixin.create_change>` recognises a change request it already
made by its reason in the order's modification history, so give each modification a reason of its own
(include the ERP's ticket or the DAG run, e.g. ``"ERP stockout 4711: SKU 33 unavailable"``).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field, model_validator

from airflow_provider_vtex.models.base import VtexPayload
from airflow_provider_vtex.models.types import (
    MAX_ITEMS,
    Cents,
    ChangedUnits,
    ChangeQuantity,
    NonEmptyText,
    Text,
    at_most_items,
    json_list,
)

_ITEM_EXAMPLE = '[{"id": "33", "quantity": 1}]'
#: Statuses VTEX accepts a modification in ("handling", "waiting-for-fulfillment", "ready for invoicing").
MODIFIABLE_STATUSES = frozenset({"handling", "waiting-for-fulfillment", "ready-for-invoicing"})
#: The statuses of a change request, in VTEX's order, and those that end it.
CHANGE_STATUSES = ("waiting-acknowledgement", "waiting-confirmation", "done", "canceled")
FINAL_CHANGE_STATUSES = frozenset({"done", "canceled"})


class ChangedItem(VtexPayload):
    """An item added or removed: its SKU ``id`` and the units added or removed (VTEX finds price and
    unit in the Catalog and Pricing when they are left out)."""

    payload_name: ClassVar[str] = "changed item"
    required_hints: ClassVar[dict[str, str]] = {
        "id": "add the SKU id of the item, e.g. 'id': '33'",
        "quantity": "add the units to add or remove, e.g. 'quantity': 1",
    }

    id: NonEmptyText
    quantity: ChangedUnits
    unique_id: Text | None = None
    price: Cents | None = None
    measurement_unit: Text | None = None
    unit_multiplier: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None


class ItemChange(VtexPayload):
    """``{"items": [...]}``: what ``add`` and ``remove`` hold."""

    payload_name: ClassVar[str] = "item change"
    required_hints: ClassVar[dict[str, str]] = {"items": f"list the items, e.g. 'items': {_ITEM_EXAMPLE}"}

    items: Annotated[
        list[ChangedItem],
        at_most_items(MAX_ITEMS, "items"),
        json_list(_ITEM_EXAMPLE),
        Field(min_length=1),
    ]


class ReplacedItem(VtexPayload):
    """An item on either side of a replacement: ``from`` says what the order holds, ``to`` what it
    should hold (the same SKU with another quantity, weight or price, or another SKU)."""

    payload_name: ClassVar[str] = "replaced item"
    required_hints: ClassVar[dict[str, str]] = ChangedItem.required_hints

    id: NonEmptyText
    quantity: ChangeQuantity
    unique_id: Text | None = None
    price: Cents | None = None
    measurement_unit: Text | None = None
    unit_multiplier: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    manual_discount_value: Cents | None = None
    manual_increment_value: Cents | None = None
    client_profile_data: list[dict[str, Any]] | None = None


class ReplacementSide(VtexPayload):
    """One side of a replacement."""

    payload_name: ClassVar[str] = "replacement side"
    required_hints: ClassVar[dict[str, str]] = ItemChange.required_hints

    items: Annotated[
        list[ReplacedItem],
        at_most_items(MAX_ITEMS, "items"),
        json_list(_ITEM_EXAMPLE),
    ]
    custom_data: dict[str, Any] | None = None
    shipping_data: dict[str, Any] | None = None


class Replacement(VtexPayload):
    """``{"from": {...}, "to": {...}}``."""

    payload_name: ClassVar[str] = "replacement"
    required_hints: ClassVar[dict[str, str]] = {
        "from": "add what the order holds now, e.g. 'from': {'items': [{'id': '33', 'quantity': 2}]}",
        "to": "add what it should hold, e.g. 'to': {'items': [{'id': '33', 'quantity': 1}]}",
    }

    from_: ReplacementSide = Field(alias="from")
    to: ReplacementSide


class Workspaces(VtexPayload):
    enabled_workspaces: list[NonEmptyText]


class PaymentConfiguration(VtexPayload):
    custom_payment_systems_allowed: list[NonEmptyText] | None = None


class RolloutConfiguration(VtexPayload):
    enable_api: bool | None = None
    enable_admin_orders: Workspaces | None = None
    enable_my_orders: Workspaces | None = None


class PipelineConfiguration(VtexPayload):
    enable_tax_hub_recalculation: bool | None = None
    compensate_shipping_changes: bool | None = None
    enable_promotion_recalculation: bool | None = None
    enable_native_tax_recalculation: bool | None = None


class ChangeSettings(VtexPayload):
    """The account's order modification settings (``PUT/GET /api/order-system/orders/changes/settings``),
    also accepted inside one change request to override them for it."""

    payload_name: ClassVar[str] = "order modification settings"

    payment_configuration: PaymentConfiguration | None = None
    rollout_configuration: RolloutConfiguration | None = None
    pipeline_configuration: PipelineConfiguration | None = None


class ChangeRequest(VtexPayload):
    """One order modification: add, remove and/or replace items, with the reason the customer and the
    support team see. The body of both the PATCH (apply) and the preview."""

    payload_name: ClassVar[str] = "order modification"
    required_hints: ClassVar[dict[str, str]] = {
        "reason": "add why the order changes, unique to this modification (it is the key that keeps it from "
        "being applied twice), e.g. 'reason': 'ERP stockout 4711: SKU 33 unavailable'",
    }

    reason: NonEmptyText
    add: ItemChange | None = None
    remove: ItemChange | None = None
    replace: Annotated[list[Replacement], at_most_items(MAX_ITEMS, "replacements")] | None = None
    settings: ChangeSettings | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> ChangeRequest:
        if self.add is None and self.remove is None and not self.replace:
            raise ValueError(
                "changes nothing: add 'add', 'remove' or 'replace', e.g. "
                "'remove': {'items': [{'id': '33', 'quantity': 1}]}"
            )
        return self


class ChangeCancellation(VtexPayload):
    """The body of ``POST .../changes/{changeRequestId}/cancel``."""

    payload_name: ClassVar[str] = "change cancellation"
    required_hints: ClassVar[dict[str, str]] = {
        "reason": "add why the modification is abandoned, e.g. 'reason': 'ERP found the item after all'"
    }

    reason: NonEmptyText
