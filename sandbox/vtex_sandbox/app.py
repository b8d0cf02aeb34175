"""The sandbox as a Python object: :class:`VtexSandbox` (configuration, state, feeds, log, faults,
lifecycle, and the store's day)."""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from vtex_sandbox.accounts import ACCOUNT_PREFIX, RequestBudget
from vtex_sandbox.clock import SandboxClock
from vtex_sandbox.errors import SandboxError
from vtex_sandbox.faults import Fault, FaultError, FaultSet
from vtex_sandbox.feed import FeedHub, parse_feed_config
from vtex_sandbox.modifications import DONE_SECONDS
from vtex_sandbox.order_hook import HookHub
from vtex_sandbox.orders import OrderBook, check_architecture
from vtex_sandbox.request_log import RequestLog
from vtex_sandbox.seed import load_seed
from vtex_sandbox.server import SandboxHTTPServer
from vtex_sandbox.simulation import DEFAULT_ITEMS, DayPlan, Simulation, SimulationRunning
from vtex_sandbox.workflow import DEFAULT_DAY, DEFAULT_PLACEMENT_STATUS

if TYPE_CHECKING:
    import ssl
    from collections.abc import Iterable
    from pathlib import Path
    from types import TracebackType

    from vtex_sandbox.model import OrderChange
    from vtex_sandbox.tls import SelfSignedCertificate


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
    * ``cancellation_window_seconds``: the grace window after an order is placed (sandbox clock) in which a
      cancellation is granted at once; after it, a cancellation is a request the seller may deny
      (:meth:`deny_next_cancellation`). 0 (default): no window, and the seller grants every request it was
      not told to deny.
    * ``change_processing_seconds``: how long (sandbox clock) an order modification takes from the PATCH to
      ``done`` (``waiting-acknowledgement``, then ``waiting-confirmation``); 0: done at the next read.
    * ``list_index_lag_seconds``: a new order shows in the list route (and the PII search) only this long
      after it was placed (sandbox clock), as VTEX's search index lags behind its orders; 0 (default): at once.

    Both architectures serve VTEX's order feed (Feed v3), one configuration and queue per AppKey, fed by
    every change of every order; :meth:`advance_clock` makes its timers pass without waiting. The store's
    day is played with :meth:`place_order`, :meth:`move_order` and :meth:`simulate`, and measured with
    :meth:`timeline` and :meth:`stats`.
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
        cancellation_window_seconds: float = 0.0,
        change_processing_seconds: float = DONE_SECONDS,
        list_index_lag_seconds: float = 0.0,
        max_requests_per_second: float | None = None,
        account: str = "sandbox",
        clock: SandboxClock | None = None,
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
        self.account = account
        self.request_budget = RequestBudget(max_requests_per_second) if max_requests_per_second else None
        #: The other accounts this sandbox serves, by name (see :meth:`add_account`).
        self.accounts: dict[str, VtexSandbox] = {}
        self._parent: VtexSandbox | None = None
        self.clock = clock or SandboxClock()
        self.feeds = FeedHub(self.clock)
        self.hooks = HookHub(self.clock)
        self.state = OrderBook(
            definitions,
            invoice_visibility_delay,
            auto_create_orders,
            self.data_architecture,
            on_change=self._publish_change,
            clock=self.clock,
            cancellation_window=cancellation_window_seconds,
            change_seconds=change_processing_seconds,
            list_index_lag=list_index_lag_seconds,
        )
        self._simulation: Simulation | None = None
        self._simulations = 0
        self._simulation_lock = threading.Lock()
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
        if self._parent is not None:
            self._parent.start()
            return self
        if self._server is not None:
            return self
        context = self._ssl_context
        if self._self_signed:
            from vtex_sandbox.tls import make_self_signed_certificate

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
        """Stop serving (and a running simulation), cut open keep-alive connections and release the port."""
        self._cancel_simulation()
        self.hooks.stop()
        for other in self.accounts.values():
            other._cancel_simulation()
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
        return self._parent.running if self._parent is not None else self._server is not None

    @property
    def port(self) -> int:
        if self._parent is not None:
            return self._parent.port
        if self._server is None:
            raise RuntimeError("the sandbox is not started; call start() first")
        return self._server.server_port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (no trailing slash); an account added with
        :meth:`add_account` has ``{the sandbox's url}/_account/{name}``."""
        if self._parent is not None:
            return f"{self._parent.url}/{ACCOUNT_PREFIX}/{self.account}"
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def ca_file(self) -> str | None:
        """With ``tls=True``: the path of the PEM certificate to trust (valid until ``stop()``).

        ``None`` when the sandbox serves plain HTTP or uses a caller's ``ssl_context``.
        """
        if self._parent is not None:
            return self._parent.ca_file
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
                "host": self.account,
                "extra": extra,
            }
        )

    def add_account(
        self,
        name: str,
        *,
        app_key: str,
        app_token: str,
        data_architecture: str = "standard",
        orders: list[dict[str, Any]] | None = None,
        seed_default: bool = False,
        max_requests_per_second: float | None = None,
        permissions: Iterable[str] | None = None,
        invoice_visibility_delay: float = 0.0,
        auto_create_orders: bool = False,
    ) -> VtexSandbox:
        """Serve another VTEX account from this sandbox's server, at ``{url}/_account/{name}``.

        The account is a sandbox of its own (its keys, data architecture, orders, feeds, faults, request
        log and budget: use the returned object as you would this one) sharing this one's server, clock
        and ``Retry-After``. It starts without the bundled seed unless ``seed_default``. Its keys answer
        only under its own URL: another account's AppKey/AppToken there is a 401, as at VTEX.
        """
        if self._parent is not None:
            return self._parent.add_account(
                name,
                app_key=app_key,
                app_token=app_token,
                data_architecture=data_architecture,
                orders=orders,
                seed_default=seed_default,
                max_requests_per_second=max_requests_per_second,
                permissions=permissions,
                invoice_visibility_delay=invoice_visibility_delay,
                auto_create_orders=auto_create_orders,
            )
        if name in self.accounts or name == self.account or not _is_account_name(name):
            raise ValueError(
                f"account name {name!r} is taken or not a bare name (letters, digits and '-', as in a host)"
            )
        other = VtexSandbox(
            self.host,
            app_key=app_key,
            app_token=app_token,
            orders=orders,
            seed_default=seed_default,
            permissions=permissions,
            invoice_visibility_delay=invoice_visibility_delay,
            retry_after_seconds=self.retry_after_seconds,
            auto_create_orders=auto_create_orders,
            data_architecture=data_architecture,
            max_requests_per_second=max_requests_per_second,
            account=name,
            clock=self.clock,
        )
        other._parent = self
        other.tls = self.tls
        self.accounts[name] = other
        return other

    def for_account(self, name: str | None) -> VtexSandbox | None:
        """The state serving account ``name`` (``None``: this sandbox's own); ``None`` if unknown."""
        return self if name is None else self.accounts.get(name)

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

    def hide_invoices(self, order_id: str, seconds: float) -> None:
        """VTEX shows the order's invoices (and ``invoiced`` status) only ``seconds`` from now: a test's
        control of the visibility window ``invoice_visibility_delay`` opens at each POST. ``KeyError`` if
        the order is unknown."""
        self.state.hide_invoices(order_id, seconds)

    def set_status(self, order_id: str, status: str) -> None:
        """Force an order into ``status`` whatever it was, e.g. back to ``payment-pending`` for a test's set-up
        (no workflow check; :meth:`move_order` plays VTEX's workflow). The feed sees the change."""
        self.state.set_status(order_id, status)

    def place_order(
        self,
        order_id: str,
        items: list[dict[str, Any]] | None = None,
        status: str = DEFAULT_PLACEMENT_STATUS,
        value: int | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """A customer places an order: it starts in ``status`` (a new order waits for its payment) and the
        feed sees it arrive (``lastState`` ``order-created``). Items default to one T-shirt at 24.99."""
        return self.add_order(order_id, items or [dict(i) for i in DEFAULT_ITEMS], status, value, **extra)

    def move_order(self, order_id: str, status: str, reason: str | None = None) -> dict[str, str]:
        """Move an order as VTEX's workflow does: forward (``payment-pending`` -> ``payment-approved`` ->
        ``ready-for-handling`` -> ...), or to ``canceled`` (with ``reason``) until it is invoiced.

        Raises ``KeyError`` (unknown order), ``ValueError`` (unknown status) or
        :class:`~vtex_sandbox.workflow.MoveRefused` (a move the workflow does not make,
        such as any move from ``canceled``).
        """
        return self.state.move(order_id, status, reason)

    def timeline(self, order_id: str | None = None) -> dict[str, Any]:
        """When the order (or every order, by id) reached each status; its start-handling calls (how many,
        accepted, refused, the first of each); ``readyToStartHandlingSeconds``, the wait from its last
        arrival in ``ready-for-handling`` to the first accepted start-handling. ``KeyError`` if unknown."""
        return self.state.timeline(order_id)

    def simulate(
        self,
        orders: int,
        over_seconds: float,
        *,
        step_seconds: float | None = None,
        prefix: str = "SIM",
        items: list[dict[str, Any]] | None = None,
        statuses: list[str] | None = None,
    ) -> Simulation:
        """Play a store's day in the background: ``orders`` orders, each placed and moved through
        ``statuses`` (default ``payment-pending`` -> ``payment-approved`` -> ``ready-for-handling``), spread
        over ``over_seconds`` (see ``simulation``). Returns the running :class:`Simulation`: its
        ``progress()``, ``wait(timeout)``, ``cancel()`` and ``order_ids``. One day at a time: a second
        call while one runs raises ``SimulationRunning`` (a ``RuntimeError``).
        """
        request: dict[str, Any] = {"orders": orders, "over_seconds": over_seconds, "prefix": prefix}
        if step_seconds is not None:
            request["step_seconds"] = step_seconds
        request["items"] = items if items is not None else [dict(i) for i in DEFAULT_ITEMS]
        request["statuses"] = statuses if statuses is not None else list(DEFAULT_DAY)
        return self.start_simulation(DayPlan.parse(request))

    def start_simulation(self, plan: DayPlan) -> Simulation:
        """Start a checked :class:`DayPlan` (what :meth:`simulate` and ``POST /_sandbox/simulate`` do)."""
        with self._simulation_lock:
            if self._simulation is not None and self._simulation.running:
                raise SimulationRunning(
                    f"simulation {self._simulation.number} is still running: wait for it or cancel it "
                    "(DELETE /_sandbox/simulate) before starting another"
                )
            self._simulations += 1
            self._simulation = Simulation(self._simulations, plan, self.state).start()
            return self._simulation

    def _publish_change(self, change: OrderChange) -> None:
        """Every order change goes to the feeds and the order hooks (each keeps those its filter takes)."""
        self.feeds.publish(change)
        self.hooks.publish(change)

    @property
    def simulation(self) -> Simulation | None:
        """The latest simulation (running or over), ``None`` before the first."""
        return self._simulation

    def _cancel_simulation(self) -> None:
        simulation = self._simulation
        if simulation is not None:
            simulation.cancel()

    def configure_feed(self, config: dict[str, Any], app_key: str | None = None) -> None:
        """Set the feed configuration of ``app_key`` (default: the sandbox's key) as
        ``POST /api/orders/feed/config`` would, for a test's set-up; ``ValueError`` with VTEX's 400
        message when ``config`` breaks the contract."""
        try:
            settings = parse_feed_config(config, self.state.sample_document())
        except SandboxError as exc:
            raise ValueError(exc.message) from None
        self.feeds.configure(app_key or self.app_key, settings)

    def advance_clock(self, seconds: float) -> None:
        """Let ``seconds`` pass for the feed's timers at once: visibility timeouts end, events past their
        retention period disappear, ages grow. Time stamps the sandbox prints are not affected."""
        self.clock.advance(seconds)
        self.hooks.tick()
        self.state.settle_all()

    def order(self, order_id: str) -> dict[str, Any]:
        """The order as GET answers it (unmasked on PII), ignoring the visibility delay. KeyError if unknown."""
        try:
            return self.state.get_order(order_id, consistent=True, unmasked=True)
        except SandboxError:
            raise KeyError(order_id) from None

    def interactions(self, order_id: str) -> list[dict[str, str]]:
        """The order's log (``POST .../interactions``) as VTEX's Admin shows it in the order's history --
        VTEX's API has no route that reads it back. ``KeyError`` if the order is unknown."""
        return self.state.interactions(order_id)

    def deny_next_cancellation(self, order_id: str, reason: str = "") -> None:
        """The seller denies the order's next cancellation request (one outside the grace window): the
        cancel route still answers 200, the order stays, ``cancellationRequests`` shows the denial."""
        self.state.deny_next_cancellation(order_id, reason)

    def fail_changes(self, order_id: str) -> None:
        """The order's modifications in progress stop on an error when due (then retry or cancel them)."""
        self.state.fail_changes(order_id)

    def invoices(self, order_id: str) -> list[dict[str, Any]]:
        """Invoice packages with ``receipt``, ``receipts`` (history) and ``trackingReceipts``."""
        return self.state.invoices(order_id)

    def payment_notifications(self, order_id: str) -> list[dict[str, str]]:
        """Every payment notification the order received, repeats included (``KeyError`` if unknown)."""
        return self.state.payment_notifications(order_id)

    def summary(self) -> dict[str, Any]:
        """Per order: status, value, invoices with receipts, tracking and delivery."""
        return self.state.summary()

    def reset(self) -> None:
        """Back to the seed orders, empty request log, no faults, no feed configuration; a running
        simulation is canceled first."""
        self._cancel_simulation()
        self.state.reset()
        self.feeds.clear()
        self.hooks.clear()
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
          invoice yet because of ``invoice_visibility_delay`` (proof that a client read inside the window);
        * ``workflow``: start-handling across the store -- ``startHandling`` (orders called, calls,
          accepted, refused, ``ordersCalledMoreThanOnce``), ``waitingInReadyForHandling`` (order ids) and
          ``readyToStartHandlingSeconds`` (count, min, mean, p50, p95, p99, max of the waits);
        * ``feeds``: per AppKey, the filter, ``quantity``, ``inFlight`` and the queue's counters
          (``enqueued``, ``handedOut``, ``redelivered``, ``committed``, ``commitsWithoutEffect``,
          ``expired``, ``droppedAfterMaxDeliveries``, ``expressionFailures``).

        The log is bounded (``max_log``): on a long run the windows cover its last entries only.
        """
        return {
            **self.log.busiest_second(),
            "budget": self.request_budget.stats() if self.request_budget else None,
            "orders": self.state.invoice_counts(),
            "workflow": self.state.workflow_stats(),
            "feeds": self.feeds.stats(),
        }

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
        body: Any = None,
    ) -> Fault:
        """Add a rule: ``add_fault(Fault(...))`` or ``add_fault("invoice", "status", status=503, count=1)``."""
        if isinstance(route, Fault):
            fault = route
        else:
            if kind is None:
                raise FaultError("add_fault(route, kind, ...) needs a kind")
            fault = Fault(route, kind, count, status, retry_after, rps, latency, every, body)
        return self.faults.add(fault)

    def clear_faults(self) -> None:
        self.faults.clear()

    def __repr__(self) -> str:
        where = self.url if self.running else "not started"
        return f"<VtexSandbox {where}>"


def _is_account_name(name: str) -> bool:
    import re

    return re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?", name) is not None
