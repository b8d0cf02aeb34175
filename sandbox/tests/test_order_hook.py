"""The sandbox plays VTEX's order hook: configuration routes, the ping before saving (and refusing a
configuration whose ping fails), one notification per change that passes the filter, retries with growing
delays, duplicates on request, and deletion after 3 idle days (with the sandbox's clock)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from tests.feed_client import workflow_config
from vtex_sandbox import VtexSandbox
from vtex_sandbox.order_hook import IDLE_SECONDS

CONFIG_PATH = "/api/orders/hook/config"


class Receiver:
    """A local hook URL: records each call and answers the status :attr:`answers` gives (200 by default)."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], Any]] = []
        self.answers: Callable[[Any], int] = lambda body: 200
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    receiver.calls.append((dict(self.headers), body))
                self.send_response(receiver.answers(body))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/vtex/order-hook/vtex_default"

    def notifications(self) -> list[dict[str, Any]]:
        with self.lock:
            return [body for _, body in self.calls if body != {"hookConfig": "ping"}]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


def config(url: str, *statuses: str) -> dict[str, Any]:
    return {
        "filter": {"type": "FromWorkflow", "status": list(statuses or ["ready-for-handling"])},
        "hook": {"url": url, "headers": {"X-Vtex-Hook-Secret": "s" * 32}},
    }


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_saving_pings_the_url_with_the_headers_and_reads_back(
    vtex_sandbox: VtexSandbox, api: requests.Session, receiver: Receiver
) -> None:
    assert api.get(vtex_sandbox.url + CONFIG_PATH).status_code == 404
    assert api.post(vtex_sandbox.url + CONFIG_PATH, json=config(receiver.url)).status_code == 200
    headers, body = receiver.calls[0]
    assert body == {"hookConfig": "ping"}
    assert headers["X-Vtex-Hook-Secret"] == "s" * 32
    assert api.get(vtex_sandbox.url + CONFIG_PATH).json() == config(receiver.url)
    assert api.delete(vtex_sandbox.url + CONFIG_PATH).status_code == 200
    assert api.get(vtex_sandbox.url + CONFIG_PATH).status_code == 404


def test_a_configuration_whose_ping_fails_is_refused(
    vtex_sandbox: VtexSandbox, api: requests.Session, receiver: Receiver
) -> None:
    receiver.answers = lambda body: 401
    answer = api.post(vtex_sandbox.url + CONFIG_PATH, json=config(receiver.url))
    assert answer.status_code == 400
    assert "answered the ping" in answer.json()["error"]["message"]
    assert api.get(vtex_sandbox.url + CONFIG_PATH).status_code == 404
    unreachable = config("http://127.0.0.1:9/nothing")
    assert api.post(vtex_sandbox.url + CONFIG_PATH, json=unreachable).status_code == 400


def test_a_bad_configuration_is_refused_naming_the_field(
    vtex_sandbox: VtexSandbox, api: requests.Session
) -> None:
    answer = api.post(vtex_sandbox.url + CONFIG_PATH, json={"filter": {"type": "FromWorkflow"}, "hook": {}})
    assert answer.status_code == 400
    answer = api.post(vtex_sandbox.url + CONFIG_PATH, json=config("ftp://x"))
    assert "hook.url" in answer.json()["error"]["message"]


def test_each_change_that_passes_the_filter_is_pushed_once(
    vtex_sandbox: VtexSandbox, api: requests.Session, receiver: Receiver
) -> None:
    api.post(vtex_sandbox.url + CONFIG_PATH, json=config(receiver.url)).raise_for_status()
    vtex_sandbox.configure_feed(workflow_config("ready-for-handling"))
    vtex_sandbox.place_order("H-1", status="payment-approved")
    vtex_sandbox.move_order("H-1", "ready-for-handling")
    vtex_sandbox.move_order("H-1", "handling")  # not in the filter
    wait_for(lambda: vtex_sandbox.hooks.idle() and len(receiver.notifications()) >= 1)
    (notification,) = receiver.notifications()
    assert notification["OrderId"] == "H-1"
    assert notification["State"] == "ready-for-handling"
    assert notification["Origin"] == {"Account": "sandbox", "Key": vtex_sandbox.app_key}
    # the hook's CurrentChange is the feed's currentChange of the same change: one key for both ways
    (item,) = api.get(vtex_sandbox.url + "/api/orders/feed?maxlot=10").json()
    assert (item["orderId"], item["state"], item["currentChange"]) == (
        "H-1",
        "ready-for-handling",
        notification["CurrentChange"],
    )
    assert set(notification) == {
        "Domain",
        "OrderId",
        "State",
        "LastState",
        "LastChange",
        "CurrentChange",
        "Origin",
    }


