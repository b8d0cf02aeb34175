"""Several VTEX accounts in one sandbox: each with its own keys, data architecture, orders, feed, log and
request budget, served by one server; single-account use is the sandbox's own account, unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from tests.feed_client import workflow_config
from vtex_sandbox import VtexSandbox

ORDER = {"orderId": "FR-1001-01", "items": [{"id": "1", "name": "Shoe", "quantity": 1, "price": 1000}]}


@pytest.fixture
def sandbox() -> Iterator[VtexSandbox]:
    with VtexSandbox(max_requests_per_second=None) as main:
        yield main


def session(account: VtexSandbox) -> requests.Session:
    api = requests.Session()
    api.headers.update({"X-VTEX-API-AppKey": account.app_key, "X-VTEX-API-AppToken": account.app_token})
    return api


def test_each_account_answers_under_its_own_url_with_its_own_keys_and_orders(sandbox: VtexSandbox) -> None:
    franchise = sandbox.add_account("franchise", app_key="fr-key", app_token="fr-token", orders=[ORDER])
    pii = sandbox.add_account("pii-store", app_key="pii-key", app_token="pii-token", data_architecture="pii")
    assert franchise.url == f"{sandbox.url}/_account/franchise"
    own = session(franchise).get(f"{franchise.url}/api/oms/pvt/orders/FR-1001-01")
    assert own.status_code == 200
    assert own.json()["orderId"] == "FR-1001-01"
    # The main account does not hold the franchise's order, and the franchise does not hold the seed.
    assert session(sandbox).get(f"{sandbox.url}/api/oms/pvt/orders/FR-1001-01").status_code == 404
    assert session(franchise).get(f"{franchise.url}/api/oms/pvt/orders/1172452900788-01").status_code == 404
    # Another account's keys are refused, as VTEX refuses them on another account's host.
    assert session(sandbox).get(f"{franchise.url}/api/oms/pvt/orders/FR-1001-01").status_code == 401
    assert session(franchise).get(f"{sandbox.url}/api/oms/pvt/orders/1172452900788-01").status_code == 401
    # The PII account serves the PII routes only.
    assert session(pii).get(f"{pii.url}/api/oms/pvt/orders/x").status_code == 404
    assert session(pii).get(f"{pii.url}/api/orders/pvt/document/x").status_code == 404  # no such order
    # Each account logs its own requests, with the path its own host would see.
    assert [entry["path"] for entry in franchise.log.entries()] == [
        "/api/oms/pvt/orders/FR-1001-01",
        "/api/oms/pvt/orders/1172452900788-01",
        "/api/oms/pvt/orders/FR-1001-01",
    ]
    assert requests.get(f"{sandbox.url}/_account/nobody/api/oms/pvt/orders/x").status_code == 404


def test_each_account_has_its_own_feed_and_admin(sandbox: VtexSandbox) -> None:
    franchise = sandbox.add_account("franchise", app_key="fr-key", app_token="fr-token", orders=[ORDER])
    api = session(franchise)
    config = workflow_config("handling")
    assert api.post(f"{franchise.url}/api/orders/feed/config", json=config).status_code == 200
    franchise.move_order("FR-1001-01", "handling")
    items = api.get(f"{franchise.url}/api/orders/feed?maxlot=10").json()
    assert [item["orderId"] for item in items] == ["FR-1001-01"]
    assert (
        session(sandbox).get(f"{sandbox.url}/api/orders/feed?maxlot=10").status_code == 404
    )  # no feed configured
    assert requests.get(f"{franchise.url}/_sandbox/stats").json()["feeds"]


def test_an_account_answers_429_above_its_budget_and_the_others_do_not(sandbox: VtexSandbox) -> None:
    limited = sandbox.add_account(
        "limited", app_key="l-key", app_token="l-token", orders=[ORDER], max_requests_per_second=3
    )
    statuses = [
        session(limited).get(f"{limited.url}/api/oms/pvt/orders/FR-1001-01").status_code for _ in range(5)
    ]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3:] == [429, 429]
    refused = session(limited).get(f"{limited.url}/api/oms/pvt/orders/FR-1001-01")
    assert refused.headers["Retry-After"] == str(sandbox.retry_after_seconds)
    assert limited.stats()["budget"] == {"perSecond": 3, "refused": 3}
    for _ in range(5):  # the main account has no budget: never throttled by the other's
        assert session(sandbox).get(f"{sandbox.url}/api/oms/pvt/orders/1172452900788-01").status_code == 200


def test_airflow_connections_name_each_account() -> None:
    with VtexSandbox() as main:
        other = main.add_account("store-br", app_key="k", app_token="t", data_architecture="pii")
        connection = json.loads(other.airflow_connection())
        assert connection["host"] == "store-br"
        assert connection["login"] == "k"
        assert connection["extra"] == {"base_url": other.url, "data_architecture": "pii"}
        assert json.loads(main.airflow_connection())["host"] == "sandbox"


def test_account_names_are_host_labels_and_unique(sandbox: VtexSandbox) -> None:
    sandbox.add_account("a", app_key="k", app_token="t")
    for bad in ("a", "sandbox", "x/y", ""):
        with pytest.raises(ValueError, match="account name"):
            sandbox.add_account(bad, app_key="k", app_token="t")


def test_a_franchise_order_names_the_main_accounts_order_it_fulfils(sandbox: VtexSandbox) -> None:
    """A franchise account sells as a white-label seller of the main account: its order carries the
    marketplace's order id and origin Fulfillment; the main account's order names the seller's order."""
    sandbox.add_order(
        "MKT-1001-01",
        [{"id": "1", "name": "Shoe", "quantity": 1, "price": 1000}],
        sellerOrderId="FRA-1001-01",
    )
    franchise = sandbox.add_account(
        "franchise",
        app_key="fr-key",
        app_token="fr-token",
        orders=[{**ORDER, "orderId": "FRA-1001-01", "marketplaceOrderId": "MKT-1001-01"}],
    )
    main_order = session(sandbox).get(f"{sandbox.url}/api/oms/pvt/orders/MKT-1001-01").json()
    seller_order = session(franchise).get(f"{franchise.url}/api/oms/pvt/orders/FRA-1001-01").json()
    assert (main_order["sellerOrderId"], main_order["origin"]) == ("FRA-1001-01", "Marketplace")
    assert (seller_order["marketplaceOrderId"], seller_order["origin"]) == ("MKT-1001-01", "Fulfillment")
