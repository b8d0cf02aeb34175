"""The feed's configuration (GET/POST/DELETE /api/orders/feed/config), its strict contract, the 404
without one, permissions, JSONata (and its optional extra), and "Test JSONata expression"."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.feed_client import JSONATA, FeedClient, orders_config, workflow_config
from vtex_sandbox import VtexSandbox

VIEW_ONLY = "Feed v3 and Hook view only"
ADMIN = "Feed v3 and Hook Admin"


@pytest.fixture
def feed(vtex_sandbox: VtexSandbox) -> Iterator[FeedClient]:
    client = FeedClient(vtex_sandbox)
    yield client
    client.close()


def error_message(response: Any, status: int = 400) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "exception"}
    return str(error["message"])


# -- without a configuration ------------------------------------------------------------------------


def test_every_feed_route_answers_404_until_the_appkey_has_a_configuration(feed: FeedClient) -> None:
    for response in (feed.get("?maxlot=10"), feed.commit("h"), feed.config(), feed.delete_config()):
        assert "no Feed Configuration for the given X-VTEX-API-AppKey" in error_message(response, 404)
        assert response.json()["error"]["code"] == "OMS014"


# -- the round trip ---------------------------------------------------------------------------------


def test_a_workflow_configuration_reads_back_as_vtex_answers_it(feed: FeedClient) -> None:
    response = feed.configure(
        workflow_config("ready-for-handling", "canceled", visibility=250, retention=345600)
    )
    assert response.status_code == 200
    assert response.content == b""
    assert feed.config().json() == {
        "filter": {"type": "FromWorkflow", "status": ["ready-for-handling", "canceled"]},
        # VTEX's answer spells the retention with a small m (its input takes a capital M).
        "queue": {"visibilityTimeoutInSeconds": 250, "messageRetentionPeriodInSeconds": 345600},
        "quantity": 0,
        "approximateAgeOfOldestMessageInSeconds": 0.0,
    }


def test_the_spec_s_own_from_orders_example_is_accepted_and_read_back(feed: FeedClient) -> None:
    body = {
        "filter": {"type": "FromOrders", "expression": "value > 100", "disableSingleFire": False},
        "queue": {"visibilityTimeoutInSeconds": 250, "MessageRetentionPeriodInSeconds": 345600},
    }
    assert feed.configure(body).status_code == 200
    answer = feed.config().json()
    assert answer["filter"] == {"type": "FromOrders", "expression": "value > 100", "disableSingleFire": False}
    assert answer["queue"] == {"visibilityTimeoutInSeconds": 250, "messageRetentionPeriodInSeconds": 345600}


def test_quantity_and_age_describe_the_queue(vtex_sandbox: VtexSandbox, feed: FeedClient) -> None:
    assert feed.configure(workflow_config("payment-pending")).status_code == 200
    vtex_sandbox.place_order("Q-01")
    vtex_sandbox.place_order("Q-02")
    feed.read(1)  # handed out, not committed: still counted
    vtex_sandbox.advance_clock(42)
    answer = feed.config().json()
    assert answer["quantity"] == 2
    assert 42 <= answer["approximateAgeOfOldestMessageInSeconds"] < 42 + 60


def test_delete_removes_the_configuration_and_its_events(vtex_sandbox: VtexSandbox, feed: FeedClient) -> None:
    assert feed.configure(workflow_config("payment-pending")).status_code == 200
    vtex_sandbox.place_order("D-01")
    response = feed.delete_config()
    assert response.status_code == 200
    error_message(feed.config(), 404)
    assert feed.configure(workflow_config("payment-pending")).status_code == 200
    assert feed.read() == []  # the new configuration starts with an empty queue


def test_a_new_configuration_keeps_the_queue_and_applies_its_timers(
    vtex_sandbox: VtexSandbox, feed: FeedClient
) -> None:
    assert feed.configure(workflow_config("payment-pending", visibility=600)).status_code == 200
    vtex_sandbox.place_order("R-01")
    assert feed.configure(workflow_config("payment-pending", "canceled", visibility=5)).status_code == 200
    first = feed.read()
    assert [i["orderId"] for i in first] == ["R-01"]
    vtex_sandbox.advance_clock(5)
    assert [i["eventId"] for i in feed.read()] == [first[0]["eventId"]]  # the new 5 s timeout applied


# -- the contract: 400 naming the field ---------------------------------------------------------------


def _with(change: dict[str, Any], removed: tuple[str, ...] = ()) -> dict[str, Any]:
    body = workflow_config("ready-for-handling")
    for path in removed:
        *parents, last = path.split(".")
        target = body
        for name in parents:
            target = target[name]
        del target[last]
    for path, value in change.items():
        *parents, last = path.split(".")
        target = body
        for name in parents:
            target = target[name]
        target[last] = value
    return body


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (_with({}, removed=("filter",)), "filter is required"),
        (_with({}, removed=("queue",)), "queue is required"),
        (_with({"filter.type": "fromworkflow"}), "filter.type must be 'FromWorkflow'"),
        (_with({}, removed=("filter.type",)), "filter.type must be"),
        (_with({}, removed=("filter.status",)), "filter.status is required for a FromWorkflow filter"),
        (_with({"filter.status": []}), "filter.status must be a non-empty list"),
        (_with({"filter.status": "ready-for-handling"}), "filter.status must be a non-empty list"),
        (_with({"filter.status": ["ready-for-handling", "ready_for_handling"]}), "filter.status[1]"),
        (_with({"filter.expression": "value > 1"}), "filter.expression is for FromOrders filters"),
        (_with({"filter.disableSingleFire": "no"}), "filter.disableSingleFire must be true or false"),
        (
            _with({"filter.Status": ["canceled"], "filter.status": ["invoiced"]}),
            "filter.Status and filter.status name the same field",
        ),
        (
            _with({"queue.visibilityTimeoutInSeconds": 43201}),
            "visibilityTimeoutInSeconds must be whole seconds",
        ),
        (_with({"queue.visibilityTimeoutInSeconds": -1}), "visibilityTimeoutInSeconds must be whole seconds"),
        (
            _with({"queue.visibilityTimeoutInSeconds": 2.5}),
            "visibilityTimeoutInSeconds must be whole seconds",
        ),
        (
            _with({"queue.visibilityTimeoutInSeconds": True}),
            "visibilityTimeoutInSeconds must be whole seconds",
        ),
        (_with({}, removed=("queue.visibilityTimeoutInSeconds",)), "visibilityTimeoutInSeconds is required"),
        (
            _with({"queue.MessageRetentionPeriodInSeconds": 1209601}),
            "MessageRetentionPeriodInSeconds must be whole seconds from 60 to 1209600",
        ),
        (_with({"queue.MessageRetentionPeriodInSeconds": 59}), "MessageRetentionPeriodInSeconds must be"),
        (_with({"quantity": 3}), "quantity is read-only"),
        (_with({"filters": {}}), "did you mean 'filter'?"),
        ([workflow_config("canceled")], "must be a JSON object"),
        (_with({"filter": None}), "filter must be a JSON object, not null"),
        (_with({"queue": [1]}), "queue must be a JSON object, not an array"),
    ],
)
def test_a_configuration_breaking_the_contract_is_refused_naming_the_field(
    feed: FeedClient, body: Any, named: str
) -> None:
    assert named in error_message(feed.configure(body))
    error_message(feed.config(), 404)  # nothing was stored


def test_the_retention_bounds_themselves_are_accepted(feed: FeedClient) -> None:
    for retention in (60, 1209600):
        assert (
            feed.configure(workflow_config("canceled", visibility=0, retention=retention)).status_code == 200
        )
    assert feed.configure(workflow_config("canceled", visibility=43200)).status_code == 200


@pytest.mark.parametrize(
    ("feed_filter", "named"),
    [
        ({"type": "FromOrders"}, "filter.expression is required for a FromOrders filter"),
        (
            {"type": "FromOrders", "expression": ""},
            "filter.expression must be a non-empty JSONata expression",
        ),
        ({"type": "FromOrders", "expression": 5}, "filter.expression must be a non-empty JSONata expression"),
        (
            {"type": "FromOrders", "expression": "value >"},
            "filter.expression is not a valid JSONata expression",
        ),
        ({"type": "FromOrders", "expression": 'status = "x'}, "String literal must be terminated"),
        ({"type": "FromOrders", "expression": 'not(status = "x")'}, "cannot be evaluated on an order"),
        (
            {"type": "FromOrders", "expression": "value > 1", "status": ["canceled"]},
            "filter.status is for FromWorkflow",
        ),
    ],
)
def test_a_from_orders_filter_must_hold_an_expression_the_engine_can_run(
    feed: FeedClient, feed_filter: dict[str, Any], named: str
) -> None:
    body = {"filter": feed_filter, "queue": workflow_config("canceled")["queue"]}
    assert named in error_message(feed.configure(body))


def test_without_the_jsonata_engine_a_from_orders_filter_names_the_extra_to_install(
    feed: FeedClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "jsonata", None)  # what an environment without jsonata-python sees
    message = error_message(feed.configure(orders_config("value > 100")))
    assert "jsonata-python, which is not installed" in message
    assert "pip install 'vtex-sandbox[jsonata]'" in message
    # FromWorkflow filters need no engine.
    assert feed.configure(workflow_config("canceled")).status_code == 200


# -- permissions --------------------------------------------------------------------------------------


@pytest.mark.vtex_sandbox(permissions={VIEW_ONLY})
def test_a_view_only_key_reads_the_feed_but_cannot_change_its_configuration(
    vtex_sandbox: VtexSandbox, feed: FeedClient
) -> None:
    for response in (feed.configure(workflow_config("canceled")), feed.delete_config()):
        assert ADMIN in error_message(response, 403)
    assert feed.config().status_code == 404  # allowed, and there is none
    assert feed.get("?maxlot=1").status_code == 404


@pytest.mark.vtex_sandbox(permissions={"View order"})
def test_a_key_without_feed_resources_gets_403_everywhere_on_the_feed(feed: FeedClient) -> None:
    for response in (
        feed.get("?maxlot=1"),
        feed.commit("h"),
        feed.config(),
        feed.configure(workflow_config("canceled")),
    ):
        error_message(response, 403)


def test_wrong_credentials_are_refused_before_the_feed_is_looked_at(vtex_sandbox: VtexSandbox) -> None:
    stranger = FeedClient(vtex_sandbox, app_token="not-the-token")
    assert error_message(stranger.get("?maxlot=1"), 401) == "Unauthorized access"
    stranger.close()


# -- Test JSONata expression ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "document", "expected"),
    [
        ('status = "canceled"', '{"status": "canceled"}', True),
        ('status = "canceled"', '{"status": "invoiced"}', False),
        ("value > 100", '{"value": 101}', True),
        ('value > 100 and status = "payment-pending"', '{"value": 5000, "status": "payment-pending"}', True),
        ('value > 100 and status = "payment-pending"', '{"value": 50, "status": "payment-pending"}', False),
        ('value > 100 or $not(status = "canceled")', '{"value": 5, "status": "invoiced"}', True),
        ("nosuchfield > 3", "{}", False),  # no value is false
        ("$count(items) > 1", '{"items": [1, 2]}', True),
    ],
)
def test_the_jsonata_test_route_evaluates_expression_on_document(
    feed: FeedClient, expression: str, document: str, expected: bool
) -> None:
    response = feed.session.post(
        feed.base + JSONATA, json={"Expression": expression, "Document": document}, timeout=10
    )
    assert response.status_code == 200
    assert response.json() is expected


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"Expression": "value >", "Document": "{}"}, "Expression is not a valid JSONata expression"),
        ({"Expression": "value", "Document": "{not json"}, "Document must be a JSON document in a string"),
        ({"Expression": "value", "Document": {"value": 1}}, "Document is required, as a string"),
        ({"Expression": "value", "Document": "{}", "Doc": "{}"}, "Doc is not a field of this request"),
        ({"Document": "{}"}, "Expression is required"),
    ],
)
def test_the_jsonata_test_route_refuses_what_it_cannot_evaluate(
    feed: FeedClient, body: dict[str, Any], named: str
) -> None:
    response = feed.session.post(feed.base + JSONATA, json=body, timeout=10)
    assert named in error_message(response)


def test_a_runaway_expression_is_stopped_and_refused(feed: FeedClient) -> None:
    """JSONata turns tail recursion into a loop: without a limit it would hold a server thread forever."""
    endless = "($f := function($x){$f($x)}; $f(1))"
    response = feed.session.post(
        feed.base + JSONATA, json={"Expression": endless, "Document": "{}"}, timeout=30
    )
    assert "Evaluation timeout" in error_message(response)
    assert "cannot be evaluated on an order" in error_message(feed.configure(orders_config(endless)))


def test_using_jsonata_leaves_the_interpreter_s_recursion_limit_alone() -> None:
    """jsonata-python raises the process's recursion limit when imported; the sandbox puts it back."""
    code = (
        "import sys; before = sys.getrecursionlimit();"
        "from vtex_sandbox.feed.expressions import compile_expression;"
        "assert compile_expression('value > 1', 'x').matches({'value': 2}, 'x');"
        "print(before == sys.getrecursionlimit(), 'jsonata' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["True", "True"]


def test_configure_feed_sets_a_configuration_from_python(vtex_sandbox: VtexSandbox, feed: FeedClient) -> None:
    vtex_sandbox.configure_feed(workflow_config("canceled", visibility=7))
    assert feed.config().json()["queue"]["visibilityTimeoutInSeconds"] == 7
    with pytest.raises(ValueError, match=r"filter\.status\[0\] is 'cancelled'"):
        vtex_sandbox.configure_feed(workflow_config("cancelled"))
    vtex_sandbox.configure_feed(workflow_config("handling"), app_key="another-key")
    assert feed.config().json()["filter"]["status"] == ["canceled"]  # another key's configuration
    assert set(vtex_sandbox.stats()["feeds"]) == {vtex_sandbox.app_key, "another-key"}
