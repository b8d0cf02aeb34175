"""VtexHook: the ``vtex`` Airflow connection and every HTTP call to VTEX's OMS API.

Why a hook of our own rather than HttpHook: one pooled ``requests.Session`` per hook (HttpHook builds a
session per call), an explicit timeout on every request, JSON bodies, VTEX's error body and License
Manager resources in every error, and a retry policy that knows which VTEX calls are safe to repeat.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests
import tenacity
from requests.adapters import HTTPAdapter

from airflow_provider_vtex.compat import BaseHook, mask_secret
from airflow_provider_vtex.exceptions import (
    VtexApiError,
    VtexAuthError,
    VtexBadRequestError,
    VtexConnectionConfigError,
    VtexError,
    VtexNotFoundError,
    VtexOutcomeUnknownError,
    VtexRateLimitedError,
    VtexRetriesExhaustedError,
    VtexServerError,
    VtexTransportError,
    VtexUnexpectedResponseError,
    error_fields,
    excerpt,
)
from airflow_provider_vtex.get_provider_info import (
    CONN_FIELDS,
    CONN_TYPE,
    DEFAULT_CONN_ID,
    DEFAULT_ENVIRONMENT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    HOOK_NAME,
    UI_FIELD_BEHAVIOUR,
    __version__,
)
from airflow_provider_vtex.hooks.rate_limit import RequestRateLimiter
from airflow_provider_vtex.models import Invoice, Tracking, TrackingStatus

if TYPE_CHECKING:
    from collections.abc import Mapping

ORDERS_PATH = "/api/oms/pvt/orders"

#: License Manager resources (product OMS, category "OMS access") each call needs.
RESOURCE_NOTIFY_INVOICE = "Notify invoice"
RESOURCE_VIEW_ORDER = "View order"

#: Statuses that mean VTEX did not process the request at all: safe to send again, even an invoice.
_NOT_PROCESSED_STATUSES = frozenset({429, 503})
#: Statuses after which a request may or may not have been applied: only idempotent calls repeat them.
_MAYBE_PROCESSED_STATUSES = frozenset({500, 502, 504})


@dataclass(frozen=True)
class VtexConnectionConfig:
    """The settings of one ``vtex`` connection, checked once when the hook first needs them."""

    conn_id: str
    app_key: str
    app_token: str = field(repr=False)
    account: str | None
    environment: str
    base_url: str
    timeout: float
    max_retries: int
    verify: bool | str

    @classmethod
    def from_connection(cls, conn: Any, conn_id: str) -> VtexConnectionConfig:
        """Read login/password/host and the extras, with errors that name the connection and field."""
        extras = _Extras(conn.extra_dejson or {}, conn_id)
        app_key = (conn.login or "").strip()
        app_token = (conn.password or "").strip()
        account = (conn.host or "").strip() or None
        base_url = extras.text("base_url")
        environment = extras.text("environment") or DEFAULT_ENVIRONMENT
        missing = []
        if not app_key:
            missing.append("App Key (the connection's login)")
        if not app_token:
            missing.append("App Token (the connection's password)")
        if account is None and base_url is None:
            missing.append("Account name (the connection's host, e.g. 'mystore')")
        if missing:
            raise VtexConnectionConfigError(
                f"Connection '{conn_id}' has no {' and no '.join(missing)}. Set it in Admin > Connections, "
                f"or in AIRFLOW_CONN_{conn_id.upper()}."
            )
        if base_url is None:
            assert account is not None
            if "/" in account or "." in account:
                raise VtexConnectionConfigError(
                    f"Connection '{conn_id}': the host must be the bare VTEX account name such as 'mystore', "
                    f"got {account!r}. To call a full URL instead, put it in the 'base_url' extra."
                )
            base_url = f"https://{account}.{environment}.com.br"
        elif not base_url.startswith(("http://", "https://")):
            raise VtexConnectionConfigError(
                f"Connection '{conn_id}': extra 'base_url' must start with http:// or https://, got {base_url!r}."
            )
        return cls(
            conn_id=conn_id,
            app_key=app_key,
            app_token=app_token,
            account=account,
            environment=environment,
            base_url=base_url.rstrip("/"),
            timeout=extras.number("timeout", DEFAULT_TIMEOUT),
            max_retries=int(extras.number("max_retries", DEFAULT_MAX_RETRIES, integer=True)),
            verify=extras.verify(),
        )


class _Extras:
    """Typed access to connection extras, whichever way the UI or an env var spelled them."""

    def __init__(self, raw: Mapping[str, Any], conn_id: str) -> None:
        self.raw = raw
        self.conn_id = conn_id

    def get(self, name: str) -> Any:
        for key in (name, f"extra__{CONN_TYPE}__{name}"):
            value = self.raw.get(key)
            if value is not None and value != "":
                return value
        return None

    def text(self, name: str) -> str | None:
        value = self.get(name)
        return None if value is None else str(value).strip() or None

    def number(self, name: str, default: float, *, integer: bool = False) -> float:
        value = self.get(name)
        if value is None:
            return default
        try:
            number = float(value) if not isinstance(value, bool) else -1.0
        except (TypeError, ValueError):
            number = -1.0
        if number < 0 or (integer and number != int(number)):
            kind = "a whole number" if integer else "a number of seconds"
            raise VtexConnectionConfigError(
                f"Connection '{self.conn_id}': extra '{name}' must be {kind} ≥ 0, got {value!r}."
            )
        return number

    def verify(self) -> bool | str:
        """``verify``: true/false, or the path of a CA bundle to trust (e.g. the sandbox's certificate)."""
        value = self.get("verify")
        if value is None:
            return True
        if isinstance(value, bool):
            return value
        text = str(value).strip()
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        return text


class VtexHook(BaseHook):
    """Talks to VTEX's OMS API for one ``vtex`` connection, over one pooled HTTP session.

    :param vtex_conn_id: the Airflow connection: login = AppKey, password = AppToken, host = account name;
        extras ``environment``, ``base_url``, ``timeout``, ``max_retries``, ``verify``.
    :param timeout: seconds per request; overrides the connection's ``timeout``.
    :param max_retries: retries after a retryable failure; overrides the connection's ``max_retries``.
    :param backoff_initial: first exponential backoff step in seconds (doubles each retry, with jitter).
    :param backoff_max: cap on any single wait, including a ``Retry-After`` VTEX asks for.
    :param max_total_wait: no retry is started once this many seconds have passed since the first attempt.
    :param pool_maxsize: connections kept open to VTEX (raise it for concurrent use of one hook).
    :param readback_timeout: after an invoice POST with an unknown outcome, how long to keep reading the
        order back (OMS shows a new invoice seconds after its 200) before concluding VTEX does not hold it.
    :param readback_interval: seconds between two read-backs.
    :param max_requests_per_second: cap on request starts per second across all threads using this hook
        (``None``: no cap). Whatever the cap, a 429 pauses every thread for the wait VTEX asked for.
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
        self.rate_limiter = RequestRateLimiter(max_requests_per_second)
        self._retryings: dict[tuple[bool, int], tenacity.Retrying] = {}

    # ------------------------------------------------------------------ connection form (Airflow < 3.2)
    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Relabels and hides standard fields; Airflow 3.2+ reads the same data from provider info."""
        return {
            key: dict(value) if isinstance(value, dict) else list(value)
            for key, value in UI_FIELD_BEHAVIOUR.items()
        }

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The extra fields as WTForms widgets, for Airflow versions that do not read ``conn-fields``."""
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import IntegerField, StringField
        from wtforms.validators import NumberRange, Optional

        widgets: dict[str, Any] = {}
        for name, spec in CONN_FIELDS.items():
            types = spec["schema"]["type"]
            label = lazy_gettext(spec["label"])
            if "integer" in types:
                widgets[name] = IntegerField(
                    label,
                    validators=[Optional(), NumberRange(min=0)],
                    widget=BS3TextFieldWidget(),
                    description=spec["description"],
                )
            else:
                widgets[name] = StringField(
                    label, widget=BS3TextFieldWidget(), description=spec["description"]
                )
        return widgets

    # ------------------------------------------------------------------ connection and session
    @cached_property
    def config(self) -> VtexConnectionConfig:
        """The connection's settings; the AppToken is registered with the secrets masker on first read."""
        conn = self.get_connection(self.vtex_conn_id)
        config = VtexConnectionConfig.from_connection(conn, self.vtex_conn_id)
        mask_secret(config.app_token)
        return config

    @property
    def timeout(self) -> float:
        return self.timeout_override if self.timeout_override is not None else self.config.timeout

    @property
    def max_retries(self) -> int:
        return self.max_retries_override if self.max_retries_override is not None else self.config.max_retries

    @cached_property
    def session(self) -> requests.Session:
        """One keep-alive session for every call of this hook, so repeated calls reuse TCP/TLS connections."""
        config = self.config
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=self.pool_maxsize, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.verify = config.verify
        session.headers.update(
            {
                "X-VTEX-API-AppKey": config.app_key,
                "X-VTEX-API-AppToken": config.app_token,
                "Accept": "application/json",
                "Content-Type": "application/json",
                "User-Agent": f"airflow-provider-vtex/{__version__}",
            }
        )
        return session

    def get_conn(self) -> requests.Session:
        """Airflow's conventional accessor: the pooled session (built on first use)."""
        return self.session

    def close(self) -> None:
        """Close pooled connections; the hook builds a new session if used again."""
        if "session" in self.__dict__:
            self.__dict__.pop("session").close()

    # ------------------------------------------------------------------ OMS calls
    def notify_invoice(self, order_id: str, invoice: Invoice | Mapping[str, Any] | str) -> dict[str, Any]:
        """POST the invoice notification; returns VTEX's ``{date, orderId, receipt}``.

        The payload is validated first (:class:`VtexPayloadError`, nothing sent). When the outcome of
        the POST is unknown (read timeout, connection dropped after sending, 500/502/504), the POST is
        not repeated blindly: the order is read back, for up to ``readback_timeout`` seconds since OMS
        is eventually consistent, and if VTEX holds the invoice the call succeeds with
        ``{"orderId", "invoiceNumber", "receipt": None, "date": None, "readBack": True}``. Only an
        invoice VTEX does not hold is sent again (at most ``max_retries`` more times). If the order
        cannot be read back, :class:`VtexOutcomeUnknownError` is raised and nothing is re-sent.
        """
        model = Invoice.parse(invoice)
        body = model.to_wire()
        number = model.invoice_number
        sends_left = self.max_retries + 1
        while True:
            sends_left -= 1
            try:
                return self._call(
                    "POST",
                    [order_id, "invoice"],
                    body=body,
                    resource=RESOURCE_NOTIFY_INVOICE,
                    idempotent=False,
                )
            except (VtexTransportError, VtexServerError, VtexRetriesExhaustedError) as exc:
                if not _maybe_applied(exc):
                    raise
                self.log.warning(
                    "The outcome of invoice %s for order %s is unknown (%s); reading the order back before "
                    "deciding whether to send it again.",
                    number,
                    order_id,
                    _short(exc),
                )
                package = self._read_back(order_id, number, cause=exc)
                if package is not None:
                    self.log.info(
                        "VTEX holds invoice %s on order %s: not sending it again.", number, order_id
                    )
                    return {
                        "orderId": str(order_id),
                        "invoiceNumber": number,
                        "receipt": None,
                        "date": None,
                        "readBack": True,
                    }
                if sends_left <= 0:
                    raise VtexRetriesExhaustedError(
                        f"Invoice {number!r} for order {order_id!r} did not reach VTEX: every send failed and "
                        f"the order does not show it after {self.readback_timeout:g} s of read-backs. VTEX last "
                        f"answered: {exc}",
                        attempts=self.max_retries + 1,
                        last_error=exc,
                    ) from exc
                self.log.info(
                    "VTEX does not hold invoice %s on order %s after %.0f s of read-backs; sending it again.",
                    number,
                    order_id,
                    self.readback_timeout,
                )

    def find_invoice(self, order_id: str, invoice_number: str) -> dict[str, Any] | None:
        """The package of ``invoice_number`` on the order, as VTEX holds it now, or None."""
        return invoice_package(self.get_order(order_id), invoice_number)

    def wait_for_invoice(
        self, order_id: str, invoice_number: str, *, timeout: float, interval: float | None = None
    ) -> dict[str, Any] | None:
        """Poll the order until it shows the invoice or ``timeout`` seconds pass; the package or None."""
        interval = self.readback_interval if interval is None else interval
        deadline = time.monotonic() + timeout
        while True:
            package = self.find_invoice(order_id, invoice_number)
            remaining = deadline - time.monotonic()
            if package is not None or remaining <= 0:
                return package
            wait = min(interval, remaining)
            self.log.info(
                "Invoice %s is not visible on order %s yet; checking again in %.1f s (%.0f s left).",
                invoice_number,
                order_id,
                wait,
                remaining,
            )
            time.sleep(wait)

    def _read_back(self, order_id: str, invoice_number: str, *, cause: VtexError) -> dict[str, Any] | None:
        try:
            return self.wait_for_invoice(order_id, invoice_number, timeout=self.readback_timeout)
        except VtexError as exc:
            raise VtexOutcomeUnknownError(
                f"Invoice {invoice_number!r} for order {order_id!r} may or may not have reached VTEX ({cause}), "
                f"and reading the order back failed too ({exc}). It was not sent again, to avoid a duplicate "
                "invoice; a retry of the task reads the order back first.",
                order_id=str(order_id),
                invoice_number=invoice_number,
            ) from exc

    def notify_tracking(
        self, order_id: str, invoice_number: str, tracking: Tracking | Mapping[str, Any] | str
    ) -> dict[str, Any]:
        """PATCH the tracking number, URL, courier and dispatch date onto an invoice already sent."""
        model = Tracking.parse(tracking)
        return self._call(
            "PATCH",
            [order_id, "invoice", invoice_number],
            body=model.to_wire(),
            resource=RESOURCE_NOTIFY_INVOICE,
            idempotent=True,
        )

    def update_tracking_status(
        self, order_id: str, invoice_number: str, status: TrackingStatus | Mapping[str, Any] | str
    ) -> dict[str, Any]:
        """PUT tracking events and delivery; VTEX needs the tracking number on the invoice first."""
        model = TrackingStatus.parse(status)
        return self._call(
            "PUT",
            [order_id, "invoice", invoice_number, "tracking"],
            body=model.to_wire(),
            resource=RESOURCE_NOTIFY_INVOICE,
            idempotent=True,
        )

    def get_order(self, order_id: str) -> dict[str, Any]:
        """GET the order, including ``packageAttachment.packages`` (the invoices VTEX holds)."""
        return self._call("GET", [order_id], resource=RESOURCE_VIEW_ORDER, idempotent=True)

    def test_connection(self) -> tuple[bool, str]:
        """A cheap authenticated read (list one order) that tells bad credentials from an unreachable host."""
        try:
            config = self.config
            self._call(
                "GET",
                [],
                params={"per_page": 1, "page": 1},
                resource=RESOURCE_VIEW_ORDER,
                idempotent=True,
                attempts=1,
            )
        except VtexError as exc:
            return False, self._explain_failed_test(exc)
        return (
            True,
            f"Connected to VTEX at {config.base_url} with App Key {config.app_key!r}: orders are readable.",
        )

    def _explain_failed_test(self, exc: VtexError) -> str:
        cause = exc.last_error if isinstance(exc, VtexRetriesExhaustedError) else exc
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

    # ------------------------------------------------------------------ the request engine
    def url_for(self, segments: list[str]) -> str:
        """The OMS URL for these path segments, each URL-encoded (an order id never spills into the path)."""
        path = "".join("/" + quote(str(segment), safe="") for segment in segments)
        return f"{self.config.base_url}{ORDERS_PATH}{path}"

    def _call(
        self,
        method: str,
        segments: list[str],
        *,
        resource: str,
        idempotent: bool,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        attempts: int | None = None,
    ) -> dict[str, Any]:
        for segment in segments:
            if not str(segment).strip():
                raise VtexBadRequestError(
                    f"Cannot call VTEX: an empty path segment in {method} {ORDERS_PATH}/{'/'.join(segments)}; "
                    "pass a non-empty order id / invoice number.",
                    http_status=0,
                    method=method,
                    path=ORDERS_PATH,
                )
        url = self.url_for(segments)
        path = url[len(self.config.base_url) :]
        max_attempts = attempts if attempts is not None else self.max_retries + 1
        retrying = self._retrying(idempotent, max_attempts)
        result: dict[str, Any] = retrying(
            self._send, method, url, path, body=body, params=params, resource=resource
        )
        return result

    def _retrying(self, idempotent: bool, max_attempts: int) -> tenacity.Retrying:
        """The retry policy for one kind of call, built once per hook (tenacity keeps per-thread state)."""
        key = (idempotent, max_attempts)
        retrying = self._retryings.get(key)
        if retrying is None:
            retrying = tenacity.Retrying(
                stop=tenacity.stop_after_attempt(max_attempts)
                | tenacity.stop_before_delay(self.max_total_wait),
                wait=self._wait,
                retry=tenacity.retry_if_exception(functools.partial(_should_retry, idempotent=idempotent)),
                before_sleep=lambda state: self._log_wait(state, max_attempts),
                retry_error_callback=self._give_up,
                reraise=True,
                sleep=lambda seconds: time.sleep(seconds),
            )
            self._retryings[key] = retrying
        return retrying

    def _send(
        self,
        method: str,
        url: str,
        path: str,
        *,
        body: dict[str, Any] | None,
        params: dict[str, Any] | None,
        resource: str,
    ) -> dict[str, Any]:
        """One attempt: send, then turn the outcome into a dict or a typed error."""
        self.rate_limiter.acquire()
        started = time.monotonic()
        try:
            # verify per request: on the session alone, REQUESTS_CA_BUNDLE would override it (psf/requests#3829)
            response = self.session.request(
                method, url, json=body, params=params, timeout=self.timeout, verify=self.config.verify
            )
        except requests.exceptions.SSLError as exc:
            raise VtexTransportError(
                f"TLS with {self.config.base_url} failed ({_reason(exc)}). If the server uses a private CA or a "
                f"self-signed certificate, set the 'verify' extra of connection '{self.config.conn_id}' to its CA "
                "bundle path.",
                request_sent=False,
            ) from None
        except requests.exceptions.ConnectTimeout:
            raise VtexTransportError(
                f"{method} {path}: no TCP connection to {self.config.base_url} within {self.timeout:g} s "
                "(request not sent).",
                request_sent=False,
            ) from None
        except requests.exceptions.ReadTimeout:
            raise VtexTransportError(
                f"{method} {path}: VTEX did not answer within {self.timeout:g} s after the request was sent "
                f"(raise the 'timeout' extra of connection '{self.config.conn_id}' if VTEX is slow).",
                request_sent=True,
            ) from None
        except requests.exceptions.ConnectionError as exc:
            sent = not _failed_before_sending(exc)
            when = "after the request was sent" if sent else "request not sent"
            raise VtexTransportError(
                f"{method} {path}: connection to {self.config.base_url} failed ({when}): {_reason(exc)}",
                request_sent=sent,
            ) from None
        self.log.debug(
            "%s %s -> %s in %.0f ms", method, path, response.status_code, (time.monotonic() - started) * 1000
        )
        return self._interpret(response, method, path, resource)

    def _interpret(
        self, response: requests.Response, method: str, path: str, resource: str
    ) -> dict[str, Any]:
        status = response.status_code
        if 200 <= status < 300:
            if status == 204 or not response.content:
                return {}
            parsed = _json_or_none(response)
            if not isinstance(parsed, dict):
                raise VtexUnexpectedResponseError(
                    f"VTEX answered {method} {path} with {status} but a {_content_type(response)} body instead "
                    f"of a JSON object: {excerpt(response.text)!r}. An HTML page here usually means a proxy or "
                    f"login page, not VTEX's API: check the base URL of connection '{self.config.conn_id}'.",
                    http_status=status,
                    method=method,
                    path=path,
                )
            return parsed
        raise self._error_for(response, method, path, resource)

    def _error_for(self, response: requests.Response, method: str, path: str, resource: str) -> VtexApiError:
        status = response.status_code
        parsed = _json_or_none(response)
        code, message = error_fields(parsed)
        if message is None and parsed is None:
            said = (
                f"a {_content_type(response)} body: {excerpt(response.text)!r}"
                if response.text
                else "no body"
            )
        else:
            said = f"error {code!r}: {message!r}" if code else f"{message or excerpt(response.text)!r}"
        head = f"VTEX answered {status} {response.reason or ''}".rstrip() + f" to {method} {path} ({said})."
        details: dict[str, Any] = {
            "http_status": status,
            "method": method,
            "path": path,
            "error_code": code,
            "error_message": message,
        }
        conn_id = self.config.conn_id
        if status == 401:
            return VtexAuthError(
                f"{head} The App Key/App Token of connection '{conn_id}' were rejected: check its login and password.",
                **details,
            )
        if status == 403:
            return VtexAuthError(
                f"{head} The App Key of connection '{conn_id}' lacks the License Manager resource '{resource}' "
                "(product OMS, category OMS access): add it to the key's role, e.g. 'OMS - Full access' or "
                "'IntegrationProfile - Fulfillment Oms'.",
                **details,
            )
        if status == 404:
            return VtexNotFoundError(
                f"{head} Check the order id and invoice number; in marketplace flows the invoice goes to the "
                "seller (fulfillment) account's order, and only orders of the last two years can be reached.",
                **details,
            )
        if status == 429:
            retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
            return VtexRateLimitedError(
                f"{head} The account is rate-limited; VTEX asked to wait "
                f"{f'{retry_after:g} s' if retry_after is not None else 'an unspecified time'}.",
                retry_after=retry_after,
                **details,
            )
        if status >= 500:
            retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
            hint = (
                "VTEX's circuit breaker is open; it should recover shortly."
                if status == 503
                else ("VTEX or a gateway in front of it failed.")
            )
            return VtexServerError(f"{head} {hint}", retry_after=retry_after, **details)
        return VtexBadRequestError(
            f"{head} VTEX refused the request as sent; sending it again will not help: fix the payload or the "
            "order's state first.",
            **details,
        )

    # ------------------------------------------------------------------ retry policy pieces
    def _wait(self, state: tenacity.RetryCallState) -> float:
        """``Retry-After`` when VTEX gave one, else exponential backoff with full jitter; capped."""
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            wait = float(min(retry_after, self.backoff_max))
        else:
            backoff = tenacity.wait_random_exponential(multiplier=self.backoff_initial, max=self.backoff_max)
            wait = float(backoff(state))
        if isinstance(exc, VtexRateLimitedError):
            self.rate_limiter.hold(wait)  # the account is throttled: every thread of this hook waits
        return wait

    def _log_wait(self, state: tenacity.RetryCallState, max_attempts: int) -> None:
        method, _, path = state.args[:3]
        exc = state.outcome.exception() if state.outcome else None
        seconds = state.next_action.sleep if state.next_action else 0.0
        reason = "Retry-After" if getattr(exc, "retry_after", None) is not None else "backoff"
        self.log.info(
            "VTEX %s %s failed on attempt %d of %d (%s); waiting %.2f s (%s) before retrying.",
            method,
            path,
            state.attempt_number,
            max_attempts,
            _short(exc),
            seconds,
            reason,
        )

    def _give_up(self, state: tenacity.RetryCallState) -> Any:
        method, _, path = state.args[:3]
        exc = state.outcome.exception() if state.outcome else None
        assert isinstance(exc, VtexError)
        waited = state.seconds_since_start or 0.0
        raise VtexRetriesExhaustedError(
            f"Gave up on {method} {path} after {state.attempt_number} attempt(s) over {waited:.1f} s "
            f"(max_retries={self.max_retries}, max_total_wait={self.max_total_wait:g} s). "
            f"VTEX last answered: {exc}",
            attempts=state.attempt_number,
            last_error=exc,
        ) from exc


def invoice_package(order: Mapping[str, Any], invoice_number: str) -> dict[str, Any] | None:
    """The package holding ``invoice_number`` in a GET-order answer (``packageAttachment.packages``)."""
    attachment = order.get("packageAttachment") or {}
    for package in attachment.get("packages") or []:
        if isinstance(package, dict) and package.get("invoiceNumber") == invoice_number:
            return package
    return None


def _should_retry(exc: BaseException, *, idempotent: bool) -> bool:
    """Whether sending the same request again is both useful and safe."""
    if isinstance(exc, VtexTransportError):
        return not exc.request_sent or idempotent
    if isinstance(exc, VtexApiError) and exc.retryable:
        if exc.http_status in _NOT_PROCESSED_STATUSES:
            return True
        return idempotent and exc.http_status in _MAYBE_PROCESSED_STATUSES
    return False


def _maybe_applied(exc: VtexError) -> bool:
    """Whether a failed write may nevertheless have been applied by VTEX."""
    if isinstance(exc, VtexRetriesExhaustedError):
        return _maybe_applied(exc.last_error)
    if isinstance(exc, VtexTransportError):
        return exc.request_sent
    return isinstance(exc, VtexApiError) and exc.http_status in _MAYBE_PROCESSED_STATUSES


def _failed_before_sending(exc: requests.exceptions.ConnectionError) -> bool:
    """True when urllib3 could not open the connection (DNS, refused, connect timeout): nothing was sent."""
    from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

    cause: Any = exc.args[0] if exc.args else None
    if isinstance(cause, MaxRetryError):
        cause = cause.reason
    return isinstance(cause, NewConnectionError | ConnectTimeoutError)


def _retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110); None if absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _content_type(response: requests.Response) -> str:
    return (response.headers.get("Content-Type") or "untyped").split(";")[0].strip()


def _reason(exc: BaseException) -> str:
    """The innermost readable cause of a requests/urllib3 error, without the URL pool noise."""
    cause: Any = exc.args[0] if exc.args else exc
    reason = getattr(cause, "reason", None)
    return str(reason or cause)


def _short(exc: BaseException | None) -> str:
    if isinstance(exc, VtexApiError):
        return f"HTTP {exc.http_status}"
    return type(exc).__name__ if exc else "unknown"


__all__ = ["VtexConnectionConfig", "VtexHook"]
