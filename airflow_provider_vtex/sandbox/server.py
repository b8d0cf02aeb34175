"""HTTP front of the sandbox: a real socket, VTEX's routes, auth, faults, and the admin API.

Why real HTTP and not a mocked ``requests`` adapter: retries, keep-alive reuse after a dropped
connection, timeouts, header casing and URL encoding are exactly where VTEX clients break, and a
mock never exercises them. Why ``http.server``: no dependency, and with Nagle disabled and HTTP/1.1
keep-alive a round trip on loopback stays well under a millisecond.
"""

from __future__ import annotations

import hmac
import json
import logging
import socket
import socketserver
import ssl
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from airflow_provider_vtex.sandbox.faults import Fault, FaultAction, FaultError, FaultSet
from airflow_provider_vtex.sandbox.state import (
    CODE_FORBIDDEN,
    CODE_INVALID_REQUEST,
    CODE_ROUTE_NOT_FOUND,
    CODE_UNAUTHORIZED,
    CODE_UNSUPPORTED_MEDIA,
    REFUND_RESOURCES,
    ROUTE_RESOURCES,
    RequestLog,
    SandboxError,
    SandboxState,
    error_body,
    load_seed,
    vtex_now,
)

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path
    from types import TracebackType

    from airflow_provider_vtex.sandbox.tls import SelfSignedCertificate

logger = logging.getLogger(__name__)

REDACTED = "***REDACTED***"
#: Headers whose values are credentials and never reach the request log.
_SECRET_HEADERS = frozenset({"x-vtex-api-apptoken", "vtexidclientautcookie", "authorization", "cookie"})
_JSON = "application/json; charset=utf-8"
_MAX_BODY = 10 * 1024 * 1024
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
_ORDERS_PREFIX = ["api", "oms", "pvt", "orders"]


class _Route:
    """A matched VTEX operation and its decoded path parameters."""

    __slots__ = ("invoice_number", "name", "order_id")

    def __init__(self, name: str, order_id: str | None = None, invoice_number: str | None = None) -> None:
        self.name = name
        self.order_id = order_id
        self.invoice_number = invoice_number


def _match_vtex(method: str, segments: list[str]) -> _Route | str | None:
    """Match a decoded path; returns the route, ``None`` (unknown path) or ``"405"`` (wrong method)."""
    if segments[:4] != _ORDERS_PREFIX:
        return None
    rest = segments[4:]
    expected: str | None = None
    route: _Route | None = None
    if not rest:
        expected, route = "GET", _Route("list_orders")
    elif len(rest) == 1:
        expected, route = "GET", _Route("get_order", rest[0])
    elif len(rest) == 2 and rest[1] == "invoice":
        expected, route = "POST", _Route("invoice", rest[0])
    elif len(rest) == 3 and rest[1] == "invoice":
        expected, route = "PATCH", _Route("tracking_number", rest[0], rest[2])
    elif len(rest) == 4 and rest[1] == "invoice" and rest[3] == "tracking":
        expected, route = "PUT", _Route("tracking_status", rest[0], rest[2])
    if route is None:
        return None
    return route if method == expected else "405"


def _scrub(value: Any, hidden: Iterable[str]) -> Any:
    """Replace every occurrence of a secret inside a JSON value (the client may leak it anywhere)."""
    if isinstance(value, str):
        for secret in hidden:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, list):
        return [_scrub(v, hidden) for v in value]
    if isinstance(value, dict):
        return {_scrub(k, hidden): _scrub(v, hidden) for k, v in value.items()}
    return value


