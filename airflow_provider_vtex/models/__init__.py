"""VTEX's payload contracts as pydantic models, and the typed results of the hook's calls.

One module per concept: ``types`` (the value rules every model reuses), ``invoice`` (one strict model per
VTEX route set), ``tracking``, ``feed`` (the order feed), ``results`` (what calls return).
"""

from airflow_provider_vtex.models.base import VtexPayload
from airflow_provider_vtex.models.feed import (
    FeedConfig,
    FeedFilter,
    FeedItem,
    FeedLot,
    FeedQueue,
    FeedStatus,
    UnreadableFeedItem,
)
from airflow_provider_vtex.models.invoice import (
    INVOICE_MODELS,
    AnyInvoice,
    DataArchitecture,
    Invoice,
    InvoiceItem,
    PiiInvoice,
    PiiInvoiceItem,
)
from airflow_provider_vtex.models.results import (
    InvoiceResult,
    OrderList,
    Outcome,
    Receipt,
    UnreadableListedOrder,
)
from airflow_provider_vtex.models.tracking import (
    Tracking,
    TrackingEvent,
    TrackingStatus,
    split_tracking_payload,
)

__all__ = [
    "INVOICE_MODELS",
    "AnyInvoice",
    "DataArchitecture",
    "FeedConfig",
    "FeedFilter",
    "FeedItem",
    "FeedLot",
    "FeedQueue",
    "FeedStatus",
    "Invoice",
    "InvoiceItem",
    "InvoiceResult",
    "OrderList",
    "Outcome",
    "PiiInvoice",
    "PiiInvoiceItem",
    "Receipt",
    "Tracking",
    "TrackingEvent",
    "TrackingStatus",
    "UnreadableFeedItem",
    "UnreadableListedOrder",
    "VtexPayload",
    "split_tracking_payload",
]
