"""What OMS holds: orders, their items and invoice packages (plain records, no behaviour)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUS_DESCRIPTIONS: dict[str, str] = {
    # VTEX shows the store's locale; the sandbox plays a Brazilian store, as VTEX's own examples do.
    "waiting-for-sellers-confirmation": "Aguardando confirmação do seller",
    "payment-pending": "Pagamento Pendente",
    "payment-approved": "Pagamento Aprovado",
    "ready-for-handling": "Pronto para o manuseio",
    "handling": "Preparando Entrega",
    "invoiced": "Faturado",
    "canceled": "Cancelado",
}

#: Receipt history kept per invoice: enough for any test, bounded for a load test re-sending one invoice.
MAX_RECEIPT_HISTORY = 10_000


@dataclass
class Package:
    """An invoice as OMS stores it, plus the sandbox's own history of the calls that touched it."""

    data: dict[str, Any]
    visible_at: float
    receipt: str
    receipts: list[dict[str, str]] = field(default_factory=list)
    tracking_receipts: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Order:
    order_id: str
    sequence: str
    status: str
    value: int
    items: list[dict[str, Any]]
    creation_date: str
    last_change: str
    client_name: str
    shipping_value: int
    invoiced_date: str | None = None
    invoiced_visible_at: float | None = None
    status_before_invoiced: str | None = None
    packages: dict[str, Package] = field(default_factory=dict)
