"""The ``vtex`` connection: how it is read, where it sends the token, and every value it refuses.

Hostile or mistyped settings must fail once, before any connection is opened, with a message that
names the connection and the field and never prints the credentials.
"""

from __future__ import annotations

import math
import re
import socket
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_vtex.client.config import VtexConnectionConfig
from airflow_provider_vtex.client.scrub import secret_forms
from airflow_provider_vtex.compat import AirflowFailException
from airflow_provider_vtex.exceptions import VtexConnectionConfigError
from airflow_provider_vtex.hooks.vtex import VtexHook
from airflow_provider_vtex.operators.invoice import InvoiceNotificationOperator

TOKEN = "TOKEN-Zq81"


class Conn:
    """What the hook reads of an Airflow connection."""

    def __init__(
        self,
        login: Any = "KEY",
        password: Any = TOKEN,
        host: Any = "mystore",
        conn_type: Any = "vtex",
        **extra: Any,
    ) -> None:
        self.login, self.password, self.host, self.extra_dejson = login, password, host, extra
        self.conn_type = conn_type


def config(**kwargs: Any) -> VtexConnectionConfig:
    return VtexConnectionConfig.from_connection(Conn(**kwargs), "vtex_shop")


@pytest.mark.parametrize(
    ("kwargs", "base"),
    [
        ({}, "https://mystore.vtexcommercestable.com.br"),
        ({"environment": "vtexcommercebeta"}, "https://mystore.vtexcommercebeta.com.br"),
        ({"base_url": "https://proxy.example/vtex/"}, "https://proxy.example/vtex"),
        ({"extra__vtex__environment": "vtexcommercebeta"}, "https://mystore.vtexcommercebeta.com.br"),
        ({"environment": "", "base_url": ""}, "https://mystore.vtexcommercestable.com.br"),
        ({"host": None, "base_url": "http://127.0.0.1:8089"}, "http://127.0.0.1:8089"),
        ({"base_url": "http://[::1]:8089"}, "http://[::1]:8089"),
        ({"base_url": "http://localhost:8089/vtex"}, "http://localhost:8089/vtex"),
        ({"base_url": "http://127.3.2.1"}, "http://127.3.2.1"),
        ({"base_url": "https://10.0.0.8:8443"}, "https://10.0.0.8:8443"),
        ({"environment": "VTEXCommerceBeta"}, "https://mystore.vtexcommercebeta.com.br"),
        # What Airflow's own form stores, and types stated in other spellings or not at all.
        ({"extra__vtex__base_url": "http://127.0.0.1:8089"}, "http://127.0.0.1:8089"),
        ({"conn_type": "VTEX"}, "https://mystore.vtexcommercestable.com.br"),
        ({"conn_type": None}, "https://mystore.vtexcommercestable.com.br"),
    ],
)
def test_base_url_from_account_environment_or_base_url(kwargs: dict[str, Any], base: str) -> None:
    assert config(**kwargs).base_url == base


def test_defaults_and_extras() -> None:
    cfg = config(timeout="7", max_retries="3", data_architecture="PII", verify="false")
    assert (cfg.timeout, cfg.max_retries, cfg.data_architecture, cfg.verify) == (7.0, 3, "pii", False)
    cfg = config()
    assert (cfg.timeout, cfg.max_retries, cfg.data_architecture, cfg.verify) == (30.0, 5, "standard", True)


def test_the_credentials_are_not_in_the_repr() -> None:
    text = repr(config())
    assert TOKEN not in text
    assert "KEY" not in text


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"login": None}, "App Key (the connection's login)"),
        ({"password": None}, "App Token (the connection's password)"),
        ({"host": None}, "Account name (the connection's host"),
    ],
)
def test_missing_credentials_name_the_connection_and_field(fields: dict[str, Any], named: str) -> None:
    with pytest.raises(VtexConnectionConfigError) as caught:
        config(**fields)
    assert "Connection 'vtex_shop'" in str(caught.value)
    assert named in str(caught.value)
    assert "AIRFLOW_CONN_VTEX_SHOP" in str(caught.value)