class _Server(ThreadingHTTPServer):
    """Threaded server that remembers its open connections so that ``stop()`` really stops.

    Keep-alive connections would otherwise keep their handler threads (and the client's pooled
    sockets) alive after the listening socket is closed.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], sandbox: VtexSandbox, ssl_context: ssl.SSLContext | None
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.sandbox = sandbox
        self._ssl_context = ssl_context
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup that can take seconds on
        # a machine without DNS. The sandbox never needs the FQDN.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        if self._ssl_context is not None:
            # The handshake happens on the handler thread's first read, not here on the accept loop.
            conn = self._ssl_context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        return conn, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet about clients that hang up (timeouts, dropped connections); loud about bugs."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        if isinstance(exc, ssl.SSLError):
            # A failed handshake is the client's business (e.g. it does not trust the certificate).
            logger.debug("vtex-sandbox: TLS handshake with %s failed: %s", client_address, exc)
            return
        logger.error("vtex-sandbox: error while serving %s", client_address, exc_info=True)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                logger.debug("connection already closed", exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    """One instance per connection; handles every request of a keep-alive connection in turn."""

    protocol_version = "HTTP/1.1"
    # Without this, Nagle's algorithm meets delayed ACKs and every response takes ~40 ms.
    disable_nagle_algorithm = True
    # Buffer the response so that headers and body leave in one send(); flushed after each request.
    wbufsize = -1
    server_version = "vtex-sandbox/0.1"
    sys_version = ""
    server: _Server

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the request log is the record, and test output should stay clean."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    # -- plumbing ----------------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        """Read the body (Content-Length or chunked) so keep-alive framing stays right."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            size = 0
            while True:
                line = self.rfile.readline(65537)
                length = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if length == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                size += length
                if size > _MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(length))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > _MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    def _send(
        self,
        status: int,
        payload: Any,
        *,
        content_type: str = _JSON,
        headers: dict[str, str] | None = None,
    ) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    # -- dispatch ----------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        started = time.perf_counter()
        raw_path, _, raw_query = self.path.partition("?")
        try:
            raw_body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._send(400, error_body(CODE_INVALID_REQUEST, "Malformed or oversized request body"))
            return
        # VTEX decodes %2F too (known issue 1302085): decode before splitting, as OMS does.
        segments = [s for s in unquote(raw_path).split("/") if s != ""]
        if segments and segments[0] == "_sandbox":
            self._admin(self.command, segments[1:], raw_query, raw_body)
            return
        try:
            self._vtex(raw_path, segments, raw_query, raw_body, started)
        except ConnectionError:
            raise  # the client went away (e.g. its timeout fired); nothing to answer
        except Exception:
            logger.exception("vtex-sandbox failed on %s %s", self.command, raw_path)
            self.close_connection = True
            self._send(500, error_body("500", "Internal error in vtex-sandbox (see its log)"))

    def _vtex(
        self, raw_path: str, segments: list[str], raw_query: str, raw_body: bytes, started: float
    ) -> None:
        sandbox = self.server.sandbox
        method = self.command
        matched = _match_vtex(method, segments)
        route = matched if isinstance(matched, _Route) else None
        entry: dict[str, Any] = {
            "time": vtex_now(),
            "method": method,
            "path": raw_path,
            "route": route.name if route else None,
            "orderId": route.order_id if route else None,
            "invoiceNumber": route.invoice_number if route else None,
            "fault": None,
        }
        status: int | str
        action = FaultAction()
        if route is not None:
            action = sandbox.faults.match(route.name, sandbox.retry_after_seconds)
            if action.latency:
                time.sleep(action.latency)
        body: Any = None
        headers: dict[str, str] = {}
        content_type = _JSON
        if action.kind in ("rate_limit", "status", "html"):
            entry["fault"] = action.kind
            status, payload, content_type, headers = self._fault_response(action)
        else:
            status, payload, body = self._answer(route, matched, raw_query, raw_body)
            if action.kind == "error_after_commit" and action.status is not None:
                entry["fault"] = action.kind
                status = action.status
                payload = error_body(str(status), "Internal Server Error (after the change was applied)")
        self._log(entry, raw_query, raw_body, body, started)
        if route is not None and route.name == "invoice" and isinstance(entry["body"], dict):
            number = entry["body"].get("invoiceNumber")
            entry["invoiceNumber"] = number if isinstance(number, str) else None
        if action.kind == "drop_after_commit":
            entry["fault"] = action.kind
            entry["status"] = "dropped"
            sandbox.log.append(entry)
            # The write above is committed; the client never learns it. Closing without a byte
            # written makes the client see a dropped connection (RemoteDisconnected).
            self.close_connection = True
            return
        entry["status"] = status
        sandbox.log.append(entry)
        self._send(int(status), payload, content_type=content_type, headers=headers)

    def _answer(
        self, route: _Route | None, matched: _Route | str | None, raw_query: str, raw_body: bytes
    ) -> tuple[int, Any, Any]:
        """Auth, media type, permission, then the operation. Returns (status, payload, parsed body)."""
        sandbox = self.server.sandbox
        if route is None:
            if matched == "405":
                return 405, error_body("405", f"Method {self.command} not allowed on this route"), None
            return 404, error_body(CODE_ROUTE_NOT_FOUND, f"No such route: {self.command} {self.path}"), None
        key = self.headers.get("X-VTEX-API-AppKey") or ""
        token = self.headers.get("X-VTEX-API-AppToken") or ""
        # compare_digest: constant time, so the fake does not teach timing leaks.
        if not (
            hmac.compare_digest(key.encode(), sandbox.app_key.encode())
            and hmac.compare_digest(token.encode(), sandbox.app_token.encode())
        ):
            return 401, error_body(CODE_UNAUTHORIZED, "Unauthorized access"), None
        body: Any = None
        if self.command in _WRITE_METHODS:
            if not raw_body.strip():
                return (
                    400,
                    error_body(CODE_INVALID_REQUEST, "The request body is empty: send a JSON object"),
                    None,
                )
            if self.headers.get_content_type() != "application/json":
                return (
                    415,
                    error_body(CODE_UNSUPPORTED_MEDIA, "Content-Type must be application/json"),
                    raw_body.decode("utf-8", "replace") or None,
                )
            try:
                body = json.loads(raw_body)
            except (ValueError, UnicodeDecodeError):
                return (
                    400,
                    error_body(CODE_INVALID_REQUEST, "The request body is not valid JSON"),
                    raw_body.decode("utf-8", "replace"),
                )
        resources = ROUTE_RESOURCES[route.name]
        if route.name == "invoice" and isinstance(body, dict) and body.get("type") == "Input":
            resources = REFUND_RESOURCES
        granted = sandbox.permissions
        if granted is not None and not any(r in granted for r in resources):
            message = f"Forbidden: the credentials lack the License Manager resource '{resources[0]}'"
            return 403, error_body(CODE_FORBIDDEN, message), body
        state = sandbox.state
        try:
            if route.name == "list_orders":
                return 200, state.list_orders(parse_qs(raw_query)), body
            assert route.order_id is not None
            if route.name == "get_order":
                return 200, state.get_order(route.order_id), body
            if route.name == "invoice":
                return 200, state.invoice(route.order_id, body), body
            assert route.invoice_number is not None
            if route.name == "tracking_number":
                return 200, state.tracking_number(route.order_id, route.invoice_number, body), body
            return 200, state.tracking_status(route.order_id, route.invoice_number, body), body
        except SandboxError as exc:
            return exc.status, exc.body(), body

    @staticmethod
    def _fault_response(action: FaultAction) -> tuple[int, Any, str, dict[str, str]]:
        status = action.status or 500
        if action.kind == "rate_limit":
            body = error_body("429", "Too Many Requests: the request limit for this route was exceeded")
            return 429, body, _JSON, {"Retry-After": str(action.retry_after or 0)}
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        if action.kind == "html":
            page = (
                f"<!DOCTYPE html><html><head><title>{status} {phrase}</title></head>"
                f"<body><h1>{status} {phrase}</h1><p>vtex-sandbox: injected HTML error page</p>"
                "</body></html>"
            )
            return status, page.encode(), "text/html; charset=utf-8", {}
        return status, error_body(str(status), f"{phrase} (vtex-sandbox injected fault)"), _JSON, {}

    def _log(self, entry: dict[str, Any], raw_query: str, raw: bytes, body: Any, started: float) -> None:
        """Fill the log entry; every credential is redacted here, before it is stored."""
        sandbox = self.server.sandbox
        hidden = [sandbox.app_token]
        sent_token = self.headers.get("X-VTEX-API-AppToken")
        if sent_token and sent_token != sandbox.app_token:
            hidden.append(sent_token)
        hidden = [h for h in hidden if h]
        headers = {
            name: (REDACTED if name.lower() in _SECRET_HEADERS else value)
            for name, value in self.headers.items()
        }
        query = {
            k: v[0] if len(v) == 1 else v for k, v in parse_qs(raw_query, keep_blank_values=True).items()
        }
        if body is None and raw:
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                body = raw.decode("utf-8", "replace")
        entry["query"] = query
        entry["headers"] = headers
        entry["body"] = body
        entry["durationMs"] = round((time.perf_counter() - started) * 1000, 3)
        text = entry["path"] + raw_query + raw.decode("utf-8", "replace")
        if any(h in text for h in hidden):
            for key in ("path", "query", "body"):
                entry[key] = _scrub(entry[key], hidden)

    # -- admin API ---------------------------------------------------------------------------------

    def _admin(self, method: str, segments: list[str], raw_query: str, raw_body: bytes) -> None:
        """``/_sandbox/...``: inspect and steer the sandbox; unauthenticated (it is a local fake)."""
        sandbox = self.server.sandbox
        target = "/".join(segments)
        try:
            body: Any = json.loads(raw_body) if raw_body.strip() else None
        except (ValueError, UnicodeDecodeError):
            self._send(400, error_body("SANDBOX", "Admin request body is not valid JSON"))
            return
        try:
            if (method, target) == ("GET", "health"):
                self._send(200, {"status": "ok", "orders": len(sandbox.state.order_ids())})
            elif (method, target) == ("GET", "requests"):
                self._send(200, {"requests": sandbox.requests})
            elif (method, target) == ("DELETE", "requests"):
                sandbox.log.clear()
                self._send(200, {"status": "cleared"})
            elif (method, target) == ("POST", "reset"):
                sandbox.reset()
                self._send(200, {"status": "reset"})
            elif (method, target) == ("GET", "orders"):
                self._send(200, sandbox.summary())
            elif (method, target) == ("POST", "orders"):
                if not isinstance(body, dict):
                    raise ValueError("body must be an order object: {orderId, items, status?, value?}")
                self._send(201, sandbox.state.add_order(body))
            elif method == "GET" and len(segments) == 2 and segments[0] == "orders":
                try:
                    self._send(
                        200, {"order": sandbox.order(segments[1]), "invoices": sandbox.invoices(segments[1])}
                    )
                except KeyError:
                    self._send(404, error_body("OMS007", "Order Not Found"))
            elif (method, target) == ("GET", "faults"):
                self._send(200, {"faults": sandbox.faults.list()})
            elif (method, target) == ("POST", "faults"):
                self._send(201, sandbox.add_fault(Fault.from_dict(body)).to_dict())
            elif (method, target) == ("DELETE", "faults"):
                sandbox.clear_faults()
                self._send(200, {"status": "cleared"})
            else:
                self._send(404, error_body("SANDBOX", f"No such admin route: {method} /_sandbox/{target}"))
        except (ValueError, TypeError, FaultError) as exc:
            self._send(400, error_body("SANDBOX", str(exc)))


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
        self.state = SandboxState(definitions, invoice_visibility_delay, auto_create_orders)
        self.faults = FaultSet()
        self.log = RequestLog(max_log)
        self._ssl_context = ssl_context
        self.tls = tls or ssl_context is not None
        self._self_signed = tls
        self._certificate: SelfSignedCertificate | None = None
        self._server: _Server | None = None
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
            server = _Server((self.host, self._requested_port), self, context)
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

        With ``tls=True`` the ``verify`` extra names :attr:`ca_file`, so the hook trusts the sandbox.
        """
        extra: dict[str, Any] = {"base_url": self.url}
        ca_file = self.ca_file
        if ca_file is not None:
            extra["verify"] = ca_file
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
        """The order as GET answers it, ignoring the visibility delay. KeyError if unknown."""
        try:
            return self.state.get_order(order_id, consistent=True)
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
    ) -> Fault:
        """Add a rule: ``add_fault(Fault(...))`` or ``add_fault("invoice", "status", status=503, count=1)``."""
        if isinstance(route, Fault):
            fault = route
        else:
            if kind is None:
                raise FaultError("add_fault(route, kind, ...) needs a kind")
            fault = Fault(route, kind, count, status, retry_after, rps, latency)
        return self.faults.add(fault)

    def clear_faults(self) -> None:
        self.faults.clear()

    def __repr__(self) -> str:
        where = self.url if self.running else "not started"
        return f"<VtexSandbox {where}>"
