"""VtexHook: the ``vtex`` Airflow connection glued to the HTTP client, and VTEX's order calls.

The hook is the Airflow side of the provider's client: the connection is read and checked by
:mod:`~airflow_provider_vtex.client.config`; requests are sent by :mod:`~airflow_provider_vtex.client.transport`
(this hook's calls, ``requests``) and :mod:`~airflow_provider_vtex.client.async_transport` (its triggers'
calls, ``httpx``), both through the one :mod:`~airflow_provider_vtex.client.sending` policy the hook
builds (cap, 429 pauses, retries, scrubbing, metrics via :mod:`~airflow_provider_vtex.hooks.metered`); the
paths come from :mod:`~airflow_provider_vtex.client.routes`; the connection form is
:mod:`~airflow_provider_vtex.hooks.connection_form`'s. This hook exposes what a DAG does with VTEX.

The rule that matters most, **a write that may have been applied is never sent again blindly**, is
owned by :mod:`~airflow_provider_vtex.client.invoice_once` (read first, what an invoice VTEX holds means,
absent versus unknown, read back); this hook supplies its VTEX calls (reading the order, sending the
write) and applies it to every write: an invoice (or a start-handling, a cancel, a payment notification)
whose answer was lost is read back from the order, for as long as VTEX takes to show what it applied
(``readback_timeout``), before anything is re-sent; see :meth:`VtexHook.send_invoice`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_vtex import metrics
from airflow_provider_vtex.client.budget import AccountBudget, BudgetRule, open_store
from airflow_provider_vtex.client.config import VtexConnectionConfig
from airflow_provider_vtex.client.invoice_once import (
    CANCELED_STATUSES,
    HANDLED_STATUSES,
    PAID_STATUSES,
    IfAlreadyInvoiced,
    WriteOnce,
    invoice_package,
)
from airflow_provider_vtex.client.rate_limit import RequestRateLimiter
from airflow_provider_vtex.client.routes import (
    RESOURCE_NOTIFY_INVOICE,
    RESOURCE_VIEW_ORDER,
    Operation,
    check_route_values,
    route_for,
)
from airflow_provider_vtex.client.rules import Budget, RetryPolicy
from airflow_provider_vtex.client.scrub import secret_forms
from airflow_provider_vtex.client.sending import SendingPolicy
from airflow_provider_vtex.client.transport import VtexClient
from airflow_provider_vtex.compat import (
    AirflowNotFoundException,
    BaseHook,
    airflow_home,
    mask_secret,
    vtex_budget_store,
)
from airflow_provider_vtex.exceptions import (
    VtexAuthError,
    VtexConnectionConfigError,
    VtexError,
    VtexInvoiceNotVisibleError,
    VtexNotFoundError,
    VtexOutcomeUnknownError,
    VtexPayloadError,
    VtexTransportError,
    VtexUnexpectedResponseError,
    root_cause,
)
from airflow_provider_vtex.get_provider_info import CONN_TYPE, DEFAULT_CONN_ID, HOOK_NAME
from airflow_provider_vtex.hooks.changes import ChangesMixin
from airflow_provider_vtex.hooks.connection_form import connection_form_widgets, ui_field_behaviour
from airflow_provider_vtex.hooks.metered import MetricsObserver
from airflow_provider_vtex.hooks.order_hook import OrderHookCalls
from airflow_provider_vtex.hooks.orders import OrdersMixin
from airflow_provider_vtex.models import (
    INVOICE_MODELS,
    AnyInvoice,
    FeedConfig,
    FeedItem,
    FeedLot,
    FeedStatus,
    InvoiceResult,
    OrderList,
    Outcome,
    Receipt,
    Tracking,
    TrackingStatus,
)
from airflow_provider_vtex.models.feed import MAX_HANDLE_LENGTH, MAX_LOT, UnreadableFeedItem
from airflow_provider_vtex.models.report import RequestTally
from airflow_provider_vtex.models.tracking import TRACKING_KEYS
from airflow_provider_vtex.models.types import too_deep

#: Levels of nesting in order-list filters: values and lists of values (the PII route's JSON body too).
MAX_FILTER_DEPTH = 3

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Mapping

    from airflow_provider_vtex.client.async_transport import AsyncVtexClient


class VtexHook(BaseHook, OrdersMixin, ChangesMixin, OrderHookCalls):
    """Talks to VTEX's Orders API for one ``vtex`` connection, over one pooled HTTP session.

    :param vtex_conn_id: the Airflow connection: login = AppKey, password = AppToken, host = account name;
        extras ``environment``, ``base_url``, ``timeout``, ``max_retries``, ``verify``, ``data_architecture``,
        ``max_requests_per_second`` (the account's request budget, shared by every process).
    :param timeout: seconds per request; overrides the connection's ``timeout``.
    :param max_retries: retries after a retryable failure; overrides the connection's ``max_retries``.
    :param backoff_initial: first exponential backoff step in seconds (doubles each retry, with jitter).
    :param backoff_max: cap on any single wait, including a ``Retry-After`` VTEX asks for.
    :param max_total_wait: one deadline for every wait of one call (retries, read-backs and resends).
    :param pool_maxsize: connections kept open to VTEX (raise it for concurrent use of one hook).
    :param readback_timeout: VTEX's visibility window: how long after accepting a write VTEX may take to
        show it on the order. A write is concluded absent only once this long has passed since it may
        have been sent.
    :param readback_interval: seconds between two read-backs.
    :param max_requests_per_second: a further cap on requests per second across the threads of this hook
        and the coroutines of its async calls (a trigger's) only (``None``: none), below the account's
        budget. The account's budget, shared by every process using the account, is the connection's
        ``max_requests_per_second`` extra (see :attr:`account_budget`). Whatever the caps, a 429 pauses
        every process of the account for the wait VTEX asked for.
    """

    conn_name_attr = "vtex_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = HOOK_NAME

    def __init__(
        self,
        vtex_conn_id: str = DEFAULT_CONN_ID,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        max_total_wait: float = 300.0,
        pool_maxsize: int = 10,
        readback_timeout: float = 30.0,
        readback_interval: float = 2.0,
        max_requests_per_second: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.vtex_conn_id = vtex_conn_id
        self.timeout_override = timeout
        self.max_retries_override = max_retries
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.max_total_wait = max_total_wait
        self.pool_maxsize = pool_maxsize
        self.readback_timeout = readback_timeout
        self.readback_interval = readback_interval
        #: The request-rate cap (and 429 pauses) of every call of this hook, sync and async alike.
        self.rate_limiter = RequestRateLimiter(max_requests_per_second)
        #: What this hook's requests met, both faces alike: the figures of the task's ``vtex_report`` XCom.
        self.tally = RequestTally()
        self._async_client: AsyncVtexClient | None = None

    # ------------------------------------------------------------------ connection form (Airflow < 3.2)
    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Relabels and hides standard fields; Airflow 3.2+ reads the same data from the provider info."""
        return ui_field_behaviour()

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The extra fields as WTForms widgets, for Airflow versions that do not read ``conn-fields``."""
        return connection_form_widgets()

    # ------------------------------------------------------------------ wiring
    @cached_property
    def config(self) -> VtexConnectionConfig:
        """The connection's checked settings; the credentials are registered with the secrets masker in
        every form a server may echo them (:func:`~airflow_provider_vtex.client.scrub.secret_forms`).

        A connection that does not exist is a :class:`VtexConnectionConfigError` (not retryable: a retry
        cannot define it) naming the id and where to define it, instead of Airflow's bare
        ``AirflowNotFoundException``.
        """
        try:
            connection = self.get_connection(self.vtex_conn_id)
        except AirflowNotFoundException:
            conn_id = self.vtex_conn_id
            raise VtexConnectionConfigError(
                f"No Airflow connection '{conn_id}' is defined (vtex_conn_id='{conn_id}'). Define it in the "
                f"UI (Admin > Connections, connection type 'vtex': App Key as login, App Token as password, account name "
                f"as host), or as the environment variable AIRFLOW_CONN_{conn_id.upper()} (JSON or URI), or "
                "in your secrets backend; or point vtex_conn_id at the connection you have."
            ) from None
        config = VtexConnectionConfig.from_connection(connection, self.vtex_conn_id)
        for form in secret_forms(config.secrets):
            mask_secret(form)
        return config

    def _policy(self) -> RetryPolicy:
        max_retries = self.max_retries_override
        return RetryPolicy(
            max_retries=max_retries if max_retries is not None else self.config.max_retries,
            backoff_initial=self.backoff_initial,
            backoff_max=self.backoff_max,
            max_total_wait=self.max_total_wait,
        )

    @cached_property
    def sending(self) -> SendingPolicy:
        """What every attempt of this hook goes through, its sync calls and its triggers' async ones
        alike: the request-rate cap and 429 pauses (:attr:`rate_limiter`), retries, scrubbing, and the
        reports to Airflow's metrics when the deployment has them on (:mod:`airflow_provider_vtex.metrics`)
        and to :attr:`tally`."""
        return SendingPolicy(
            self.config,
            self._policy(),
            timeout=self.timeout_override,
            rate_limiter=self.rate_limiter,
            budget=self.account_budget,
            observer=MetricsObserver(self.tally),
            logger=self.log,
        )

    @cached_property
    def account_budget(self) -> AccountBudget:
        """The account's request budget, shared by every process using the account through the store of
        ``[vtex] budget_store`` (by default a file under AIRFLOW_HOME); keyed by the connection's base URL,
        so each account has its own. See :mod:`airflow_provider_vtex.client.budget`."""
        timeout = self.timeout_override if self.timeout_override is not None else self.config.timeout
        cap = self.config.max_requests_per_second
        rule = BudgetRule(cap, lease=timeout + BudgetRule(cap).window)  # answered or given up by then
        store = open_store(vtex_budget_store(), airflow_home())
        return AccountBudget(store, self.config.base_url, rule)

    @cached_property
    def client(self) -> VtexClient:
        """The HTTP client of the sync calls (one pooled session), built on first use."""
        return VtexClient(self.config, self._policy(), pool_maxsize=self.pool_maxsize, sending=self.sending)

    @property
    def data_architecture(self) -> str:
        return self.config.data_architecture

    def get_conn(self) -> Any:
        """Airflow's conventional accessor: the pooled ``requests.Session`` (built on first use)."""
        return self.client.session

    def close(self) -> None:
        """Close pooled connections; the hook builds a new session if used again."""
        if "client" in self.__dict__:
            self.client.close()

    # ------------------------------------------------------------------ the async face (triggers)
    async def _acall(
        self,
        operation: Operation,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        **path_values: Any,
    ) -> Any:
        """As the sync calls, over the async client (built on first use, in the running event loop),
        through the same :attr:`sending` policy: the same cap, pauses, retries, scrubbing and metrics."""
        if self._async_client is None:
            from asgiref.sync import sync_to_async

            from airflow_provider_vtex.client.async_transport import AsyncVtexClient

            # Built in a thread: Airflow's connection lookup blocks (DB, secrets backend), and so does
            # loading the CA bundle into an SSL context, and opening the budget's store; a triggerer's event
            # loop must not wait on any of them.
            self._async_client = await sync_to_async(
                lambda: AsyncVtexClient(self.config, self._policy(), sending=self.sending)
            )()
        route = route_for(self.data_architecture, operation)
        return await self._async_client.request(
            route, route.path(**path_values), json_body=json_body, params=params
        )

    async def aget_order(self, order_id: str) -> dict[str, Any]:
        """:meth:`get_order`, awaited."""
        order_id = self.checked_order_id(order_id)
        answer = await self._acall("get_order", order_id=order_id)
        return the_order(
            answer, order_id, route_for(self.data_architecture, "get_order").path(order_id=order_id)
        )

    async def aread_feed_lot(self, max_lot: int = MAX_LOT) -> FeedLot:
        """:meth:`read_feed_lot`, awaited (nothing committed)."""
        _check_max_lot(max_lot)
        answer = await self._acall("feed_items", params={"maxlot": max_lot})
        return _feed_read(answer, route_for(self.data_architecture, "feed_items").path())

    async def aget_feed_items(
        self, max_lot: int = MAX_LOT, *, keep_unreadable: bool = False
    ) -> list[FeedItem]:
        """:meth:`get_feed_items`, awaited (no readable item committed)."""
        lot = await self.aread_feed_lot(max_lot)
        self.report_unreadable(lot.unreadable, keep=keep_unreadable)
        if not keep_unreadable:
            await self.acommit_feed_items(lot.unreadable_handles)
        return lot.items

    async def acommit_feed_items(self, handles: list[str]) -> None:
        """:meth:`commit_feed_items`, awaited."""
        handles = _checked_handles(handles)
        if handles:
            await self._acall("feed_commit", json_body={"handles": handles})
            metrics.incr("vtex.feed.items_committed", len(handles))

    async def aclose(self) -> None:
        """Close the async client's connections (the hook builds a new one if used again)."""
        if self._async_client is not None:
            client, self._async_client = self._async_client, None
            await client.aclose()

    def budget(self) -> Budget:
        """A fresh time budget for one call (``max_total_wait`` from now)."""
        return self.client.policy.budget()

    def _call(
        self,
        operation: Operation,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        budget: Budget | None = None,
        attempts: int | None = None,
        **path_values: Any,
    ) -> Any:
        route = route_for(self.data_architecture, operation)
        self.tally.touched(path_values.get("order_id"))
        return self.client.request(
            route,
            route.path(**path_values),
            json_body=json_body,
            params=params,
            budget=budget,
            attempts=attempts,
        )

    # ------------------------------------------------------------------ invoices
    def parse_invoice(self, invoice: Any) -> AnyInvoice:
        """The invoice checked against the contract of this connection's route set (standard or PII)."""
        return INVOICE_MODELS[self.data_architecture].parse(invoice)

    def send_invoice(
        self,
        order_id: str,
        invoice: AnyInvoice | Mapping[str, Any] | str,
        *,
        if_already_invoiced: IfAlreadyInvoiced = "skip",
        check_first: bool = False,
        maybe_sent_at: dt.datetime | None = None,
    ) -> InvoiceResult:
        """Send an order's invoice to VTEX exactly once, under the invoice-once rule
        (:mod:`~airflow_provider_vtex.client.invoice_once` decides "send or not"; this supplies the calls).

        1. The invoice is checked against the route set's contract (:class:`VtexPayloadError`, nothing sent).
        2. With ``check_first`` the order is read first. An invoice VTEX holds is handled as
           ``if_already_invoiced`` says: ``"skip"`` (``Outcome.ALREADY_INVOICED``), ``"fail"``
           (:class:`VtexInvoiceAlreadySentError`) or ``"resend"`` (sent anyway: VTEX issues a new receipt).
           ``maybe_sent_at`` is the latest moment an earlier attempt may have sent this invoice (the
           operator passes when its retry began): the invoice is then concluded absent only after
           ``readback_timeout`` has passed since that moment, polling meanwhile, because VTEX shows an
           invoice seconds after accepting it.
        3. The POST is retried only after answers proving VTEX did nothing (429, a request never sent).
           After any other failure (timeout, dropped connection, truncated answer, 5xx) the order is read
           back until ``readback_timeout`` has passed since the POST: if VTEX holds the invoice the result is
           ``Outcome.CONFIRMED_BY_READ_BACK``; only an invoice still absent then is sent again. If the order
           cannot be read back, :class:`VtexOutcomeUnknownError` is raised and nothing is re-sent.

        Every wait shares one deadline, ``max_total_wait`` after the call started. Each call counts one
        ``vtex.invoices`` metric tagged with its outcome (``failed`` when it raises).
        """
        try:
            result = self._send_invoice(
                order_id,
                invoice,
                if_already_invoiced=if_already_invoiced,
                check_first=check_first,
                maybe_sent_at=maybe_sent_at,
            )
        except VtexError:
            metrics.incr("vtex.invoices", outcome="failed")
            raise
        metrics.incr("vtex.invoices", outcome=result.outcome.value)
        return result

    def _send_invoice(
        self,
        order_id: str,
        invoice: AnyInvoice | Mapping[str, Any] | str,
        *,
        if_already_invoiced: IfAlreadyInvoiced,
        check_first: bool,
        maybe_sent_at: dt.datetime | None,
    ) -> InvoiceResult:
        model = self.parse_invoice(invoice)
        order_id = self.checked_order_id(order_id)
        number = model.invoice_number
        budget = self.budget()
        if check_first:
            decided = self.check_invoice_first(
                order_id, number, if_already_invoiced, maybe_sent_at=maybe_sent_at, budget=budget
            )
            if decided is not None:
                return decided
        answer, confirmed = self._write_once(
            "invoice",
            order_id,
            model.to_wire(),
            applied=lambda: (
                invoice_package(self.read_back(order_id, f"invoice {number}", budget), number) is not None
            ),
            what=f"invoice {number} for order {order_id}",
            budget=budget,
        )
        if confirmed:
            self.log.info(
                "VTEX holds invoice %s on order %s (its answer was lost): not sending it again.",
                number,
                order_id,
            )
            return InvoiceResult(order_id, number, Outcome.CONFIRMED_BY_READ_BACK)
        receipt = Receipt.from_answer(answer, order_id)
        return InvoiceResult(order_id, number, Outcome.SENT, receipt=receipt.receipt, date=receipt.date)

    def check_invoice_first(
        self,
        order_id: str,
        invoice_number: str,
        if_already_invoiced: IfAlreadyInvoiced,
        *,
        maybe_sent_at: dt.datetime | None = None,
        budget: Budget | None = None,
    ) -> InvoiceResult | None:
        """The read-first step of the invoice-once rule for this connection
        (:meth:`WriteOnce.check_first <airflow_provider_vtex.client.invoice_once.WriteOnce.check_first>`):
        the result an invoice VTEX already holds decides, or ``None`` for "send it". The single invoice
        (:meth:`send_invoice` with ``check_first``) and bulk invoicing both read first through here."""
        order_id, invoice_number = self.checked_route_values(order_id, invoice_number)
        budget = budget or self.budget()
        return self._once().check_first(
            lambda: self._held_before_sending(order_id, invoice_number, budget),
            order_id=order_id,
            invoice_number=invoice_number,
            if_already_invoiced=if_already_invoiced,
            data_architecture=self.data_architecture,
            budget=budget,
            maybe_sent_at=maybe_sent_at,
        )

    def _held_before_sending(self, order_id: str, number: str, budget: Budget) -> dict[str, Any] | None:
        """The package of invoice ``number`` if the order shows it now. An order VTEX does not know (404)
        holds no invoice: the POST then gets VTEX's own answer (a 404 again, or, on a sandbox that
        creates orders from their first invoice, the order)."""
        try:
            order = self.read_back(order_id, f"invoice {number}", budget)
        except VtexNotFoundError:
            self.log.info("VTEX does not know order %s (404): it holds no invoice %s.", order_id, number)
            return None
        return invoice_package(order, number)

    def wait_out_visibility_window(self, maybe_sent_at: dt.datetime) -> float:
        """Sleep until ``readback_timeout`` has passed since ``maybe_sent_at``; returns the seconds slept.

        Bulk invoicing waits once for all the orders an earlier attempt may have invoiced, then reads
        each once, instead of polling order by order.
        """
        return self._once().wait_out_window(maybe_sent_at)

    def find_invoice(
        self, order_id: str, invoice_number: str, *, budget: Budget | None = None
    ) -> dict[str, Any] | None:
        """The package of ``invoice_number`` on the order, as VTEX shows it now, or None."""
        order_id, invoice_number = self.checked_route_values(order_id, invoice_number)
        return invoice_package(self.get_order(order_id, budget=budget), invoice_number)

    def wait_for_invoice(
        self, order_id: str, invoice_number: str, *, timeout: float
    ) -> dict[str, Any] | None:
        """Poll the order until it shows the invoice or ``timeout`` seconds pass; the package or None."""
        order_id, invoice_number = self.checked_route_values(order_id, invoice_number)
        until = time.monotonic() + timeout
        budget = Budget(deadline=until + self.max_total_wait, max_attempts=self.client.policy.max_retries + 1)
        return self._once().poll_for(
            lambda: self.find_invoice(order_id, invoice_number, budget=budget),
            until,
            budget,
            order_id=order_id,
            what=f"invoice {invoice_number}",
        )

    # ------------------------------------------------------------------ tracking (standard route set only)
    def notify_tracking(
        self, order_id: str, invoice_number: str, tracking: Tracking | Mapping[str, Any] | str
    ) -> Receipt:
        """PATCH the tracking number, URL, courier and dispatch date onto an invoice VTEX holds.

        VTEX's schema requires all four keys, and an explicit ``null`` could erase what the invoice set:
        for every key not given, the value VTEX holds is read from the order and sent back unchanged.
        """
        route_for(self.data_architecture, "tracking_number")  # PII: a clear error before any request
        order_id, invoice_number = self.checked_route_values(order_id, invoice_number)
        model = Tracking.parse(tracking)
        body = model.to_wire()
        missing = [key for key in TRACKING_KEYS if key not in body]
        if missing:
            package = self.wait_for_invoice(order_id, invoice_number, timeout=self.readback_timeout)
            if package is None:
                raise VtexInvoiceNotVisibleError(
                    f"Order {order_id} does not show invoice {invoice_number} after {self.readback_timeout:g} s, so "
                    f"its {', '.join(missing)} cannot be kept as they are. Send the invoice first (VTEX takes "
                    "tracking only on an invoice it holds); a retry of the task checks again."
                )
            body = {**{key: package.get(key) for key in missing}, **body}
        answer = self._call(
            "tracking_number", json_body=body, order_id=order_id, invoice_number=invoice_number
        )
        return Receipt.from_answer(answer, order_id)

    def update_tracking_status(
        self, order_id: str, invoice_number: str, status: TrackingStatus | Mapping[str, Any] | str
    ) -> Receipt:
        """PUT tracking events and delivery; VTEX needs the tracking number on the invoice first."""
        route_for(self.data_architecture, "tracking_status")
        order_id, invoice_number = self.checked_route_values(order_id, invoice_number)
        model = TrackingStatus.parse(status)
        answer = self._call(
            "tracking_status", json_body=model.to_wire(), order_id=order_id, invoice_number=invoice_number
        )
        return Receipt.from_answer(answer, order_id)

    # ------------------------------------------------------------------ orders
    def get_order(self, order_id: str, *, budget: Budget | None = None) -> dict[str, Any]:
        """GET the order, including ``packageAttachment.packages`` (the invoices VTEX holds).

        An answer that is not this order (an empty 200, JSON without ``orderId``, another order, a list:
        a gateway or cache answering for VTEX) raises the retryable
        :class:`~airflow_provider_vtex.exceptions.VtexUnexpectedResponseError`: it shows nothing about
        the order, so it must not be read as an order without invoices or in no status.
        """
        order_id = self.checked_order_id(order_id)
        answer = self._call("get_order", order_id=order_id, budget=budget)
        return the_order(
            answer, order_id, route_for(self.data_architecture, "get_order").path(order_id=order_id)
        )

    def read_back(self, order_id: str, what: str, budget: Budget | None = None) -> dict[str, Any]:
        """The order, read to learn whether ``what`` (a write) is applied; an answer that is not the order
        means "unknown", never "absent": :class:`VtexOutcomeUnknownError` (retryable), so nothing is sent."""
        try:
            return self.get_order(order_id, budget=budget)
        except VtexUnexpectedResponseError as exc:
            if exc.http_status != 200:
                raise
            raise VtexOutcomeUnknownError(
                f"Whether VTEX applied the {what} on order {order_id} is unknown: {exc} Nothing was sent (again), "
                "to avoid applying it twice; a retry of the task reads the order again.",
                order_id=order_id,
                what=what,
            ) from exc

    def list_orders(self, **filters: Any) -> OrderList:
        """One page of orders matching VTEX's filters (``f_status``, ``f_creationDate``, ``q``, ``page``,
        ``per_page`` (at most 100), ``orderBy``...). Standard: ``GET /api/oms/pvt/orders``; PII:
        ``POST /api/orders/extendsearch/orders``. The list lags behind GET order: use it for discovery."""
        per_page = filters.get("per_page")
        if per_page is not None and not (isinstance(per_page, int) and 1 <= per_page <= 100):
            raise VtexPayloadError(
                "order list filters", [("per_page", f"must be 1 to 100 (VTEX's limit); got {per_page!r}")]
            )
        deep = too_deep(filters, MAX_FILTER_DEPTH)
        if deep is not None:
            raise VtexPayloadError(
                "order list filters",
                [
                    (
                        deep,
                        "nests too deep: VTEX's filters are text, numbers and lists of them (f_status, q, page...)",
                    )
                ],
            )
        if self.data_architecture == "pii":
            answer = self._call("list_orders", json_body=filters)
        else:
            answer = self._call("list_orders", params=filters)
        route = route_for(self.data_architecture, "list_orders")
        page = OrderList.from_answer(answer, route.path(), route.method)
        for entry in page.unreadable:
            self.log.warning(
                "Set aside entry #%d of VTEX's order list: it %s. The rest of the page goes on.",
                entry.position + 1,
                entry.problem,
            )
        if page.unreadable:
            metrics.incr("vtex.order_list.items_unreadable", len(page.unreadable))
        return page

    def start_handling(self, order_id: str) -> Outcome:
        """Move a ``ready-for-handling`` order to ``handling`` (VTEX answers 204).

        A 409 (the order is not ready for handling) raises :class:`~airflow_provider_vtex.exceptions.VtexConflictError`
        at once. A lost answer is read back (the order's status) before anything is sent again.
        """
        order_id = self.checked_order_id(order_id)
        budget = self.budget()
        _, confirmed = self._write_once(
            "start_handling",
            order_id,
            None,
            applied=lambda: (
                self.read_back(order_id, "start-handling", budget).get("status") in HANDLED_STATUSES
            ),
            what=f"start-handling of order {order_id}",
            budget=budget,
        )
        return Outcome.CONFIRMED_BY_READ_BACK if confirmed else Outcome.SENT

    def cancel_order(self, order_id: str, reason: str | None = None) -> Receipt:
        """Ask VTEX to cancel the order (invoiced and partially invoiced orders cannot be; VTEX answers
        400). A lost answer is read back (the order's status) before anything is sent again."""
        order_id = self.checked_order_id(order_id)
        budget = self.budget()
        answer, _ = self._write_once(
            "cancel",
            order_id,
            {"reason": reason} if reason else {},
            applied=lambda: (
                self.read_back(order_id, "cancellation", budget).get("status") in CANCELED_STATUSES
            ),
            what=f"cancellation of order {order_id}",
            budget=budget,
        )
        return Receipt.from_answer(answer, order_id)

    # ------------------------------------------------------------------ payments
    def notify_payment(self, order_id: str, payment_id: str, *, check_first: bool = False) -> Outcome:
        """Tell VTEX that a payment of the order was received (a bank slip paid, say): VTEX's payment
        notification, ``POST /api/oms/pvt/orders/{orderId}/payments/{paymentId}/payment-notification``
        (standard) or ``POST /api/orders/pvt/document/{orderId}/payment/{paymentId}/notify-payment`` (PII).
        VTEX answers 200 without a body; the order then leaves ``payment-pending``. The key's role needs the
        License Manager resource "Notify payment". An order's payment ids are in
        ``paymentData.transactions[].payments[].id`` of GET order.

        **Is it safe to repeat?** VTEX does not say: neither OpenAPI file documents what a second
        notification of the same payment does (no 409, no "repeatable"), and the call reaches the payment
        gateway. So it is treated like the invoice: a write sent once. It is retried automatically only
        after answers proving VTEX did nothing (429, a request that never left). After any other failure
        (timeout, dropped connection, 5xx) the order is read back until ``readback_timeout`` has passed: if
        it shows the payment approved (a status in :data:`PAID_STATUSES`) the result is
        ``Outcome.CONFIRMED_BY_READ_BACK`` and nothing is re-sent; if the order cannot be read,
        :class:`VtexOutcomeUnknownError` (retryable) is raised and nothing is re-sent. 400, 403 and 404
        (unknown order or payment) fail at once.

        :param check_first: read the order first, and send nothing if it is already past
            ``payment-pending`` (``Outcome.ALREADY_PAID``): a re-run of a task does not notify twice.
        :return: ``Outcome.SENT``, ``Outcome.ALREADY_PAID`` or ``Outcome.CONFIRMED_BY_READ_BACK``.
        """
        checked = check_route_values(order_id=order_id, payment_id=payment_id)
        order_id, payment_id = checked["order_id"], checked["payment_id"]
        route_for(self.data_architecture, "payment_notification")
        budget = self.budget()
        if check_first:
            status = self.read_back(order_id, f"payment {payment_id}", budget).get("status")
            if status in PAID_STATUSES:
                self.log.info(
                    "Order %s is already '%s' (its payment approved): not notifying payment %s.",
                    order_id,
                    status,
                    payment_id,
                )
                return Outcome.ALREADY_PAID
        _, confirmed = self._write_once(
            "payment_notification",
            order_id,
            None,
            applied=lambda: (
                self.read_back(order_id, f"payment notification {payment_id}", budget).get("status")
                in PAID_STATUSES
            ),
            what=f"payment notification of payment {payment_id} on order {order_id}",
            budget=budget,
            path_values={"payment_id": payment_id},
        )
        return Outcome.CONFIRMED_BY_READ_BACK if confirmed else Outcome.SENT

    # ------------------------------------------------------------------ the order feed (Feed v3)
    def get_feed_config(self) -> FeedStatus:
        """The feed's configuration for this AppKey, with the queue's size and age (404 if none)."""
        return FeedStatus.model_validate(self._call("feed_config_get") or {})

    def set_feed_config(self, config: FeedConfig | Mapping[str, Any] | str) -> None:
        """Create or replace the feed's configuration (filter and queue) for this AppKey."""
        self._call("feed_config_set", json_body=FeedConfig.parse(config).to_wire())

    def delete_feed_config(self) -> None:
        """Remove the feed's configuration for this AppKey (its queue stops receiving events).

        Deleting is made idempotent: VTEX answers 404 when there is none (also to a retry whose first
        answer was lost), and that means the configuration is gone, as asked.
        """
        try:
            self._call("feed_config_delete")
        except VtexNotFoundError:
            self.log.info("VTEX holds no feed configuration for this AppKey: nothing to delete.")

    def read_feed_lot(self, max_lot: int = MAX_LOT) -> FeedLot:
        """One feed read of up to ``max_lot`` (1 to 10) items, nothing committed: the items read, and those
        set aside as unreadable (a missing or mistyped field, an oversized value), for the caller to
        report (:meth:`report_unreadable`) and commit or keep. An answer that is not a JSON list raises
        :class:`~airflow_provider_vtex.exceptions.VtexUnexpectedResponseError` (retryable), never "no
        items"."""
        _check_max_lot(max_lot)
        answer = self._call("feed_items", params={"maxlot": max_lot})
        return _feed_read(answer, route_for(self.data_architecture, "feed_items").path())

    def get_feed_items(self, max_lot: int = MAX_LOT, *, keep_unreadable: bool = False) -> list[FeedItem]:
        """Up to ``max_lot`` (1 to 10) feed items, NOT committed: each becomes visible again after the
        queue's visibility timeout unless its handle is committed.

        An item the provider cannot read never stops the lot: it is left out, reported (a warning with its
        event id and handle, the ``vtex.feed.items_unreadable`` metric) and committed at once, so VTEX
        stops handing it out; ``keep_unreadable=True`` leaves it in the feed instead (VTEX hands it out
        again after the visibility timeout, until the queue's retention drops it).
        """
        lot = self.read_feed_lot(max_lot)
        self.report_unreadable(lot.unreadable, keep=keep_unreadable)
        if not keep_unreadable:
            self.commit_feed_items(lot.unreadable_handles)
        return lot.items

    def report_unreadable(self, unreadable: Sequence[UnreadableFeedItem], *, keep: bool) -> None:
        """Warn about each unreadable feed item (its event id and handle, why; never its body) and count
        them in ``vtex.feed.items_unreadable`` (tag ``action``: ``committed``, ``kept`` or
        ``uncommittable``, an item without a handle that can be committed)."""
        for item in unreadable:
            if item.handle is None:
                action, fate = (
                    "uncommittable",
                    "It has no handle that can be committed, so VTEX hands it out again after every "
                    "visibility timeout until the queue's retention drops it.",
                )
            elif keep:
                action, fate = (
                    "kept",
                    "Kept in the feed (keep_unreadable=True): VTEX hands it out again after the visibility "
                    "timeout; commit its handle once it is dealt with.",
                )
            else:
                action, fate = "committed", "Committed, so VTEX stops handing it out."
            self.log.warning("Set aside %s. The rest of its lot goes on. %s", item.describe(), fate)
            metrics.incr("vtex.feed.items_unreadable", action=action)

    def commit_feed_items(self, handles: list[str]) -> None:
        """Commit (remove from the queue) the items with these handles; committing one twice is harmless.

        A handle that is not text, is empty or is longer than VTEX's handles ever are
        (:data:`~airflow_provider_vtex.models.feed.MAX_HANDLE_LENGTH`) is refused before anything is sent.
        """
        handles = _checked_handles(handles)
        if handles:
            self._call("feed_commit", json_body={"handles": handles})
            metrics.incr("vtex.feed.items_committed", len(handles))

    # ------------------------------------------------------------------ test button
    def test_connection(self) -> tuple[bool, str]:
        """A cheap authenticated read (one order of the list) that tells bad credentials from an
        unreachable host, in one attempt."""
        try:
            config = self.config
            if config.data_architecture == "pii":
                self._call("list_orders", json_body={"per_page": 1, "page": 1}, attempts=1)
            else:
                self._call("list_orders", params={"per_page": 1, "page": 1}, attempts=1)
        except VtexError as exc:
            return False, self._explain_failed_test(exc)
        return (
            True,
            f"Connected to VTEX at {config.base_url} ({config.data_architecture} routes): orders are readable.",
        )

    def _explain_failed_test(self, exc: VtexError) -> str:
        cause = root_cause(exc)
        if isinstance(cause, VtexConnectionConfigError):
            return str(cause)
        where = self.config.base_url
        if isinstance(cause, VtexAuthError) and cause.http_status == 401:
            return (
                f"VTEX at {where} rejected the App Key/App Token (401 Unauthorized): check that the App Key "
                "(login) and App Token (password) belong together and that the key is active."
            )
        if isinstance(cause, VtexAuthError):
            return (
                f"VTEX at {where} accepted the credentials but refused access (403 Forbidden): give the App "
                f"Key's role the License Manager resource '{RESOURCE_VIEW_ORDER}' (and "
                f"'{RESOURCE_NOTIFY_INVOICE}' for the notifications)."
            )
        if isinstance(cause, VtexTransportError):
            return f"Could not reach VTEX at {where}: {cause}"
        return f"VTEX at {where} answered unexpectedly: {cause}"

    # ------------------------------------------------------------------ the write-once rule
    def checked_order_id(self, order_id: Any) -> str:
        """The order id, refused before any request if it could steer the URL."""
        return check_route_values(order_id=order_id)["order_id"]

    def checked_route_values(self, order_id: Any, invoice_number: Any) -> tuple[str, str]:
        """Order id and invoice number, both checked before any request (one error naming each bad one)."""
        checked = check_route_values(order_id=order_id, invoice_number=invoice_number)
        return checked["order_id"], checked["invoice_number"]

    def _once(self) -> WriteOnce:
        """The invoice-once engine with this hook's current windows (read at each call: they may be set
        after the hook is built)."""
        return WriteOnce(
            readback_timeout=self.readback_timeout,
            readback_interval=self.readback_interval,
            max_total_wait=self.max_total_wait,
            log=self.log,
            on_read_back_wait=lambda wait: metrics.timing("vtex.read_back_wait", wait),
        )

    def _write_once(
        self,
        operation: Operation,
        order_id: str,
        body: Any,
        *,
        applied: Callable[[], bool],
        what: str,
        budget: Budget,
        path_values: Mapping[str, str] | None = None,
    ) -> tuple[Any, bool]:
        """Send ``operation`` once under the invoice-once rule (:meth:`WriteOnce.write
        <airflow_provider_vtex.client.invoice_once.WriteOnce.write>`). ``path_values`` are the route's values
        other than the order id (a payment id)."""
        values: dict[str, Any] = {"order_id": order_id, **(path_values or {})}
        return self._once().write(
            lambda: self._call(operation, json_body=body, budget=budget, **values),
            applied=applied,
            order_id=order_id,
            what=what,
            budget=budget,
        )


def _feed_read(answer: Any, path: str) -> FeedLot:
    """The lot in ``answer``, its items counted (``vtex.feed.items_read``, the unreadable ones too) and
    their lag reported (``vtex.feed.lag``)."""
    lot = FeedLot.from_answer(answer, path)
    handed_out = len(lot.items) + len(lot.unreadable)
    if handed_out and metrics.enabled():
        metrics.incr("vtex.feed.items_read", handed_out)
        lag = metrics.feed_lag([item.last_change for item in lot.items])
        if lag is not None:
            metrics.gauge("vtex.feed.lag", lag)
    return lot


def _checked_handles(handles: Any) -> list[str]:
    """Feed handles to commit, each once; anything but a handle VTEX could have handed out is refused
    before sending, naming its position (a handle is never quoted: it may be megabytes)."""
    if isinstance(handles, str) or not isinstance(handles, Sequence):
        raise VtexPayloadError(
            "feed commit",
            [("handles", f"must be a list of handles; got {type(handles).__name__}")],
        )
    problems: list[tuple[str, str]] = []
    checked: list[str] = []
    for position, handle in enumerate(handles):
        if handle is None or handle == "":
            continue  # nothing to commit (an item without a handle)
        if not isinstance(handle, str):
            problems.append(
                (
                    f"handles[{position}]",
                    f"must be text, a handle as VTEX handed it out; got {type(handle).__name__}",
                )
            )
        elif len(handle) > MAX_HANDLE_LENGTH:
            problems.append(
                (
                    f"handles[{position}]",
                    f"has {len(handle):,} characters, more than any handle VTEX hands out (at most "
                    f"{MAX_HANDLE_LENGTH:,}): pass the 'handle' of a feed item as read, not another value",
                )
            )
        elif handle not in checked:
            checked.append(handle)
    if problems:
        raise VtexPayloadError("feed commit", problems)
    return checked


def _check_max_lot(max_lot: Any) -> None:
    if isinstance(max_lot, bool) or not isinstance(max_lot, int) or not 1 <= max_lot <= MAX_LOT:
        raise VtexPayloadError(
            "feed read",
            [
                (
                    "max_lot",
                    f"must be a whole number from 1 to {MAX_LOT} (VTEX hands out at most {MAX_LOT} items per "
                    f"read); got {max_lot!r}",
                )
            ],
        )


def the_order(answer: Any, order_id: str, path: str) -> dict[str, Any]:
    """``answer`` if it is order ``order_id`` as GET order returns it; else the retryable error that says
    what came instead (a 200 from a gateway or cache proves nothing about the order)."""
    if isinstance(answer, dict) and answer.get("orderId") == order_id:
        return answer
    if answer is None:
        came = "an empty body"
    elif isinstance(answer, list):
        came = f"a JSON list ({len(answer)} element(s))"
    elif "orderId" not in answer:
        came = "JSON without an orderId"
    else:
        came = f"order {str(answer['orderId'])[:100]!r}"
    raise VtexUnexpectedResponseError(
        f"VTEX answered GET {path} with 200 but {came}, not order {order_id}: a gateway or cache answered "
        "instead of VTEX's OMS, so what the order holds is unknown.",
        http_status=200,
        method="GET",
        path=path,
    )


__all__ = ["VtexConnectionConfig", "VtexHook", "invoice_package"]