#: Connections that are not what they say: another type, a misspelled extra or environment, a token in clear.
NOT_WHAT_THEY_SAY: list[tuple[dict[str, Any], str]] = [
    ({"conn_type": "http"}, "connection type 'http', not 'vtex'"),
    ({"conn_type": "postgres"}, "connection type 'postgres'"),
    ({"enviroment": "vtexcommercebeta"}, "did you mean 'environment'?"),
    ({"baseurl": "http://127.0.0.1:8089"}, "did you mean 'base_url'?"),
    ({"extra__vtex__enviroment": "vtexcommercebeta"}, "did you mean 'environment'?"),
    ({"extra__http__endpoint": "x"}, "an extra 'extra__http__endpoint' that a VTEX connection does not read"),
    ({"Timeout": 5}, "did you mean 'timeout'?"),
    ({"environment": "vtexcomercestable"}, "did you mean 'vtexcommercestable'?"),
    ({"environment": "sandbox"}, "not one of VTEX's environments"),
    ({"environment": "myvtex"}, "put its full URL in the 'base_url' extra"),
    ({"base_url": "http://mystore.vtexcommercestable.com.br"}, "use https://"),
    ({"base_url": "http://10.0.0.8:8089"}, "plain http:// to a host other than this machine"),
    ({"base_url": "http://127.0.0.1.example.com"}, "plain http://"),
    ({"base_url": "http://localhost.evil.example"}, "plain http://"),
]

HOSTILE = [
    # where the token would go
    ({"environment": "x@127.0.0.1:18443/y"}, "extra 'environment'"),
    ({"host": "x@localhost:18443#"}, "Account name"),
    ({"host": "mystore.vtexcommercestable.com.br"}, "Account name"),
    ({"host": "my store"}, "Account name"),
    ({"environment": "a%2F..b"}, "extra 'environment'"),
    ({"base_url": "http://"}, "has no host name"),
    ({"base_url": "http://127.0.0.1:99999"}, "port that is not a number"),
    ({"base_url": "http://127.0.0.1:0"}, "port 0"),
    ({"base_url": "mystore.example"}, "must start with http:// or https://"),
    ({"base_url": "ftp://host"}, "must start with http:// or https://"),
    ({"base_url": "http://user:pw@evil.example"}, "user information"),
    ({"base_url": "http://a@127.0.0.1:18443"}, "user information"),
    ({"base_url": "http://host/x?y=1"}, "query"),
    ({"base_url": "http://host/#frag"}, "fragment"),
    ({"base_url": "http://host/a/../b"}, "'.'/'..' segments"),
    ({"base_url": "http://host\\@evil.example"}, "backslash"),
    ({"base_url": "http://host name"}, "spaces"),
    # numbers that would hang or break every request
    ({"timeout": 0}, "extra 'timeout'"),
    ({"timeout": -1}, "extra 'timeout'"),
    ({"timeout": math.nan}, "extra 'timeout'"),
    ({"timeout": "nan"}, "extra 'timeout'"),
    ({"timeout": math.inf}, "extra 'timeout'"),
    ({"timeout": "soon"}, "extra 'timeout'"),
    ({"timeout": True}, "extra 'timeout'"),
    ({"max_retries": math.inf}, "extra 'max_retries'"),
    ({"max_retries": "nan"}, "extra 'max_retries'"),
    ({"max_retries": -1}, "extra 'max_retries'"),
    ({"max_retries": 1.5}, "extra 'max_retries'"),
    ({"max_retries": 10**6}, "extra 'max_retries'"),
    # files and names
    ({"verify": "/no/such/ca.pem"}, "extra 'verify'"),
    ({"data_architecture": "legacy"}, "extra 'data_architecture'"),
    # credentials that cannot travel in a header
    ({"login": "KÉY"}, "App Key"),
    ({"login": "KEY\u4e2d"}, "App Key"),
    ({"password": "TOK\nEN-Zq81"}, "App Token"),
    ({"password": "TOKEN-Zq81\r\nX-Evil: 1"}, "App Token"),
    ({"password": "TOKEN Zq81"}, "App Token"),
    *NOT_WHAT_THEY_SAY,
]


