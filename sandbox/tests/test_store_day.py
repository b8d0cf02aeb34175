"""A store's day: placing orders, moving them through VTEX's workflow (and refusing impossible moves),
the timeline of each order with its start-handling calls, and the background simulation -- through the
Python API and the admin API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.feed_client import configured, workflow_config
from vtex_sandbox import VtexSandbox
from vtex_sandbox.workflow import MoveRefused

AUTH = {"X-VTEX-API-AppKey": "sandbox-key", "X-VTEX-API-AppToken": "sandbox-token"}


@pytest.fixture
def admin(vtex_sandbox: VtexSandbox) -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def start_handling(sandbox: VtexSandbox, order_id: str) -> int:
    url = f"{sandbox.url}/api/oms/pvt/orders/{order_id}/start-handling"
    return requests.post(url, headers=AUTH, timeout=10).status_code


# -- placing and moving --------------------------------------------------------------------------------


def test_a_placed_order_waits_for_its_payment_unless_told_otherwise(
    vtex_sandbox: VtexSandbox, admin: requests.Session
) -> None:
    assert vtex_sandbox.place_order("PL-01")["status"] == "payment-pending"
    assert vtex_sandbox.place_order("PL-02", status="payment-approved")["status"] == "payment-approved"
    placed = admin.post(
        f"{vtex_sandbox.url}/_sandbox/orders",
        json={"orderId": "PL-03", "items": [{"id": "1", "name": "x", "quantity": 1, "price": 500}]},
        timeout=10,
    )
    assert placed.status_code == 201
    assert placed.json()["status"] == "payment-pending"
    assert vtex_sandbox.order("PL-03")["value"] == 500


def test_moves_follow_vtex_s_workflow(vtex_sandbox: VtexSandbox) -> None:
    vtex_sandbox.place_order("MV-01")
    assert vtex_sandbox.move_order("MV-01", "payment-approved") == {
        "orderId": "MV-01",
        "status": "payment-approved",
        "previousStatus": "payment-pending",
    }
    vtex_sandbox.move_order("MV-01", "handling")  # skipping ready-for-handling is allowed
    vtex_sandbox.move_order("MV-01", "invoiced")
    order = vtex_sandbox.order("MV-01")
    assert order["status"] == "invoiced"
    assert order["invoicedDate"] is not None


@pytest.mark.parametrize(
    ("setup", "target", "reason"),
    [
        (["canceled"], "payment-approved", "is canceled, a final status"),
        (["ready-for-handling", "invoiced"], "canceled", "is invoiced, a final status"),
        (["ready-for-handling"], "payment-approved", "cannot move back from ready-for-handling"),
        ([], "payment-pending", "is already payment-pending"),
    ],
)
def test_impossible_moves_are_refused_and_change_nothing(
    vtex_sandbox: VtexSandbox, admin: requests.Session, setup: list[str], target: str, reason: str
) -> None:
    vtex_sandbox.place_order("IM-01")
    for status in setup:
        vtex_sandbox.move_order("IM-01", status)
    before = vtex_sandbox.order("IM-01")["status"]
    with pytest.raises(MoveRefused, match=reason):
        vtex_sandbox.move_order("IM-01", target)
    response = admin.post(
        f"{vtex_sandbox.url}/_sandbox/orders/IM-01/status", json={"status": target}, timeout=10
    )
    assert response.status_code == 409
    assert reason in response.json()["error"]["message"]
    assert response.json()["error"]["code"] == "SANDBOX"
    assert vtex_sandbox.order("IM-01")["status"] == before


def test_the_admin_move_cancels_with_a_reason(vtex_sandbox: VtexSandbox, admin: requests.Session) -> None:
    vtex_sandbox.place_order("CX-01")
    response = admin.post(
        f"{vtex_sandbox.url}/_sandbox/orders/CX-01/status",
        json={"status": "canceled", "reason": "customer gave up"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json() == {"orderId": "CX-01", "status": "canceled", "previousStatus": "payment-pending"}
    assert vtex_sandbox.order("CX-01")["cancelReason"] == "customer gave up"


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("orders/NOPE-01/status", {"status": "payment-approved"}, 404, "Order Not Found"),
        ("orders/70caf3941s6df1/status", {"status": "shipped"}, 400, "unknown order status 'shipped'"),
        ("orders/70caf3941s6df1/status", {"state": "handling"}, 400, 'a move takes {"status"'),
        ("orders/70caf3941s6df1/status", {"status": "canceled", "reason": 5}, 400, "reason must be a string"),
    ],
)
def test_the_admin_move_refuses_bad_requests(
    vtex_sandbox: VtexSandbox, admin: requests.Session, path: str, body: Any, status: int, message: str
) -> None:
    response = admin.post(f"{vtex_sandbox.url}/_sandbox/{path}", json=body, timeout=10)
    assert response.status_code == status
    assert message in response.json()["error"]["message"]


def test_move_order_raises_for_unknown_orders_and_statuses(vtex_sandbox: VtexSandbox) -> None:
    with pytest.raises(KeyError):
        vtex_sandbox.move_order("NOPE-01", "handling")
    with pytest.raises(ValueError, match="unknown order status"):
        vtex_sandbox.move_order("70caf3941s6df1", "shipped")


# -- the timeline and start-handling ---------------------------------------------------------------------


def test_the_timeline_records_each_status_and_the_start_handling_calls(
    vtex_sandbox: VtexSandbox, admin: requests.Session
) -> None:
    vtex_sandbox.place_order("TL-01")
    assert start_handling(vtex_sandbox, "TL-01") == 409  # too early: counted, refused
    vtex_sandbox.move_order("TL-01", "payment-approved")
    vtex_sandbox.move_order("TL-01", "ready-for-handling")
    assert start_handling(vtex_sandbox, "TL-01") == 204
    assert start_handling(vtex_sandbox, "TL-01") == 409  # a duplicate
    timeline = vtex_sandbox.timeline("TL-01")
    assert [s["status"] for s in timeline["statuses"]] == [
        "payment-pending",
        "payment-approved",
        "ready-for-handling",
        "handling",
    ]
    stamps = [s["timestamp"] for s in timeline["statuses"]]
    assert stamps == sorted(stamps)
    assert timeline["startHandling"]["calls"] == 3
    assert timeline["startHandling"]["accepted"] == 1
    assert timeline["startHandling"]["refused"] == 2
    assert timeline["startHandling"]["firstCall"]["status"] == "payment-pending"
    assert timeline["startHandling"]["firstAccepted"]["status"] == "ready-for-handling"
    assert timeline["readyToStartHandlingSeconds"] >= 0
    shown = admin.get(f"{vtex_sandbox.url}/_sandbox/orders/TL-01", timeout=10).json()
    assert shown["timeline"] == timeline
    assert (
        admin.get(f"{vtex_sandbox.url}/_sandbox/timeline", timeout=10).json()["orders"]["TL-01"] == timeline
    )


def test_an_order_never_started_has_no_waiting_time_yet(vtex_sandbox: VtexSandbox) -> None:
    vtex_sandbox.place_order("NS-01", status="ready-for-handling")
    assert vtex_sandbox.timeline("NS-01")["readyToStartHandlingSeconds"] is None
    assert "NS-01" in vtex_sandbox.stats()["workflow"]["waitingInReadyForHandling"]


def test_stats_count_orders_started_twice_after_a_lost_answer(vtex_sandbox: VtexSandbox) -> None:
    """The client's first start-handling is applied but its answer lost; it retries and gets 409. The
    sandbox shows both calls on the order -- what a load test checks for duplicates."""
    for order_id in ("ST-01", "ST-02"):
        vtex_sandbox.place_order(order_id, status="ready-for-handling")
    vtex_sandbox.add_fault("start_handling", "drop_after_commit", count=1)
    with pytest.raises(requests.ConnectionError):
        start_handling(vtex_sandbox, "ST-01")
    assert start_handling(vtex_sandbox, "ST-01") == 409
    assert start_handling(vtex_sandbox, "ST-02") == 204
    workflow = vtex_sandbox.stats()["workflow"]
    assert workflow["startHandling"] == {
        "orders": 2,
        "calls": 3,
        "accepted": 2,
        "refused": 1,
        "ordersCalledMoreThanOnce": {"ST-01": 2},
    }
    waits = workflow["readyToStartHandlingSeconds"]
    assert waits["count"] == 2
    assert 0 <= waits["min"] <= waits["p50"] <= waits["p95"] <= waits["max"]
    assert not {"ST-01", "ST-02"} & set(workflow["waitingInReadyForHandling"])


def test_a_rate_limited_start_handling_never_reaches_oms_and_is_not_counted(
    vtex_sandbox: VtexSandbox,
) -> None:
    vtex_sandbox.place_order("RL-01", status="ready-for-handling")
    vtex_sandbox.add_fault("start_handling", "rate_limit", count=1, retry_after=0)
    assert start_handling(vtex_sandbox, "RL-01") == 429
    assert vtex_sandbox.timeline("RL-01")["startHandling"]["calls"] == 0
    assert vtex_sandbox.count("POST", "start_handling", "RL-01") == 1  # the request log has it


# -- the simulation ------------------------------------------------------------------------------------


def test_a_simulated_day_places_and_moves_every_order_in_the_background(vtex_sandbox: VtexSandbox) -> None:
    feed = configured(vtex_sandbox, workflow_config("ready-for-handling", visibility=600))
    day = vtex_sandbox.simulate(orders=30, over_seconds=0.6)
    assert day.wait(30)
    progress = day.progress()
    assert progress["state"] == "finished"
    assert (progress["placed"], progress["moved"], progress["skipped"]) == (30, 60, 0)
    assert progress["done"] == progress["actions"] == 90
    assert progress["reached"] == {"payment-pending": 30, "payment-approved": 30, "ready-for-handling": 30}
    assert len(set(day.order_ids)) == 30
    for order_id in day.order_ids:
        statuses = [s["status"] for s in vtex_sandbox.timeline(order_id)["statuses"]]
        assert statuses == ["payment-pending", "payment-approved", "ready-for-handling"]
    assert sorted(i["orderId"] for i in feed.drain()) == sorted(day.order_ids)
    feed.close()


def test_the_day_s_schedule_spreads_orders_over_the_window() -> None:
    from vtex_sandbox.simulation import DayPlan

    plan = DayPlan.parse({"orders": 300, "over_seconds": 60})
    schedule = plan.schedule()
    assert len(schedule) == 900
    assert schedule[0] == (0.0, 0, 0)
    assert schedule[-1][0] == pytest.approx(60.0)
    placements = [due for due, _, step in schedule if step == 0]
    assert placements[0] == 0.0
    assert placements[-1] == pytest.approx(60.0 - 2 * plan.step_seconds)
    # each order reaches ready-for-handling two steps after its placement
    ready = {index: due for due, index, step in schedule if step == 2}
    assert all(ready[i] == pytest.approx(placements[i] + 2 * plan.step_seconds) for i in range(300))


def test_a_skipped_move_does_not_stop_the_day(vtex_sandbox: VtexSandbox) -> None:
    # Both orders are placed at once; their payment is approved one second later: time enough to cancel
    # the first order in between (the client of a real store may cancel at any moment).
    day = vtex_sandbox.simulate(orders=2, over_seconds=2, step_seconds=1, prefix="CANC")
    first = day.order_ids[0]
    while first not in vtex_sandbox.summary():
        assert day.running
        time.sleep(0.01)
    vtex_sandbox.move_order(first, "canceled")
    assert day.wait(30)
    progress = day.progress()
    assert progress["state"] == "finished"
    assert (progress["placed"], progress["moved"], progress["skipped"]) == (2, 2, 2)
    assert progress["errors"][0].startswith(f"{first} -> payment-approved skipped: order {first} is canceled")
    assert vtex_sandbox.order(first)["status"] == "canceled"
    assert vtex_sandbox.order(day.order_ids[1])["status"] == "ready-for-handling"


def test_the_simulation_over_the_admin_api(vtex_sandbox: VtexSandbox, admin: requests.Session) -> None:
    url = f"{vtex_sandbox.url}/_sandbox/simulate"
    assert admin.get(url, timeout=10).status_code == 404  # none yet
    started = admin.post(url, json={"orders": 10, "over_seconds": 0.3, "prefix": "ADM"}, timeout=10)
    assert started.status_code == 202
    assert started.json()["state"] in ("running", "finished")
    assert started.json()["orderIds"][0] == "ADM1-00001-01"
    waited = admin.get(f"{url}?wait=30", timeout=40).json()
    assert waited["state"] == "finished"
    assert waited["reached"]["ready-for-handling"] == 10


def test_one_day_at_a_time_and_cancel(vtex_sandbox: VtexSandbox, admin: requests.Session) -> None:
    url = f"{vtex_sandbox.url}/_sandbox/simulate"
    day = vtex_sandbox.simulate(orders=5, over_seconds=3600)
    again = admin.post(url, json={"orders": 1, "over_seconds": 1}, timeout=10)
    assert again.status_code == 409
    assert "still running" in again.json()["error"]["message"]
    canceled = admin.delete(url, timeout=10)
    assert canceled.status_code == 200
    assert canceled.json()["state"] == "canceled"
    assert not day.running
    assert day.progress()["done"] < day.progress()["actions"]
    assert admin.post(url, json={"orders": 1, "over_seconds": 0}, timeout=10).status_code == 202


def test_reset_cancels_a_running_day(vtex_sandbox: VtexSandbox) -> None:
    day = vtex_sandbox.simulate(orders=5, over_seconds=3600)
    vtex_sandbox.reset()
    assert day.progress()["state"] == "canceled"
    assert not any(order_id.startswith("SIM") for order_id in vtex_sandbox.summary())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"orders": 0, "over_seconds": 10}, "orders must be a whole number from 1 to 50000"),
        ({"orders": 10}, "over_seconds must be a number of seconds"),
        ({"orders": 10, "over_seconds": -1}, "over_seconds must be a number of seconds"),
        ({"orders": 10, "over_seconds": 10, "step_seconds": 6}, "leaves no room"),
        (
            {"orders": 10, "over_seconds": 10, "statuses": ["ready-for-handling", "payment-pending"]},
            "cannot move back",
        ),
        ({"orders": 10, "over_seconds": 10, "statuses": ["shipped"]}, "unknown order status"),
        ({"orders": 10, "over_seconds": 10, "prefix": "a-b"}, "prefix must be letters and digits"),
        ({"orders": 10, "over_seconds": 10, "items": [{"id": "1"}]}, "price must be integer cents"),
        ({"orders": 10, "over_seconds": 10, "speed": 2}, "unknown simulation field(s) ['speed']"),
        ([1], "the simulation needs a JSON object"),
    ],
)
def test_a_bad_simulation_request_is_refused(
    vtex_sandbox: VtexSandbox, admin: requests.Session, body: Any, message: str
) -> None:
    response = admin.post(f"{vtex_sandbox.url}/_sandbox/simulate", json=body, timeout=10)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    assert vtex_sandbox.simulation is None


def test_a_custom_day_walks_the_given_statuses(vtex_sandbox: VtexSandbox) -> None:
    day = vtex_sandbox.simulate(
        orders=3, over_seconds=0.2, statuses=["payment-approved", "ready-for-handling", "handling"]
    )
    assert day.wait(30)
    assert {vtex_sandbox.order(o)["status"] for o in day.order_ids} == {"handling"}


# -- the feed's admin routes -------------------------------------------------------------------------------


def test_the_clock_and_feeds_admin_routes(vtex_sandbox: VtexSandbox, admin: requests.Session) -> None:
    feed = configured(vtex_sandbox, workflow_config("payment-pending", visibility=100))
    vtex_sandbox.place_order("CK-01")
    feed.read()
    assert feed.read() == []
    moved = admin.post(f"{vtex_sandbox.url}/_sandbox/clock", json={"advance": 100}, timeout=10)
    assert moved.status_code == 200
    assert [i["orderId"] for i in feed.read()] == ["CK-01"]
    feeds = admin.get(f"{vtex_sandbox.url}/_sandbox/feeds", timeout=10).json()["feeds"]
    assert feeds[vtex_sandbox.app_key]["redelivered"] == 1
    for bad in ({"advance": -1}, {"advance": "soon"}, {"forward": 3}):
        assert admin.post(f"{vtex_sandbox.url}/_sandbox/clock", json=bad, timeout=10).status_code == 400
    feed.close()
