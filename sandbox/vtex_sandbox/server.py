"""HTTP front of the sandbox: a real socket, keep-alive, TLS, and the faults that live on the wire.

Why real HTTP and not a mocked ``requests`` adapter: retries, keep-alive reuse after a dropped
connection, timeouts, header casing and URL encoding are exactly where VTEX clients break, and a
mock never exercises them. Why ``http.server``: no dependency, and with Nagle disabled and HTTP/1.1
keep-alive a round trip on loopback stays well under a millisecond.

This module only moves bytes: routing is in ``routes``, VTEX's answers in ``handlers``, the admin API in
``admin``, and the public :class:`~vtex_sandbox.app.VtexSandbox` in ``app``.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from vtex_sandbox.accounts import ACCOUNT_PREFIX, split_account
from vtex_sandbox.admin import answer_admin
from vtex_sandbox.clock import vtex_now
from vtex_sandbox.errors import CODE_INVALID_REQUEST, CODE_ROUTE_NOT_FOUND, error_body
from vtex_sandbox.faults import REPLACING_KINDS, FaultAction
from vtex_sandbox.handlers import (
    Answer,
    Request,
    answer_vtex,
    fault_answer,
)
from vtex_sandbox.request_log import fill_entry
from vtex_sandbox.routes import Route, match

if TYPE_CHECKING:
    from vtex_sandbox.app import VtexSandbox

logger = logging.getLogger(__name__)

_MAX_BODY = 10 * 1024 * 1024


class SandboxHTTPServer(ThreadingHTTPServer):
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
    server: SandboxHTTPServer

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

    # Methods VTEX's routes never take: answered 405 with Allow (not http.server's HTML 501).
    def do_HEAD(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def do_TRACE(self) -> None:
        self._dispatch()

    def __getattr__(self, name: str) -> Any:
        """Any other method (``QUERY``, ``PROPFIND``...) is dispatched too, to be answered 405 with Allow:
        http.server would otherwise answer an HTML 501 that no VTEX route gives."""
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

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

    def _send(self, answer: Answer, *, truncate: bool = False) -> None:
        """Write the answer; ``truncate`` writes half the body under the full Content-Length, then
        closes, so the client reads a broken answer (IncompleteRead)."""
        data = answer.encoded()
        self.send_response(answer.status)
        if answer.content_type is not None:
            self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if truncate:
            self.close_connection = True
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":  # a HEAD answer has headers only
            self.wfile.write(data[: len(data) // 2] if truncate else data)

    # -- dispatch ----------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        started = time.perf_counter()
        raw_path, _, raw_query = self.path.partition("?")
        try:
            raw_body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._send(Answer(400, error_body(CODE_INVALID_REQUEST, "Malformed or oversized request body")))
            return
        # VTEX decodes %2F too (known issue 1302085): decode before splitting, as OMS does.
        segments = [s for s in unquote(raw_path).split("/") if s != ""]
        name, segments = split_account(segments)
        sandbox = self.server.sandbox.for_account(name)
        if sandbox is None:
            message = f"No account {name!r} in this sandbox (add it with VtexSandbox.add_account)"
            self._send(Answer(404, error_body(CODE_ROUTE_NOT_FOUND, message)))
            return
        if name is not None:  # the path as the account's own host would see it
            raw_path = raw_path.split(f"/{ACCOUNT_PREFIX}/{name}", 1)[-1] or "/"
        if segments and segments[0] == "_sandbox":
            self._send(answer_admin(sandbox, self.command, segments[1:], raw_body, raw_query))
            return
        request = Request(self.command, raw_path, segments, raw_query, self.headers, raw_body)
        try:
            self._vtex(sandbox, request, started)
        except ConnectionError:
            raise  # the client went away (e.g. its timeout fired); nothing to answer
        except Exception:
            logger.exception("vtex-sandbox failed on %s %s", self.command, raw_path)
            self.close_connection = True
            self._send(Answer(500, error_body("500", "Internal error in vtex-sandbox (see its log)")))

    def _vtex(self, sandbox: VtexSandbox, request: Request, started: float) -> None:
        matched = match(sandbox.data_architecture, request.method, request.segments)
        route = matched if isinstance(matched, Route) else None
        entry: dict[str, Any] = {
            "time": vtex_now(),
            "timestamp": time.time(),
            "method": request.method,
            "path": request.raw_path,
            "route": route.name if route else None,
            "orderId": route.order_id if route else None,
            "invoiceNumber": route.invoice_number if route else None,
            "fault": None,
        }
        action = FaultAction()
        if route is not None and not _within_budget(sandbox):
            action = FaultAction(kind="rate_limit", status=429, retry_after=sandbox.retry_after_seconds)
        elif route is not None:
            action = sandbox.faults.match(route.name, sandbox.retry_after_seconds)
            if action.latency:
                time.sleep(action.latency)
        if action.kind in REPLACING_KINDS:
            answer = fault_answer(action, request)
        else:
            answer = answer_vtex(sandbox, request, matched)
            if action.kind == "error_after_commit" and action.status is not None:
                message = "Internal Server Error (after the change was applied)"
                answer = Answer(
                    action.status, error_body(str(action.status), message), parsed_body=answer.parsed_body
                )
        entry["fault"] = action.kind
        fill_entry(
            entry,
            headers=self.headers.items(),
            raw_query=request.raw_query,
            raw_body=request.body,
            body=answer.parsed_body,
            secrets=[sandbox.app_token, self.headers.get("X-VTEX-API-AppToken") or ""],
            duration_ms=(time.perf_counter() - started) * 1000,
        )
        if route is not None and route.name == "invoice" and isinstance(entry["body"], dict):
            number = entry["body"].get("invoiceNumber")
            entry["invoiceNumber"] = number if isinstance(number, str) else None
        if action.kind == "drop_after_commit":
            entry["status"] = "dropped"
            sandbox.log.append(entry)
            # The write above is committed; the client never learns it. Closing without a byte
            # written makes the client see a dropped connection (RemoteDisconnected).
            self.close_connection = True
            return
        entry["status"] = answer.status
        sandbox.log.append(entry)
        self._send(answer, truncate=action.kind in ("truncated", "truncated_after_commit"))


def _within_budget(sandbox: VtexSandbox) -> bool:
    """Whether the account's request budget takes one more request now (always, without a budget)."""
    budget = sandbox.request_budget
    return budget is None or budget.admit(time.monotonic())
