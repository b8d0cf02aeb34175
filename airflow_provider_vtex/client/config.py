"""The ``vtex`` connection: reading it, checking it and building the base URL.

Why this module refuses so much: the connection decides where the AppToken is sent. An ``environment``
of ``x@127.0.0.1:18443/y`` would otherwise turn ``https://{account}.{environment}.com.br`` into a URL
whose host is ``127.0.0.1``; a misspelled ``environment`` value would send a test connection's requests
to another VTEX host; a misspelled extra name (``enviroment``) would be ignored, silently; a connection
of another type (``http``, ``postgres``) would be used as if it were one for VTEX; a plain ``http://``
``base_url`` to a remote host would carry the AppToken in clear. A ``timeout`` of ``nan`` would make
every request hang or fail obscurely. Every value is checked once, when the hook first needs it,
before any request, with an error that names the connection, the field and the fix, and never prints
the credentials.

Nothing here imports Airflow: a connection is anything with ``login``, ``password``, ``host`` and
``extra_dejson``, and optionally ``conn_type`` (Airflow's ``Connection`` on 2.11 and 3.x alike), so the
async client of the triggers and the sandbox tests use the same rules. The connection form (WTForms) is
the hook's: :mod:`airflow_provider_vtex.hooks.connection_form`.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast
from urllib.parse import urlsplit

from airflow_provider_vtex.exceptions import VtexConnectionConfigError
from airflow_provider_vtex.get_provider_info import (
    CONN_FIELDS,
    CONN_TYPE,
    DATA_ARCHITECTURES,
    DEFAULT_DATA_ARCHITECTURE,
    DEFAULT_ENVIRONMENT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    VTEX_ENVIRONMENTS,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

#: A DNS label: what an account name and an environment must be, since both become part of a host name.
_DNS_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
#: What an HTTP header value may hold here: visible ASCII, no spaces, no control characters.
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")
#: The extra that holds the order hook's secret (see ``models/order_hook.py``), and its shortest length.
HOOK_SECRET = "hook_secret"
MIN_HOOK_SECRET_LENGTH = 24
#: Upper bounds that catch typos (a timeout in milliseconds) without limiting real use.
MAX_TIMEOUT = 3600.0
MAX_RETRIES_LIMIT = 100
MAX_RATE = 10_000.0
#: Every extra this connection reads; any other name is a typo or another connection type's setting.
KNOWN_EXTRAS = (*CONN_FIELDS, "verify")
#: How Airflow's connection form (Airflow 2 before 2.3, and forms saved then) prefixes an extra's name.
_FORM_PREFIX = f"extra__{CONN_TYPE}__"
#: Host names that mean this machine: the only ones plain ``http://`` may carry the AppToken to.
_LOCAL_HOST_NAMES = frozenset({"localhost", "localhost.", "localhost.localdomain"})

DataArchitecture = Literal["standard", "pii"]


@dataclass(frozen=True)
class VtexConnectionConfig:
    """The checked settings of one ``vtex`` connection."""

    conn_id: str
    app_key: str = field(repr=False)
    app_token: str = field(repr=False)
    account: str | None
    environment: str
    base_url: str
    timeout: float
    max_retries: int
    verify: bool | str
    data_architecture: DataArchitecture = "standard"
    #: What VTEX's order hook sends in a header with every call, the receiver's proof of origin.
    hook_secret: str | None = field(default=None, repr=False)
    #: The account's request budget (``None``: no cap), shared by every process using the account.
    max_requests_per_second: float | None = None

    @property
    def secrets(self) -> tuple[str, ...]:
        """The values that must never appear in a message, a log line or an XCom."""
        return tuple(value for value in (self.app_token, self.app_key, self.hook_secret) if value)

    @property
    def headers(self) -> dict[str, str]:
        """VTEX's authentication and content headers, for every request."""
        return {
            "X-VTEX-API-AppKey": self.app_key,
            "X-VTEX-API-AppToken": self.app_token,
            "Accept": "application/json",
            "Content-Type": "application/json",
        }

    @classmethod
    def from_connection(cls, conn: Any, conn_id: str) -> VtexConnectionConfig:
        """Read and check login/password/host and the extras; raise :class:`VtexConnectionConfigError`
        naming the connection and the field on the first value that cannot be used."""
        where = _Where(conn_id)
        _check_conn_type(getattr(conn, "conn_type", None), where)
        extras = _Extras(conn.extra_dejson or {}, where)
        extras.check_names()
        app_key = (conn.login or "").strip()
        app_token = (conn.password or "").strip()
        account = (conn.host or "").strip() or None
        base_url = extras.text("base_url")
        missing = []
        if not app_key:
            missing.append("App Key (the connection's login)")
        if not app_token:
            missing.append("App Token (the connection's password)")
        if account is None and base_url is None:
            missing.append("Account name (the connection's host, e.g. 'mystore')")
        if missing:
            raise where.error(f"has no {' and no '.join(missing)}")
        _check_header_value(app_key, "App Key (the connection's login)", where)
        _check_header_value(app_token, "App Token (the connection's password)", where)
        environment = _check_environment(extras.text("environment") or DEFAULT_ENVIRONMENT, where)
        if base_url is None:
            assert account is not None
            _check_dns_label(account, "Account name (the connection's host)", "mystore", where)
            base_url = f"https://{account}.{environment}.com.br"
        else:
            base_url = _check_base_url(base_url, where)
        return cls(
            conn_id=conn_id,
            app_key=app_key,
            app_token=app_token,
            account=account,
            environment=environment,
            base_url=base_url,
            timeout=extras.seconds("timeout", DEFAULT_TIMEOUT),
            max_retries=extras.whole_number("max_retries", DEFAULT_MAX_RETRIES, MAX_RETRIES_LIMIT),
            verify=extras.verify(),
            data_architecture=extras.data_architecture(),
            hook_secret=extras.hook_secret(),
            max_requests_per_second=extras.rate("max_requests_per_second"),
        )


