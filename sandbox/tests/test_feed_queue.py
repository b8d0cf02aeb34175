"""The feed's queue over real HTTP: what a read hands out, the visibility timeout and redelivery with new
handles, commits (idempotent; superseded handles), retention, concurrent readers, faults.

Timers run on the sandbox's clock: ``advance_clock`` lets a visibility timeout or a retention period pass
at once, so no test waits for them (one test lets a real second pass, to prove the real clock works too).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from tests.feed_client import FeedClient, configured, workflow_config
from vtex_sandbox import VtexSandbox
from vtex_sandbox.clock import SandboxClock
from vtex_sandbox.feed import FeedHub, parse_feed_config
from vtex_sandbox.feed.queue import MAX_DELIVERIES
from vtex_sandbox.model import OrderChange

VTEX_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z")
EVENT_FIELDS = ["eventId", "handle", "domain", "state", "lastState", "orderId", "lastChange", "currentChange"]


@pytest.fixture
def feed(vtex_sandbox: VtexSandbox) -> Iterator[FeedClient]:
    client = configured(vtex_sandbox, workflow_config("payment-pending", visibility=30, retention=3600))
    yield client
    client.close()


def place(sandbox: VtexSandbox, count: int, prefix: str = "F") -> list[str]:
    ids = [f"{prefix}{i:03d}-01" for i in range(count)]
    for order_id in ids:
        sandbox.place_order(order_id)
    return ids


# -- reading ------------------------------------------------------------------------------------------


def test_an_event_has_exactly_vtex_s_fields(vtex_sandbox: VtexSandbox, feed: FeedClient) -> None:
    vtex_sandbox.place_order("E-01")
    (item,) = feed.read()
    assert list(item) == EVENT_FIELDS
    assert re.fullmatch(r"[0-9A-F]{32}", item["eventId"])
    assert item["domain"] == "Fulfillment"
    assert (item["orderId"], item["lastState"], item["state"]) == ("E-01", "order-created", "payment-pending")
    assert VTEX_TIME.fullmatch(item["lastChange"])
    assert VTEX_TIME.fullmatch(item["currentChange"])
    assert item["currentChange"] == vtex_sandbox.order("E-01")["lastChange"]


def test_maxlot_hands_out_at_most_that_many_oldest_first(vtex_sandbox: VtexSandbox, feed: FeedClient) -> None:
    ids = place(vtex_sandbox, 13)
    first = feed.read(4)
    rest = feed.read(10)
    assert [i["orderId"] for i in first] == ids[:4]
    assert [i["orderId"] for i in rest] == ids[4:]
    assert feed.read(10) == []  # everything is in flight


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?maxlot=",
        "?maxlot=0",
        "?maxlot=11",
        "?maxlot=-1",
        "?maxlot=2.5",
        "?maxlot=ten",
        "?maxlot=1&maxlot=2",
        "?maxlot=01",
        "?maxLot=5",
    ],
)
def test_maxlot_is_required_and_from_1_to_10(vtex_sandbox: VtexSandbox, feed: FeedClient, query: str) -> None:
    vtex_sandbox.place_order("M-01")
    response = feed.get(query)
    assert response.status_code == 400
    assert "maxlot" in response.json()["error"]["message"]
    assert feed.read(10) != []  # the refused read handed nothing out


# -- visibility timeout and handles --------------------------------------------------------------------


def test_an_uncommitted_event_comes_back_after_the_visibility_timeout_with_a_new_handle(
    vtex_sandbox: VtexSandbox, feed: FeedClient
) -> None:
    vtex_sandbox.place_order("V-01")
    (first,) = feed.read()
    vtex_sandbox.advance_clock(29)
    assert feed.read() == []
    vtex_sandbox.advance_clock(1)
    (again,) = feed.read()
    assert again["eventId"] == first["eventId"]
    assert again["handle"] != first["handle"]
    assert {k: v for k, v in again.items() if k != "handle"} == {
        k: v for k, v in first.items() if k != "handle"
    }


def test_a_superseded_handle_commits_nothing_and_the_current_one_does(
    vtex_sandbox: VtexSandbox, feed: FeedClient
) -> None:
    vtex_sandbox.place_order("H-01")
    (first,) = feed.read()
    vtex_sandbox.advance_clock(30)
    (second,) = feed.read()
    assert feed.commit(first["handle"]).status_code == 200  # not an error...
    vtex_sandbox.advance_clock(30)
    (third,) = feed.read()  # ...but the event was not removed
    assert third["eventId"] == first["eventId"]
    assert feed.commit(second["handle"]).status_code == 200  # superseded by the third hand-out too
    assert feed.commit(third["handle"]).status_code == 200
    vtex_sandbox.advance_clock(30)
    assert feed.read() == []
    counters = vtex_sandbox.stats()["feeds"][vtex_sandbox.app_key]
    assert (counters["committed"], counters["commitsWithoutEffect"], counters["redelivered"]) == (1, 2, 2)


def test_a_late_commit_still_removes_the_event_if_nobody_took_it_since(
    vtex_sandbox: VtexSandbox, feed: FeedClient
) -> None:
    vtex_sandbox.place_order("L-01")
    (item,) = feed.read()
    vtex_sandbox.advance_clock(60)  # visible again, but not handed out again
    assert feed.commit(item["handle"]).status_code == 200
    assert feed.read() == []


def test_the_visibility_timeout_runs_on_the_real_clock_too(vtex_sandbox: VtexSandbox) -> None:
    client = configured(vtex_sandbox, workflow_config("payment-pending", visibility=1))
    vtex_sandbox.place_order("T-01")
    (first,) = client.read()
    deadline = time.monotonic() + 30
    again: list[dict[str, Any]] = []
    while not again and time.monotonic() < deadline:
        time.sleep(0.1)
        again = client.read()
    assert [i["eventId"] for i in again] == [first["eventId"]]
    client.close()


def test_zero_visibility_hands_an_event_out_again_at_once(vtex_sandbox: VtexSandbox) -> None:
    client = configured(vtex_sandbox, workflow_config("payment-pending", visibility=0))
    vtex_sandbox.place_order("Z-01")
    assert client.read()[0]["eventId"] == client.read()[0]["eventId"]
    client.close()


def test_an_event_handed_out_too_often_without_a_commit_is_dropped(
    vtex_sandbox: VtexSandbox, feed: FeedClient
) -> None:
    vtex_sandbox.place_order("X-01")
    for _ in range(MAX_DELIVERIES):
        assert len(feed.read()) == 1
        vtex_sandbox.advance_clock(30)
    assert feed.read() == []
    assert vtex_sandbox.stats()["feeds"][vtex_sandbox.app_key]["droppedAfterMaxDeliveries"] == 1


# -- commits ------------------------------------------------------------------------------------------


def test_commit_is_idempotent_and_unknown_handles_are_no_error(
    vtex_sandbox: VtexSandbox, feed: FeedClient
) -> None:
    place(vtex_sandbox, 3)
    items = feed.read()
    handles = [i["handle"] for i in items]
    for _ in range(2):
        response = feed.commit(*handles[:2], "never-handed-out")
        assert response.status_code == 200
        assert response.content == b""
    assert feed.config().json()["quantity"] == 1
    vtex_sandbox.advance_clock(30)
    assert [i["orderId"] for i in feed.read()] == [items[2]["orderId"]]
    assert feed.commit().status_code == 200  # an empty list commits nothing


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({}, "handles is required"),
        ({"handles": "abc"}, "handles is required"),
        ({"handles": [1]}, "handles[0] must be a handle"),
        ({"handles": [""]}, "handles[0] must be a handle"),
        ({"handles": [], "eventIds": []}, "eventIds is not a field of a feed commit"),
        (["abc"], "must be a JSON object"),
    ],
)
def test_a_commit_body_follows_its_contract(feed: FeedClient, body: Any, named: str) -> None:
    response = feed.session.post(feed.base + "/api/orders/feed", json=body, timeout=10)
    assert response.status_code == 400
    assert named in response.json()["error"]["message"]


def test_a_commit_without_a_body_is_refused(feed: FeedClient) -> None:
    response = feed.session.post(feed.base + "/api/orders/feed", timeout=10)
    assert response.status_code == 400


# -- retention ----------------------------------------------------------------------------------------


def test_events_older_than_the_retention_period_disappear_handed_out_or_not(
    vtex_sandbox: VtexSandbox,
) -> None:
    client = configured(vtex_sandbox, workflow_config("payment-pending", visibility=30, retention=120))
    vtex_sandbox.place_order("OLD-01")
    vtex_sandbox.place_order("OLD-02")
    client.read(1)  # OLD-01 in flight
    vtex_sandbox.advance_clock(100)
    vtex_sandbox.place_order("NEW-01")
    vtex_sandbox.advance_clock(20)  # the first two are 120 s old now, NEW-01 is 20 s old
    assert [i["orderId"] for i in client.read()] == ["NEW-01"]
    status = client.config().json()
    assert status["quantity"] == 1
    assert 20 <= status["approximateAgeOfOldestMessageInSeconds"] < 80
    assert vtex_sandbox.stats()["feeds"][vtex_sandbox.app_key]["expired"] == 2
    client.close()


# -- concurrency --------------------------------------------------------------------------------------


def test_concurrent_readers_never_get_one_visible_event_twice(vtex_sandbox: VtexSandbox) -> None:
    """Eight readers, each with its own connection, read until the feed is empty (without committing):
    within the visibility period every event is handed out exactly once."""
    client = configured(vtex_sandbox, workflow_config("payment-pending", visibility=3600))
    ids = place(vtex_sandbox, 240)
    received: list[list[dict[str, Any]]] = [[] for _ in range(8)]
    start = threading.Barrier(8)

    def reader(slot: int) -> None:
        own = FeedClient(vtex_sandbox)
        start.wait()
        while items := own.read(10):
            received[slot].extend(items)
        own.close()

    threads = [threading.Thread(target=reader, args=(slot,)) for slot in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    events = [item for batch in received for item in batch]
    assert len(events) == 240
    assert len({e["eventId"] for e in events}) == 240
    assert sorted(e["orderId"] for e in events) == ids
    assert sum(1 for batch in received if batch) >= 2  # really concurrent, not one reader taking all
    counters = vtex_sandbox.stats()["feeds"][vtex_sandbox.app_key]
    assert (counters["handedOut"], counters["redelivered"], counters["inFlight"]) == (240, 0, 240)
    client.close()


def test_readers_that_commit_while_orders_change_see_every_event_once(vtex_sandbox: VtexSandbox) -> None:
    """Orders change (a simulated day) while four readers read and commit: each order's arrival in
    ready-for-handling is received exactly once, however the changes and reads interleave."""
    client = configured(vtex_sandbox, workflow_config("ready-for-handling", visibility=3600))
    day = vtex_sandbox.simulate(orders=60, over_seconds=0.5)
    received: list[dict[str, Any]] = []
    lock = threading.Lock()

    def reader() -> None:
        own = FeedClient(vtex_sandbox)
        while day.running or own.config().json()["quantity"]:
            items = own.read(3)
            if not items:
                time.sleep(0.01)  # the others hold what is left; let them commit it
                continue
            assert own.commit(*(i["handle"] for i in items)).status_code == 200
            with lock:
                received.extend(items)
        own.close()

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert day.wait(0)
    assert sorted(i["orderId"] for i in received) == sorted(day.order_ids)
    assert {i["state"] for i in received} == {"ready-for-handling"}
    assert {i["lastState"] for i in received} == {"payment-approved"}
    client.close()


# -- one feed per AppKey --------------------------------------------------------------------------------


def test_each_appkey_has_its_own_configuration_and_queue() -> None:
    """The sandbox authenticates one key pair, so two integrations are played at the hub that the HTTP
    routes use: a commit through one key never removes the other's event."""
    hub = FeedHub(SandboxClock())
    erp = parse_feed_config(workflow_config("ready-for-handling"), {})
    wms = parse_feed_config(workflow_config("ready-for-handling", "handling"), {})
    hub.configure("erp-key", erp)
    hub.configure("wms-key", wms)
    for last, state in (("payment-approved", "ready-for-handling"), ("ready-for-handling", "handling")):
        hub.publish(OrderChange("O-01", last, state, "t0", "t1", dict))
    erp_items = hub.receive("erp-key", 10)
    wms_items = hub.receive("wms-key", 10)
    assert [i["state"] for i in erp_items] == ["ready-for-handling"]
    assert [i["state"] for i in wms_items] == ["ready-for-handling", "handling"]
    assert hub.commit("wms-key", [erp_items[0]["handle"]]) == 0  # another key's handle: nothing
    assert hub.commit("erp-key", [erp_items[0]["handle"]]) == 1
    assert hub.settings_view("wms-key")["quantity"] == 2