def test_failed_deliveries_are_retried_with_growing_delays(
    vtex_sandbox: VtexSandbox, api: requests.Session, receiver: Receiver
) -> None:
    api.post(vtex_sandbox.url + CONFIG_PATH, json=config(receiver.url)).raise_for_status()
    receiver.answers = lambda body: 503
    vtex_sandbox.place_order("H-2", status="payment-approved")
    vtex_sandbox.move_order("H-2", "ready-for-handling")
    wait_for(lambda: len(receiver.notifications()) == 1)
    time.sleep(0.2)
    assert len(receiver.notifications()) == 1  # the retry waits its delay (1 s of the sandbox's clock)
    vtex_sandbox.advance_clock(1)
    wait_for(lambda: len(receiver.notifications()) == 2)
    vtex_sandbox.advance_clock(1)  # the second delay is 2 s: not due yet
    time.sleep(0.2)
    assert len(receiver.notifications()) == 2
    receiver.answers = lambda body: 200
    vtex_sandbox.advance_clock(1)
    wait_for(lambda: vtex_sandbox.hooks.idle() and len(receiver.notifications()) == 3)
    counters = vtex_sandbox.hooks.stats()["hooks"][vtex_sandbox.app_key]
    assert (counters["failed"], counters["retried"], counters["delivered"]) == (2, 2, 1)


def test_duplicates_on_request(vtex_sandbox: VtexSandbox, api: requests.Session, receiver: Receiver) -> None:
    api.post(vtex_sandbox.url + CONFIG_PATH, json=config(receiver.url)).raise_for_status()
    vtex_sandbox.hooks.duplicate_every = 2
    for number in range(4):
        vtex_sandbox.place_order(f"D-{number}", status="payment-approved")
        vtex_sandbox.move_order(f"D-{number}", "ready-for-handling")
    wait_for(lambda: vtex_sandbox.hooks.idle() and len(receiver.notifications()) == 6)
    orders = sorted(body["OrderId"] for body in receiver.notifications())
    assert orders == ["D-0", "D-1", "D-1", "D-2", "D-3", "D-3"]


def test_a_hook_idle_for_3_days_is_deleted(
    vtex_sandbox: VtexSandbox, api: requests.Session, receiver: Receiver
) -> None:
    api.post(vtex_sandbox.url + CONFIG_PATH, json=config(receiver.url)).raise_for_status()
    vtex_sandbox.advance_clock(IDLE_SECONDS - 60)
    vtex_sandbox.place_order("I-1", status="payment-approved")
    vtex_sandbox.move_order("I-1", "ready-for-handling")  # a notification: idle again from now
    wait_for(lambda: vtex_sandbox.hooks.idle() and len(receiver.notifications()) == 1)
    vtex_sandbox.advance_clock(IDLE_SECONDS - 60)
    assert api.get(vtex_sandbox.url + CONFIG_PATH).status_code == 200
    vtex_sandbox.advance_clock(60)
    assert api.get(vtex_sandbox.url + CONFIG_PATH).status_code == 404
    assert vtex_sandbox.hooks.stats()["deletedIdle"] == 1


def test_saving_needs_the_admin_resource(receiver: Receiver) -> None:
    with VtexSandbox(permissions={"Feed v3 and Hook view only"}) as sandbox:
        headers = {"X-VTEX-API-AppKey": sandbox.app_key, "X-VTEX-API-AppToken": sandbox.app_token}
        answer = requests.post(
            sandbox.url + CONFIG_PATH, json=config(receiver.url), headers=headers, timeout=10
        )
        assert answer.status_code == 403
        assert receiver.calls == []