@dataclass(frozen=True)
class _Where:
    conn_id: str

    def error(self, problem: str) -> VtexConnectionConfigError:
        return VtexConnectionConfigError(
            f"Connection '{self.conn_id}' {problem}. Fix it in Admin > Connections, or in "
            f"AIRFLOW_CONN_{self.conn_id.upper()}."
        )


def _check_header_value(value: str, field_name: str, where: _Where) -> None:
    """Refuse a credential that cannot travel in an HTTP header, without ever printing it."""
    if not _HEADER_SAFE.fullmatch(value):
        raise where.error(
            f"has an {field_name} with characters an HTTP header cannot carry (spaces, line breaks, control "
            "or non-ASCII characters); paste it again exactly as VTEX's License Manager shows it "
            "(the value is not shown here on purpose)"
        )


def _check_conn_type(conn_type: Any, where: _Where) -> None:
    """A connection of another type (``http``, ``postgres``...) is not a VTEX connection, whatever its
    login and password: refuse it rather than send its password to VTEX as an AppToken.

    Airflow hands the hook the type as written: ``"vtex"`` from the UI's "VTEX" type, from a ``vtex://``
    URI (``AIRFLOW_CONN_*``; Airflow reads the scheme as the type) and from JSON's ``conn_type``. A
    connection that states no type (``None`` or empty: a secrets backend's JSON without ``conn_type``)
    claims nothing else and is read as this one.
    """
    if conn_type is None or str(conn_type).strip() == "":
        return
    if str(conn_type).strip().lower().replace("-", "_") != CONN_TYPE:
        raise where.error(
            f"is of connection type {str(conn_type)[:50]!r}, not {CONN_TYPE!r}: it is not used as a VTEX "
            f"connection. Set its type to VTEX in the UI (conn_type {CONN_TYPE!r} in JSON) or use a "
            f"'{CONN_TYPE}://' URI, or point vtex_conn_id at your VTEX connection"
        )


