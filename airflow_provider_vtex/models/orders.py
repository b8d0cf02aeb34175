"""The request bodies of the Orders API's smaller operations: a line of the order's log (interactions),
the JSONata test of a feed filter, and the window to change seller."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field, field_validator

from airflow_provider_vtex.models.base import VtexPayload
from airflow_provider_vtex.models.types import NonEmptyText, Words


class Interaction(VtexPayload):
    """One line of the order's log, as the Admin shows it (``POST .../orders/{orderId}/interactions``).

    ``source`` says who wrote it (the DAG, the ERP), ``message`` what was done and why: a support team
    reads it next to the order.
    """

    payload_name: ClassVar[str] = "order log line"
    required_hints: ClassVar[dict[str, str]] = {
        "source": "add who writes the line, e.g. 'source': 'Airflow DAG erp_orders'",
        "message": "add what was done and why, e.g. 'message': 'Invoice NF-0001 sent'",
    }

    source: Words
    message: NonEmptyText


class JsonataTest(VtexPayload):
    """``{"Expression", "Document"}`` (VTEX spells both keys capitalised): a feed filter's JSONata
    expression, evaluated by VTEX against an order document (as JSON text)."""

    payload_name: ClassVar[str] = "JSONata test"
    required_hints: ClassVar[dict[str, str]] = {
        "Expression": "add the JSONata expression, e.g. \"status = 'ready-for-handling'\"",
        "Document": "add the order document the expression is evaluated against (a dict or JSON text)",
    }

    expression: NonEmptyText = Field(alias="Expression")
    document: NonEmptyText = Field(alias="Document")

    @field_validator("document", mode="before")
    @classmethod
    def _document_as_text(cls, value: Any) -> Any:
        """VTEX takes the document as JSON text; a dict is turned into it."""
        if isinstance(value, dict | list):
            import json

            return json.dumps(value)
        return value


class SellerWindow(VtexPayload):
    """``{"waitingTime"}``: how long a marketplace may change an order's seller (a whole number; VTEX's
    file does not state the unit, so the value is sent as given)."""

    payload_name: ClassVar[str] = "window to change seller"
    required_hints: ClassVar[dict[str, str]] = {"waitingTime": "add the window, e.g. 'waitingTime': 2"}

    waiting_time: Annotated[int, Field(ge=1, le=10**6, strict=True)]
