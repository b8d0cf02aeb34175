"""Order modifications (v2) over real HTTP: allowed statuses, change requests walking their statuses on the
sandbox clock, the preview without effect, totals recalculated, retry and cancel, settings, the change
summary, and the deprecated "Register modifications" route."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from vtex_sandbox import VtexSandbox

HANDLING = "1172452900789-01"  # seed: 3105 x1 (19990), 3120 x1 (3990), 2001 x1 (2499), shipping 1590
READY = "70caf3941s6df1"  # seed: ready-for-handling
CHANGES = "/api/order-system/orders/{}/changes"
STOCKOUT = {"reason": "Headphone case out of stock", "remove": {"items": [{"id": "3120", "quantity": 1}]}}


def _changes(sandbox: VtexSandbox, order_id: str = HANDLING) -> str:
    return sandbox.url + CHANGES.format(order_id)


def _order(api: requests.Session, sandbox: VtexSandbox, order_id: str = HANDLING) -> dict[str, Any]:
    answer = api.get(f"{sandbox.url}/api/oms/pvt/orders/{order_id}")
    assert answer.status_code == 200
    return dict(answer.json())


def _detail(api: requests.Session, sandbox: VtexSandbox, request_id: str) -> dict[str, Any]:
    answer = api.get(f"{_changes(sandbox)}/{request_id}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_a_modification_is_accepted_and_applied_only_when_its_request_is_done(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    created = api.patch(_changes(vtex_sandbox), json=STOCKOUT)
    assert created.status_code == 202, created.text
    request = created.json()
    assert request["totalChangeValue"] == -3990
    assert [pair["from"]["items"][0]["id"] for pair in request["replace"]] == ["3120"]
    assert request["replace"][0]["to"]["items"] == []
    request_id = request["requestId"]

    waiting = _detail(api, vtex_sandbox, request_id)
    assert (waiting["status"], waiting["inProgress"]) == ("waiting-acknowledgement", True)
    assert _order(api, vtex_sandbox)["value"] == 28069  # nothing applied yet
    vtex_sandbox.advance_clock(1)
    assert _detail(api, vtex_sandbox, request_id)["status"] == "waiting-confirmation"
    vtex_sandbox.advance_clock(2)
    done = _detail(api, vtex_sandbox, request_id)
    assert (done["status"], done["inProgress"]) == ("done", False)

    order = _order(api, vtex_sandbox)
    assert order["value"] == 28069 - 3990
    assert [(i["id"], i["quantity"]) for i in order["items"]] == [("3105", 1), ("2001", 1)]
    assert {t["id"]: t["value"] for t in order["totals"]}["Items"] == 19990 + 2499
    assert vtex_sandbox.invoices(HANDLING) == []


def test_the_invoice_covers_what_ships_after_the_modification(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    request_id = api.patch(_changes(vtex_sandbox), json=STOCKOUT).json()["requestId"]
    vtex_sandbox.advance_clock(3)
    assert _detail(api, vtex_sandbox, request_id)["status"] == "done"
    invoice = {
        "type": "Output",
        "invoiceNumber": "NF-STOCKOUT",
        "invoiceValue": str(28069 - 3990),
        "issuanceDate": "2026-11-05T10:00:00-03:00",
        "items": [
            {"id": "3105", "price": 19990, "quantity": 1},
            {"id": "2001", "price": 2499, "quantity": 1},
        ],
    }
    answer = api.post(f"{vtex_sandbox.url}/api/oms/pvt/orders/{HANDLING}/invoice", json=invoice)
    assert answer.status_code == 200, answer.text
    assert vtex_sandbox.order(HANDLING)["status"] == "invoiced"
    removed_line = dict(invoice, invoiceNumber="NF-2", items=[{"id": "3120", "price": 3990, "quantity": 1}])
    refused = api.post(f"{vtex_sandbox.url}/api/oms/pvt/orders/{HANDLING}/invoice", json=removed_line)
    assert refused.status_code == 400


def test_the_preview_answers_the_change_and_changes_nothing(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    body = {"reason": "one more", "add": {"items": [{"id": "2001", "quantity": 2}]}}
    preview = api.post(f"{_changes(vtex_sandbox)}/preview", json=body)
    assert preview.status_code == 200, preview.text
    assert preview.json()["totalChangeValue"] == 2 * 2499
    assert "requestId" not in preview.json()
    vtex_sandbox.advance_clock(60)
    assert _order(api, vtex_sandbox)["value"] == 28069
    assert api.get(_changes(vtex_sandbox)).json() == {"requests": [], "actions": []}


def test_adding_a_sku_the_order_lacks_takes_its_price_from_the_store(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    body = {
        "reason": "replacement",
        "replace": [
            {
                "from": {"items": [{"id": "3120", "quantity": 1}]},
                "to": {"items": [{"id": "6101", "quantity": 2}]},
            }
        ],
    }
    request_id = api.patch(_changes(vtex_sandbox), json=body).json()["requestId"]
    vtex_sandbox.advance_clock(3)
    assert _detail(api, vtex_sandbox, request_id)["totalChangeValue"] == 2 * 150 - 3990
    items = [(i["id"], i["quantity"], i["sellingPrice"]) for i in _order(api, vtex_sandbox)["items"]]
    assert items == [("3105", 1, 19990), ("2001", 1, 2499), ("6101", 2, 150)]
    unknown = dict(body, replace=[{"from": {"items": []}, "to": {"items": [{"id": "NOPE", "quantity": 1}]}}])
    assert (
        "not in the store's catalog"
        in api.patch(_changes(vtex_sandbox), json=unknown).json()["error"]["message"]
    )


@pytest.mark.parametrize(
    ("order_id", "status"),
    [(READY, "ready-for-handling"), ("1172452900790-01", "canceled")],
)
def test_orders_outside_the_modifiable_statuses_are_refused(
    api: requests.Session, vtex_sandbox: VtexSandbox, order_id: str, status: str
) -> None:
    item = vtex_sandbox.order(order_id)["items"][0]["id"]
    body = {"reason": "x", "remove": {"items": [{"id": item, "quantity": 1}]}}
    answer = api.patch(_changes(vtex_sandbox, order_id), json=body)
    assert answer.status_code == 409
    assert status in answer.json()["error"]["message"]


def test_one_request_at_a_time_per_order(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    first = api.patch(_changes(vtex_sandbox), json=STOCKOUT).json()["requestId"]
    second = api.patch(_changes(vtex_sandbox), json=STOCKOUT)
    assert second.status_code == 409
    assert first in second.json()["error"]["message"]
    vtex_sandbox.advance_clock(3)
    again = {"reason": "less", "remove": {"items": [{"id": "2001", "quantity": 1}]}}
    assert api.patch(_changes(vtex_sandbox), json=again).status_code == 202


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"remove": {"items": [{"id": "3120", "quantity": 1}]}}, "reason is required"),
        ({"reason": "nothing"}, "changes nothing"),
        ({"reason": "x", "remove": {"items": [{"id": "3120", "quantity": 2}]}}, "has 1 unit(s) left"),
        ({"reason": "x", "remove": {"items": [{"id": "3120", "quantity": 0}]}}, "quantity is required"),
        ({"reason": "x", "remove": {"items": [{"id": "999", "quantity": 1}]}}, "is not an item of order"),
        (
            {
                "reason": "x",
                "remove": {"items": [{"id": i, "quantity": 1} for i in ("3105", "3120", "2001")]},
            },
            "without items: cancel the order instead",
        ),
    ],
)
def test_a_modification_breaking_the_rules_is_refused_naming_why(
    api: requests.Session, vtex_sandbox: VtexSandbox, body: dict[str, Any], named: str
) -> None:
    answer = api.patch(_changes(vtex_sandbox), json=body)
    assert answer.status_code == 400
    assert named in answer.json()["error"]["message"]


def test_property_names_in_any_case_are_understood(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    body = {"Reason": "stockout", "Remove": {"Items": [{"ID": "3120", "Quantity": 1}]}}
    assert api.patch(_changes(vtex_sandbox), json=body).status_code == 202


def test_a_request_stopped_on_an_error_is_retried_once_or_canceled(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    request_id = api.patch(_changes(vtex_sandbox), json=STOCKOUT).json()["requestId"]
    vtex_sandbox.fail_changes(HANDLING)
    vtex_sandbox.advance_clock(3)
    stopped = _detail(api, vtex_sandbox, request_id)
    assert (stopped["status"], stopped["inProgress"]) == ("error", False)
    assert _order(api, vtex_sandbox)["value"] == 28069
    # Cancel refuses what is not stopped on an error; retry runs the same request again.
    retried = api.post(f"{_changes(vtex_sandbox)}/{request_id}/retry", json={"reason": "again"})
    assert retried.status_code == 204
    assert api.post(f"{_changes(vtex_sandbox)}/{request_id}/retry").status_code == 204  # in progress: no-op
    vtex_sandbox.advance_clock(3)
    assert _detail(api, vtex_sandbox, request_id)["status"] == "done"
    assert _order(api, vtex_sandbox)["value"] == 28069 - 3990
    assert len(api.get(_changes(vtex_sandbox)).json()["requests"]) == 1
    assert api.post(f"{_changes(vtex_sandbox)}/{request_id}/cancel", json={"reason": "x"}).status_code == 409
    assert api.post(f"{_changes(vtex_sandbox)}/{request_id}/retry").status_code == 409


def test_a_stopped_request_can_be_canceled_and_then_changes_nothing(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    request_id = api.patch(_changes(vtex_sandbox), json=STOCKOUT).json()["requestId"]
    vtex_sandbox.fail_changes(HANDLING)
    vtex_sandbox.advance_clock(3)
    assert api.post(f"{_changes(vtex_sandbox)}/{request_id}/cancel", json={"reason": "no"}).status_code == 200
    assert api.post(f"{_changes(vtex_sandbox)}/{request_id}/cancel", json={"reason": "no"}).status_code == 200
    vtex_sandbox.advance_clock(10)
    assert _detail(api, vtex_sandbox, request_id)["status"] == "canceled"
    assert _order(api, vtex_sandbox)["value"] == 28069
    assert api.get(f"{_changes(vtex_sandbox)}/not-a-request").status_code == 404


def test_a_request_whose_order_was_canceled_meanwhile_stops_on_an_error(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    request_id = api.patch(_changes(vtex_sandbox), json=STOCKOUT).json()["requestId"]
    assert api.post(f"{vtex_sandbox.url}/api/oms/pvt/orders/{HANDLING}/cancel").status_code == 200
    vtex_sandbox.advance_clock(3)
    assert _detail(api, vtex_sandbox, request_id)["status"] == "error"
    assert _order(api, vtex_sandbox)["value"] == 28069


def test_the_change_summary_shows_the_original_items_and_what_changed(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    api.patch(_changes(vtex_sandbox), json=STOCKOUT)
    vtex_sandbox.advance_clock(3)
    summary = api.get(f"{vtex_sandbox.url}/api/orders/pvt/document/{HANDLING}/change-summary").json()
    assert [i["id"] for i in summary["original"]] == ["3105", "3120", "2001"]
    assert [(i["id"], i["quantity"]) for i in summary["removed"]] == [("3120", 1)]
    assert summary["added"] == []
    assert summary["totalChangeValueAggregated"] == -3990


def test_settings_are_read_updated_and_the_api_switch_is_obeyed(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    settings_url = f"{vtex_sandbox.url}/api/order-system/orders/changes/settings"
    assert api.get(settings_url).json()["rolloutConfiguration"]["enableApi"] is True
    updated = api.put(settings_url, json={"rolloutConfiguration": {"enableApi": False}})
    assert updated.status_code == 200
    assert updated.json()["rolloutConfiguration"] == {
        "usingDefaultBehavior": False,
        "enableApi": False,
        "enableAdminOrders": {"enabledWorkspaces": ["*"]},
        "enableMyOrders": {"enabledWorkspaces": ["*"]},
    }
    assert api.patch(_changes(vtex_sandbox), json=STOCKOUT).status_code == 403
    assert (
        api.put(
            settings_url, json={"pipelineConfiguration": {"enableTaxHubRecalculation": "yes"}}
        ).status_code
        == 400
    )


def test_the_legacy_register_modifications_route_applies_once_per_request_id(
    api: requests.Session, vtex_sandbox: VtexSandbox
) -> None:
    body = {
        "requestId": "erp-change-1",
        "reason": "Stock shortage",
        "discountValue": 0,
        "incrementValue": 0,
        "itemsRemoved": [{"id": "3120", "price": 3990, "quantity": 1}],
    }
    url = f"{vtex_sandbox.url}/api/oms/pvt/orders/{HANDLING}/changes"
    first = api.post(url, json=body)
    assert first.status_code == 200, first.text
    assert first.headers["Deprecation"] == "@1772323200"
    assert "successor-version" in first.headers["Link"]
    again = api.post(url, json=body)
    assert again.json()["receipt"] == first.json()["receipt"]
    order = _order(api, vtex_sandbox)
    assert order["value"] == 28069 - 3990
    assert order["changesAttachment"]["changesData"][0]["itemsRemoved"][0]["id"] == "3120"


def test_feed_v2_is_gone_and_names_feed_v3(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    answer = api.get(f"{vtex_sandbox.url}/api/oms/pvt/feed/orders/status", params={"maxLot": 5})
    assert answer.status_code == 410
    assert "Feed v3" in answer.json()["error"]["message"]


@pytest.mark.vtex_sandbox(data_architecture="pii")
def test_a_pii_account_serves_modifications_too(api: requests.Session, vtex_sandbox: VtexSandbox) -> None:
    assert api.patch(_changes(vtex_sandbox), json=STOCKOUT).status_code == 202
    assert (
        api.post(f"{vtex_sandbox.url}/api/oms/pvt/orders/{HANDLING}/interactions", json={}).status_code == 404
    )
