"""What the operation families (:mod:`~airflow_provider_vtex.hooks.orders`,
:mod:`~airflow_provider_vtex.hooks.changes`) use of :class:`~airflow_provider_vtex.hooks.vtex.VtexHook`:
its connection, its one way to send (``_call``, ``_acall``), the write-once engine and the order reads.

The families are mixins of the hook; this protocol is how they name the hook they run in without
importing it (the hook imports them), so mypy checks each call they make.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_vtex.client.config import VtexConnectionConfig
    from airflow_provider_vtex.client.invoice_once import WriteOnce
    from airflow_provider_vtex.client.routes import Operation
    from airflow_provider_vtex.client.rules import Budget
    from airflow_provider_vtex.models.results import OrderList, Receipt


class HookFace(Protocol):
    vtex_conn_id: str

    @property
    def config(self) -> VtexConnectionConfig: ...

    #: Airflow's logger (its type differs between Airflow versions).
    log: Any

    def _call(
        self,
        operation: Operation,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        budget: Budget | None = None,
        attempts: int | None = None,
        **path_values: Any,
    ) -> Any: ...

    async def _acall(
        self,
        operation: Operation,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        **path_values: Any,
    ) -> Any: ...

    def budget(self) -> Budget: ...

    def _once(self) -> WriteOnce: ...

    def checked_order_id(self, order_id: Any) -> str: ...

    def get_order(self, order_id: str, *, budget: Budget | None = None) -> dict[str, Any]: ...

    def list_orders(self, **filters: Any) -> OrderList: ...

    def cancel_order(self, order_id: str, reason: str | None = None) -> Receipt: ...

    # the order modification family's own reads, which its writes use
    def account_query(self, key: str = "an") -> dict[str, str]: ...

    def change_values(self, order_id: Any, *change_request_id: Any) -> dict[str, Any]: ...

    def list_changes(self, order_id: str, budget: Budget | None = None) -> list[dict[str, Any]]: ...

    def find_change(
        self, order_id: str, reason: str, budget: Budget | None = None
    ) -> dict[str, Any] | None: ...

    def get_change(self, order_id: str, change_request_id: str) -> dict[str, Any]: ...