def _check_environment(value: str, where: _Where) -> str:
    """``environment`` is one of VTEX's environments (the host name part of ``{account}.{environment}.com.br``):
    anything else, a typo included, would send the requests to a host that is not VTEX's, or to another
    VTEX environment than meant."""
    if value.lower() in VTEX_ENVIRONMENTS:
        return value.lower()
    close = difflib.get_close_matches(value.lower(), VTEX_ENVIRONMENTS, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise where.error(
        f"has extra 'environment' {value[:100]!r}, which is not one of VTEX's environments "
        f"({', '.join(repr(e) for e in VTEX_ENVIRONMENTS)}): {hint}Almost every store uses "
        f"{DEFAULT_ENVIRONMENT!r} (the default: leave the extra out). To call another address (the sandbox, a "
        "proxy, a VTEX IO workspace), put its full URL in the 'base_url' extra instead"
    )


def _is_this_machine(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost``: a request to it never crosses a network."""
    if host.lower() in _LOCAL_HOST_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_dns_label(value: str, field_name: str, example: str, where: _Where) -> None:
    """An account name or environment becomes part of the host name: it must be one DNS label."""
    if not _DNS_LABEL.fullmatch(value):
        raise where.error(
            f"has {field_name} {value!r}, which is not a bare name: use letters, digits and '-' only, such "
            f"as {example!r} (no '@', ':', '/', '#', '?', '%', '.' or spaces). To call a full URL instead, "
            "put it in the 'base_url' extra"
        )


def _check_base_url(text: str, where: _Where) -> str:
    """``base_url`` must be scheme + host (+ port) (+ path prefix), nothing that could redirect the token."""
    problem = None
    if any(c.isspace() or ord(c) < 0x20 or c == "\\" for c in text):
        problem = "contains spaces, control characters or a backslash"
    parts = urlsplit(text)
    port: int | None = None
    if problem is None:
        try:
            port = parts.port
        except ValueError:
            problem = "has a port that is not a number from 1 to 65535"
    if problem is None:
        if parts.scheme not in ("http", "https"):
            problem = "must start with http:// or https://"
        elif not parts.hostname:
            problem = "has no host name"
        elif "@" in parts.netloc:
            problem = "contains user information ('user@host'); credentials go in login and password only"
        elif port == 0:
            problem = "has port 0"
        elif parts.query or parts.fragment or "?" in text or "#" in text:
            problem = "must not have a query ('?') or a fragment ('#')"
        elif "%" in parts.path or any(seg in (".", "..") for seg in parts.path.split("/")):
            problem = "has a path with '%' or '.'/'..' segments"
        elif parts.scheme == "http" and not _is_this_machine(parts.hostname):
            problem = (
                "uses plain http:// to a host other than this machine, so the AppToken would cross the network "
                "in clear; use https://, or http:// only to 127.0.0.1, ::1 or localhost (the local sandbox)"
            )
    if problem is not None:
        raise where.error(
            f"has extra 'base_url' {text[:200]!r}, which {problem}. Give scheme, host, optional port and optional "
            "path prefix, e.g. 'http://127.0.0.1:8089' or 'https://proxy.example.com/vtex'"
        )
    return text.rstrip("/")


class _Extras:
    """Typed access to connection extras, whichever way the UI or an env var spelled them."""

    def __init__(self, raw: Mapping[str, Any], where: _Where) -> None:
        self.raw = raw
        self.where = where

    def check_names(self) -> None:
        """Refuse an extra this connection does not read, naming the closest one it does: a misspelled
        ``enviroment`` would otherwise be ignored and the requests sent to the default environment.

        The names Airflow's own form gives the fields (``extra__vtex__environment``) are accepted too."""
        for key in self.raw:
            name = str(key)
            bare = name[len(_FORM_PREFIX) :] if name.startswith(_FORM_PREFIX) else name
            if bare in KNOWN_EXTRAS:
                continue
            close = difflib.get_close_matches(bare.lower().replace("-", "_"), KNOWN_EXTRAS, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise self.where.error(
                f"has an extra {name[:100]!r} that a VTEX connection does not read: {hint}The extras are "
                f"{', '.join(repr(known) for known in KNOWN_EXTRAS)}; rename or remove it"
            )

    def get(self, name: str) -> Any:
        for key in (name, f"{_FORM_PREFIX}{name}"):
            value = self.raw.get(key)
            if value is not None and value != "":
                return value
        return None

    def text(self, name: str) -> str | None:
        value = self.get(name)
        return None if value is None else str(value).strip() or None

    def _number(self, name: str) -> float | None:
        value = self.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return math.nan
        try:
            return float(value)
        except (TypeError, ValueError):
            return math.nan

    def hook_secret(self) -> str | None:
        """The order hook's secret: long enough not to be guessed, and fit for an HTTP header."""
        secret = self.text(HOOK_SECRET)
        if secret is None:
            return None
        if len(secret) < MIN_HOOK_SECRET_LENGTH:
            raise self.where.error(
                f"has an extra '{HOOK_SECRET}' shorter than {MIN_HOOK_SECRET_LENGTH} characters: anyone who "
                "guesses it can push orders into Airflow; make one with "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))' (the value is not shown here on purpose)"
            )
        _check_header_value(secret, f"extra '{HOOK_SECRET}'", self.where)
        return secret

    def seconds(self, name: str, default: float) -> float:
        number = self._number(name)
        if number is None:
            return default
        if not math.isfinite(number) or not 0 < number <= MAX_TIMEOUT:
            raise self.where.error(
                f"has extra '{name}' {self.get(name)!r}: it must be a number of seconds greater than 0 and at "
                f"most {MAX_TIMEOUT:g}, e.g. 30"
            )
        return number

    def rate(self, name: str) -> float | None:
        number = self._number(name)
        if number is None:
            return None
        if not math.isfinite(number) or not 0 < number <= MAX_RATE:
            raise self.where.error(
                f"has extra '{name}' {self.get(name)!r}: it must be a number of requests per second greater "
                f"than 0 and at most {MAX_RATE:g} (e.g. 50; VTEX documents 6,000 a minute, 100 a second, for "
                "reading orders), or empty for no cap"
            )
        return number

    def whole_number(self, name: str, default: int, maximum: int) -> int:
        number = self._number(name)
        if number is None:
            return default
        if not math.isfinite(number) or number != int(number) or not 0 <= number <= maximum:
            raise self.where.error(
                f"has extra '{name}' {self.get(name)!r}: it must be a whole number from 0 to {maximum}, e.g. 5"
            )
        return int(number)

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
        if not os.path.exists(text):
            raise self.where.error(
                f"has extra 'verify' {text!r}, which is neither true/false nor an existing CA bundle file or "
                "directory on this worker; give the path of the PEM file to trust"
            )
        return text

    def data_architecture(self) -> DataArchitecture:
        value = (self.text("data_architecture") or DEFAULT_DATA_ARCHITECTURE).lower()
        if value not in DATA_ARCHITECTURES:
            raise self.where.error(
                f"has extra 'data_architecture' {self.get('data_architecture')!r}: it must be 'standard' "
                "(VTEX's OMS routes, most stores) or 'pii' (stores on VTEX's PII data architecture)"
            )
        return cast("DataArchitecture", value)


def environment_settings(base_url: str, verify: bool | str) -> tuple[dict[str, str], bool | str]:
    """The proxies and CA bundle that ``requests`` would read from the environment for ``base_url``.

    Resolved once when a session is built, because ``requests`` otherwise scans ``os.environ`` on every
    request (``Session.merge_environment_settings``), about a fifth of a call on a fast network. The
    ``verify`` extra wins over ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``, as the connection is more
    specific than the process.
    """
    from requests.utils import get_environ_proxies

    proxies = {key: value for key, value in get_environ_proxies(base_url).items() if key != "no"}
    if verify is True:
        verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return proxies, verify
