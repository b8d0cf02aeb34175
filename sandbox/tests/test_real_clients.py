"""The sandbox held to real clients' calls, not only to VTEX's files: what a client in production use sends,
VTEX accepts, so the sandbox must accept it too.

The client is vtexpy 0.0.0b47 (a third-party VTEX client in production use). It cannot be part of the
sandbox's ``test`` extra: it requires ``cachetools<8`` and ``python-dateutil<3``, while the Airflow 3.3.2
lock this repository installs with pins cachetools 8.0.2 and python-dateutil 4.0.0, so the extra would make
``make .venv/.installed`` unresolvable. Two layers therefore:

* the replays: vtexpy's exact requests (method, path with its trailing slash, headers, query, body as its
  source builds them), sent with ``requests`` -- they always run;
* the live run: vtexpy itself against the sandbox, when it is installed (the sandbox's ``clients`` extra;
  ``uv pip install --no-deps vtexpy==0.0.0b47`` beside the lock): its HTTP client is pointed at the sandbox
  by a transport that rewrites the host (vtexpy builds ``https://{account}.vtexcommercestable.com.br``
  and has no base-URL option). The live run proves the replays are what vtexpy really sends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
import requests

from vtex_sandbox import VtexSandbox

#: vtexpy 0.0.0b47, ``OrdersAPI.set_feed_config(status=["ready-for-handling"])``: its body, defaults as its
#: ``_constants`` set them (visibility 3600 s, retention 345600 s), small m as it spells it.
VTEXPY_FEED_CONFIG = {
    "filter": {"disableSingleFire": False, "type": "FromWorkflow", "status": ["ready-for-handling"]},
    "queue": {"visibilityTimeoutInSeconds": 3600, "messageRetentionPeriodInSeconds": 345600},
}
#: The headers vtexpy sets on every call (``_api/base.py``).
VTEXPY_CONTENT_TYPE = "application/json; charset=utf-8"


@pytest.fixture
def sandbox() -> Iterator[VtexSandbox]:
    with VtexSandbox() as running:
        yield running


def _vtexpy_session(sandbox: VtexSandbox) -> requests.Session:
    session = requests.Session()
    session.headers.update(
        {
            "X-VTEX-API-AppKey": sandbox.app_key,
            "X-VTEX-API-AppToken": sandbox.app_token,
            "Content-Type": VTEXPY_CONTENT_TYPE,
            "Accept": "application/json",
        }
    )
    return session


def test_vtexpys_feed_configuration_is_accepted_and_read_back_as_configured(sandbox: VtexSandbox) -> None:
    session = _vtexpy_session(sandbox)
    answer = session.post(f"{sandbox.url}/api/orders/feed/config", data=json.dumps(VTEXPY_FEED_CONFIG))
    assert answer.status_code == 200, answer.text
    config = session.get(f"{sandbox.url}/api/orders/feed/config").json()
    assert config["queue"] == {"visibilityTimeoutInSeconds": 3600, "messageRetentionPeriodInSeconds": 345600}
    assert config["filter"]["status"] == ["ready-for-handling"]


def test_vtexpys_feed_read_and_commit_work_through_its_trailing_slash_paths(sandbox: VtexSandbox) -> None:
    session = _vtexpy_session(sandbox)
    session.post(f"{sandbox.url}/api/orders/feed/config", data=json.dumps(VTEXPY_FEED_CONFIG))
    sandbox.place_order("VTEXPY-1", status="payment-approved")
    sandbox.move_order("VTEXPY-1", "ready-for-handling")
    items = session.get(f"{sandbox.url}/api/orders/feed/", params={"maxlot": 10}).json()
    assert [item["orderId"] for item in items] == ["VTEXPY-1"]
    commit = session.post(f"{sandbox.url}/api/orders/feed/", json={"handles": [items[0]["handle"]]})
    assert commit.status_code == 200
    sandbox.advance_clock(3601)
    assert session.get(f"{sandbox.url}/api/orders/feed/", params={"maxlot": 10}).json() == []


def test_vtexpys_order_list_query_is_served_with_its_creation_date_range(sandbox: VtexSandbox) -> None:
    # vtexpy's list_orders(creation_date_from=..., creation_date_to=...): its query, as it builds it.
    params: dict[str, Any] = {
        "incompleteOrders": "false",
        "orderBy": "creationDate,desc",
        "page": 1,
        "per_page": 100,
        "_stats": 1,
        "f_creationDate": "creationDate:[2026-11-03T00:00:00.000Z TO 2026-11-04T23:59:59.999Z]",
    }
    answer = _vtexpy_session(sandbox).get(f"{sandbox.url}/api/oms/pvt/orders/", params=params)
    assert answer.status_code == 200, answer.text
    assert [o["orderId"] for o in answer.json()["list"]] == [
        "1172452900790-01",
        "v502559llux-01",
        "1172452900789-01",
        "70caf3941s6df1",
    ]


def test_vtexpys_order_changes_read_needs_no_account_parameter(sandbox: VtexSandbox) -> None:
    # vtexpy's get_order_changes sends no ``an`` query parameter, which the file marks required: VTEX
    # evidently serves it without one, so the sandbox does too.
    answer = _vtexpy_session(sandbox).get(f"{sandbox.url}/api/order-system/orders/1172452900789-01/changes")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"requests": [], "actions": []}


# -- vtexpy itself ---------------------------------------------------------------------------------------


@pytest.fixture
def vtexpy(sandbox: VtexSandbox, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A vtexpy client whose requests reach the sandbox (skipped when vtexpy is not installed)."""
    vtex = pytest.importorskip("vtex")
    pytest.importorskip("httpx")
    import httpx  # vtexpy's HTTP library
    from vtex._api import base  # vtexpy's request layer: it opens one httpx.Client per call

    target = httpx.URL(sandbox.url)

    class ToSandbox(httpx.HTTPTransport):
        """vtexpy's ``https://{account}.vtexcommercestable.com.br`` rewritten to the sandbox's URL."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            request.url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
            request.headers["Host"] = f"{target.host}:{target.port}"
            return super().handle_request(request)

    def client(**kwargs: Any) -> httpx.Client:
        return httpx.Client(transport=ToSandbox(), **kwargs)

    monkeypatch.setattr(base, "Client", client)
    config = vtex.VTEXConfig(
        account_name="sandbox", app_key=sandbox.app_key, app_token=sandbox.app_token, retry_attempts=0
    )
    return vtex.VTEX(config=config)


def test_vtexpy_configures_reads_and_deletes_the_feed(sandbox: VtexSandbox, vtexpy: Any) -> None:
    vtexpy.orders.set_feed_config(status=["ready-for-handling", "canceled"])
    assert sandbox.count("POST", "feed_config", status=200) == 1
    # vtexpy hands its caller the answer's keys in snake case.
    config = vtexpy.orders.get_feed_config().data
    assert config["queue"]["message_retention_period_in_seconds"] == 345600
    assert config["filter"]["status"] == ["ready-for-handling", "canceled"]
    sandbox.place_order("VTEXPY-2", status="payment-approved")
    sandbox.move_order("VTEXPY-2", "ready-for-handling")
    items = vtexpy.orders.list_feed_orders().items
    assert [item["order_id"] for item in items] == ["VTEXPY-2"]
    vtexpy.orders.commit_feed_orders([items[0]["handle"]])
    vtexpy.orders.delete_feed_config()
    assert sandbox.count("DELETE", "feed_config", status=200) == 1


def test_vtexpy_lists_reads_and_follows_changes_of_orders(sandbox: VtexSandbox, vtexpy: Any) -> None:
    listed = vtexpy.orders.list_orders(
        creation_date_from=datetime(2026, 11, 3, tzinfo=timezone.utc),
        creation_date_to=datetime(2026, 11, 4, 23, 0, tzinfo=timezone.utc),
    )
    assert [o["order_id"] for o in listed.items] == [
        "1172452900790-01",
        "v502559llux-01",
        "1172452900789-01",
        "70caf3941s6df1",
    ]
    assert vtexpy.orders.get_order("1172452900789-01").data["status"] == "handling"
    assert vtexpy.orders.get_order_changes("1172452900789-01").data == {"requests": [], "actions": []}
    assert sandbox.count(status=400) == 0