@pytest.mark.parametrize(("fields", "fragment"), HOSTILE, ids=[repr(f) for f, _ in HOSTILE])
def test_hostile_or_mistyped_settings_are_refused_naming_the_field(
    fields: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(VtexConnectionConfigError) as caught:
        config(**fields)
    message = str(caught.value)
    assert fragment in message
    assert "Connection 'vtex_shop'" in message
    assert "Zq81" not in message  # no part of the token, even when the token itself is the problem


#: The operator test defines its connections by environment variable with conn_type 'vtex' (see below for others).
ON_A_TASK = HOSTILE[:8] + [entry for entry in NOT_WHAT_THEY_SAY if "conn_type" not in entry[0]]


@pytest.mark.parametrize(("fields", "fragment"), ON_A_TASK, ids=[repr(f) for f, _ in ON_A_TASK])
def test_the_operator_fails_without_retries_and_opens_no_connection(
    vtex_connection: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
    fields: dict[str, Any],
    fragment: str,
) -> None:
    conn = {"login": "KEY", "password": TOKEN, "host": "mystore", **fields}
    vtex_connection(login=conn.pop("login"), password=conn.pop("password"), host=conn.pop("host"), **conn)

    def no_network(self: socket.socket, address: Any) -> None:
        raise AssertionError(f"a connection was opened to {address}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    operator = InvoiceNotificationOperator(
        task_id="invoice",
        order_id="ORD-1",
        invoice={
            "type": "Output",
            "invoiceNumber": "NF-1",
            "invoiceValue": 100,
            "issuanceDate": "2024-03-01T10:00:00-03:00",
            "items": [{"id": "1", "price": 100, "quantity": 1}],
        },
    )
    with pytest.raises(AirflowFailException, match=re.escape(fragment)):
        operator.execute(context={})  # type: ignore[arg-type]


def test_the_hook_reads_the_connection_once_and_masks_both_credentials(
    vtex_connection: Callable[..., str], mocker: Any
) -> None:
    vtex_connection()
    masked = mocker.patch("airflow_provider_vtex.hooks.vtex.mask_secret")
    hook = VtexHook()
    assert hook.config is hook.config
    registered = {call.args[0] for call in masked.call_args_list}
    assert {"KEY", "TOKEN"} <= registered  # and the encoded forms a server may echo (test_scrub.py)
    assert registered == secret_forms(["TOKEN", "KEY"])


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("http://KEY:TOKEN-Zq81@mystore", "connection type 'http', not 'vtex'"),
        (
            '{"conn_type": "postgres", "login": "KEY", "password": "TOKEN-Zq81", "host": "mystore"}',
            "'postgres'",
        ),
        ("vtex://KEY:TOKEN-Zq81@mystore?enviroment=vtexcommercebeta", "did you mean 'environment'?"),
        ("vtex://KEY:TOKEN-Zq81@mystore?environment=vtexcommercebta", "did you mean 'vtexcommercebeta'?"),
    ],
)
def test_connections_defined_by_environment_variable_are_checked_before_any_request(
    monkeypatch: pytest.MonkeyPatch, uri: str, fragment: str
) -> None:
    """What Airflow itself hands the hook for a URI or JSON ``AIRFLOW_CONN_*``: its type and extras."""

    def no_network(self: socket.socket, address: Any) -> None:
        raise AssertionError(f"a connection was opened to {address}")

    monkeypatch.setenv("AIRFLOW_CONN_VTEX_SHOP", uri)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    hook = VtexHook("vtex_shop")
    ok, message = hook.test_connection()
    assert not ok
    assert fragment in message
    assert "AIRFLOW_CONN_VTEX_SHOP" in message
    assert "Zq81" not in message
    with pytest.raises(VtexConnectionConfigError, match=re.escape(fragment)):
        VtexHook("vtex_shop").get_order("ORD-1")


def test_a_vtex_uri_with_known_extras_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_VTEX_SHOP", "vtex://KEY:TOKEN-Zq81@mystore?environment=vtexcommercebeta&timeout=7"
    )
    config = VtexHook("vtex_shop").config
    assert (config.base_url, config.timeout) == ("https://mystore.vtexcommercebeta.com.br", 7.0)
