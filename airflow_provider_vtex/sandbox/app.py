"""The sandbox as a Python object: :class:`VtexSandbox` (configuration, state, log, faults, lifecycle)."""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.sandbox.errors import SandboxError
from airflow_provider_vtex.sandbox.faults import Fault, FaultError, FaultSet
from airflow_provider_vtex.sandbox.orders import OrderBook, check_architecture
from airflow_provider_vtex.sandbox.request_log import RequestLog
from airflow_provider_vtex.sandbox.seed import load_seed
from airflow_provider_vtex.sandbox.server import SandboxHTTPServer

if TYPE_CHECKING:
    import ssl
    from collections.abc import Iterable
    from pathlib import Path
    from types import TracebackType

    from airflow_provider_vtex.sandbox.tls import SelfSignedCertificate


class VtexSandbox:
    """A local, stateful VTEX OMS over real HTTP; see the package docstring for the full tour.

    Arguments:

    * ``host``/``port``: where to listen; port 0 picks a free port at ``start()``.
    * ``app_key``/``app_token``: the credentials VTEX routes demand (``X-VTEX-API-AppKey``/``-AppToken``).
    * ``orders``: extra order definitions ``{orderId, items: [{id, name, quantity, price}], status?,
      value?, shippingValue?}``, added after the seed. ``seed_file`` replaces the bundled seed;
      ``seed_default=False`` starts without it.
    * ``permissions``: ``None`` grants every License Manager resource; a set such as
      ``{"View order"}`` makes the other routes answer 403 -- how a test proves the client reports a
      missing role.
    * ``invoice_visibility_delay``: seconds before a new invoice (and the ``invoiced`` status it
      causes) shows in GET order -- OMS is eventually consistent.
    * ``retry_after_seconds``: ``Retry-After`` of 429 faults that do not set their own.
    * ``max_log``: request-log capacity (oldest entries go first).
    * ``tls``: serve HTTPS with a self-signed certificate for ``127.0.0.1``/``localhost``, made at
      ``start()`` (needs the ``cryptography`` package) and deleted at ``stop()``; trust
      :attr:`ca_file`. :meth:`airflow_connection` then sets the ``verify`` extra to it.
    * ``ssl_context``: serve HTTPS with this server-side context instead (your own certificate).
    * ``auto_create_orders``: an invoice for an unknown order creates that order from the invoice's
      items and value instead of answering 404 (for bulk demos and benchmarks).
    * ``data_architecture``: ``"standard"`` (default) serves the OMS routes of VTEX's Orders API
      (``/api/oms/pvt/orders/...``); ``"pii"`` serves the routes of stores on VTEX's PII data
      architecture (``/api/orders/pvt/document/...``, ``POST /api/orders/extendsearch/orders``), with
      their own request contracts and answer shapes. A request to the other set's routes is answered
      with a 404 that names the route to use.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        app_key: str = "sandbox-key",
        app_token: str = "sandbox-token",
        orders: list[dict[str, Any]] | None = None,
        seed_file: str | Path | None = None,
        seed_default: bool = True,
        permissions: Iterable[str] | None = None,
        invoice_visibility_delay: float = 0.0,
        retry_after_seconds: int = 1,
        *,
        max_log: int = 100_000,
        ssl_context: ssl.SSLContext | None = None,
        tls: bool = False,
        auto_create_orders: bool = False,
        data_architecture: str = "standard",
    ) -> None:
        if not app_key or not app_token:
            raise ValueError("app_key and app_token must be non-empty")
        if tls and ssl_context is not None:
            raise ValueError("pass either tls=True (a self-signed certificate) or ssl_context, not both")
        definitions: list[dict[str, Any]] = []
        if seed_file is not None:
            definitions.extend(load_seed(seed_file))
        elif seed_default:
            definitions.extend(load_seed())
        definitions.extend(orders or [])
        self.host = host
        self._requested_port = port
        self.app_key = app_key
        self.app_token = app_token
        self.permissions: set[str] | None = set(permissions) if permissions is not None else None
        self.retry_after_seconds = retry_after_seconds
        self.data_architecture = check_architecture(data_architecture)
        self.state = OrderBook(
            definitions, invoice_visibility_delay, auto_create_orders, self.data_architecture
        )
        self.faults = FaultSet()
        self.log = RequestLog(max_log)
        self._ssl_context = ssl_context
        self.tls = tls or ssl_context is not None
        self._self_signed = tls
        self._certificate: SelfSignedCertificate | None = None
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> VtexSandbox:
        """Bind (port 0 = a free port) and serve from a daemon thread; returns ``self``."""
        if self._server is not None:
            return self
        context = self._ssl_context
        if self._self_signed:
            from airflow_provider_vtex.sandbox.tls import make_self_signed_certificate

            self._certificate = make_self_signed_certificate()
            context = self._certificate.server_context()
        try:
            server = SandboxHTTPServer((self.host, self._requested_port), self, context)
        except BaseException:
            self._remove_certificate()
            raise
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},  # stop() waits at most this long
            name=f"vtex-sandbox:{server.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut open keep-alive connections and release the port."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None
        self._remove_certificate()

    def _remove_certificate(self) -> None:
        if self._certificate is not None:
            self._certificate.remove()
            self._certificate = None

    def __enter__(self) -> VtexSandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sandbox is not started; call start() first")
        return self._server.server_port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (no trailing slash)."""
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def ca_file(self) -> str | None:
        """With ``tls=True``: the path of the PEM certificate to trust (valid until ``stop()``).

        ``None`` when the sandbox serves plain HTTP or uses a caller's ``ssl_context``.
        """
        if not self._self_signed:
            return None
        if self._certificate is None:
            raise RuntimeError("the sandbox is not started; its certificate is made by start()")
        return str(self._certificate.ca_file)

    def airflow_connection(self, conn_type: str = "vtex") -> str:
        """The JSON for ``AIRFLOW_CONN_VTEX_DEFAULT`` pointing an Airflow connection here.

        With ``tls=True`` the ``verify`` extra names :attr:`ca_file`, so the hook trusts the sandbox; a
        PII sandbox adds ``"data_architecture": "pii"`` so the hook calls the PII route set.
        """
        extra: dict[str, Any] = {"base_url": self.url}
        ca_file = self.ca_file
        if ca_file is not None:
            extra["verify"] = ca_file
        if self.data_architecture == "pii":
            extra["data_architecture"] = "pii"
        return json.dumps(
            {
                "conn_type": conn_type,
                "login": self.app_key,
                "password": self.app_token,
                "host": "sandbox",
                "extra": extra,
            }
        )

    # -- state -------------------------------------------------------------------------------------

    def add_order(
        self,
        order_id: str,
        items: list[dict[str, Any]],
        status: str = "ready-for-handling",
        value: int | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Create an order; items are ``{id, name, quantity, price}`` (cents); value defaults to
        the sum of ``price * quantity``. Returns the order as GET order shows it."""
        definition: dict[str, Any] = {"orderId": order_id, "items": items, "status": status, **extra}
        if value is not None:
            definition["value"] = value
        return self.state.add_order(definition)

    def set_status(self, order_id: str, status: str) -> None:
        """Move an order along VTEX's workflow, e.g. ``payment-pending`` to ``ready-for-handling``."""
        self.state.set_status(order_id, status)

    def order(self, order_id: str) -> dict[str, Any]:
        """The order as GET answers it (unmasked on PII), ignoring the visibility delay. KeyError if unknown."""
        try:
            return self.state.get_order(order_id, consistent=True, unmasked=True)
        except SandboxError:
            raise KeyError(order_id) from None

    def invoices(self, order_id: str) -> list[dict[str, Any]]:
        """Invoice packages with ``receipt``, ``receipts`` (history) and ``trackingReceipts``."""
        return self.state.invoices(order_id)

    def summary(self) -> dict[str, Any]:
        """Per order: status, value, invoices with receipts, tracking and delivery."""
        return self.state.summary()

    def reset(self) -> None:
        """Back to the seed orders, empty request log, no faults."""
        self.state.reset()
        self.log.clear()
        self.faults.clear()

    # -- request log -------------------------------------------------------------------------------

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Logged VTEX calls, oldest first (tokens redacted; admin calls are not logged)."""
        return self.log.entries()

    def count(
        self,
        method: str | None = None,
        route: str | None = None,
        order_id: str | None = None,
        status: int | str | None = None,
        invoice_number: str | None = None,
    ) -> int:
        """Number of logged calls matching all given filters, e.g. ``count("POST", order_id=...)``."""
        return self.log.count(method, route, order_id, status, invoice_number)

    def stats(self) -> dict[str, Any]:
        """Load-test figures, so tests ask the sandbox instead of recomputing them from the log:

        * ``requests``, ``busiestSecond`` (``{count, start}``: the most requests in any one-second
          window, sliding over the request log's time stamps) and the same ``routes`` by route name;
        * ``orders``: per order with invoices, the invoices held, receipts issued and ``duplicates``
          (receipts beyond the first of an invoice, i.e. invoices sent more than once), with
          ``resentInvoices`` naming them, and ``hiddenReads``: GET-order reads that did not show an
          invoice yet because of ``invoice_visibility_delay`` (proof that a client read inside the window).

        The log is bounded (``max_log``): on a long run the windows cover its last entries only.
        """
        return {**self.log.busiest_second(), "orders": self.state.invoice_counts()}

    def post_count(self, order_id: str | None = None) -> int:
        """How many invoice POSTs arrived (for one order, or in total) -- faulted ones included."""
        return self.log.count("POST", "invoice", order_id)

    # -- faults ------------------------------------------------------------------------------------

    def add_fault(
        self,
        route: Fault | str,
        kind: str | None = None,
        *,
        count: int | None = None,
        status: int | None = None,
        retry_after: int | None = None,
        rps: float | None = None,
        latency: float | None = None,
        every: int | None = None,
    ) -> Fault:
        """Add a rule: ``add_fault(Fault(...))`` or ``add_fault("invoice", "status", status=503, count=1)``."""
        if isinstance(route, Fault):
            fault = route
        else:
            if kind is None:
                raise FaultError("add_fault(route, kind, ...) needs a kind")
            fault = Fault(route, kind, count, status, retry_after, rps, latency, every)
        return self.faults.add(fault)

    def clear_faults(self) -> None:
        self.faults.clear()

    def __repr__(self) -> str:
        where = self.url if self.running else "not started"
        return f"<VtexSandbox {where}>"
