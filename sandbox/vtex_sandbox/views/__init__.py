"""The JSON shapes VTEX answers with (one module per route set) and the sandbox's own inspection views.

Each shape follows its OpenAPI file: every documented field is present, and ``null`` appears only where
the file says the field is nullable. Where the file itself is wrong, ``vtex_sandbox/spec_corrections.py`` says
so and why.
"""

from __future__ import annotations

from vtex_sandbox.views.admin import (
    invoice_counts,
    order_summary,
    order_timeline,
    package_admin_view,
    workflow_stats,
)
from vtex_sandbox.views.common import (
    Visible,
    conversation,
    order_group_of,
    order_payment_id,
    payment_transaction,
)
from vtex_sandbox.views.pii import pii_order, pii_order_list
from vtex_sandbox.views.standard import standard_order, standard_order_list

__all__ = [
    "Visible",
    "conversation",
    "invoice_counts",
    "order_group_of",
    "order_payment_id",
    "order_summary",
    "order_timeline",
    "package_admin_view",
    "payment_transaction",
    "pii_order",
    "pii_order_list",
    "standard_order",
    "standard_order_list",
    "workflow_stats",
]