# -- faults on the feed routes --------------------------------------------------------------------------


def test_a_read_whose_answer_is_lost_hands_its_events_out_again_after_the_timeout(
    vtex_sandbox: VtexSandbox, feed: FeedClient
) -> None:
    vtex_sandbox.place_order("LOST-01")
    vtex_sandbox.add_fault("feed", "drop_after_commit", count=1)
    with pytest.raises(requests.ConnectionError):
        feed.get("?maxlot=10")
    assert feed.read() == []  # the lost read did hand the event out
    vtex_sandbox.advance_clock(30)
    assert [i["orderId"] for i in feed.read()] == ["LOST-01"]


def test_a_commit_that_fails_after_it_was_applied_removed_the_events(
    vtex_sandbox: VtexSandbox, feed: FeedClient
) -> None:
    vtex_sandbox.place_order("EAC-01")
    (item,) = feed.read()
    vtex_sandbox.add_fault("feed_commit", "error_after_commit", status=503, count=1)
    assert feed.commit(item["handle"]).status_code == 503
    assert feed.commit(item["handle"]).status_code == 200  # the client's retry is harmless
    vtex_sandbox.advance_clock(30)
    assert feed.read() == []


@pytest.mark.parametrize("route", ["feed", "feed_commit", "feed_config", "jsonata"])
def test_rate_limits_on_each_feed_route_answer_429_and_change_nothing(
    vtex_sandbox: VtexSandbox, feed: FeedClient, route: str
) -> None:
    vtex_sandbox.place_order("RL-01")
    vtex_sandbox.add_fault(route, "rate_limit", count=1, retry_after=7)
    calls: dict[str, Callable[[], requests.Response]] = {
        "feed": lambda: feed.get("?maxlot=10"),
        "feed_commit": lambda: feed.commit("x"),
        "feed_config": feed.config,
        "jsonata": lambda: feed.session.post(
            feed.base + "/api/orders/expressions/jsonata",
            json={"Expression": "1", "Document": "{}"},
            timeout=10,
        ),
    }
    limited = calls[route]()
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    assert calls[route]().status_code == 200
    assert [i["orderId"] for i in feed.read()] == (["RL-01"] if route != "feed" else [])
    assert vtex_sandbox.count(route=route, status=429) == 1


def test_the_config_route_s_faults_cover_its_three_methods(
    vtex_sandbox: VtexSandbox, feed: FeedClient
) -> None:
    vtex_sandbox.add_fault("feed_config", "status", status=503, count=3)
    assert [
        r.status_code
        for r in (feed.config(), feed.configure(workflow_config("canceled")), feed.delete_config())
    ] == [503, 503, 503]
    assert feed.config().json()["filter"]["status"] == ["payment-pending"]  # unchanged


def test_the_request_log_names_the_feed_routes(vtex_sandbox: VtexSandbox, feed: FeedClient) -> None:
    feed.read()
    feed.commit("x")
    feed.config()
    routes = [(e["method"], e["route"]) for e in vtex_sandbox.requests]
    assert routes == [
        ("POST", "feed_config"),
        ("GET", "feed"),
        ("POST", "feed_commit"),
        ("GET", "feed_config"),
    ]
