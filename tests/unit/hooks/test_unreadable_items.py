"""One bad item never stops a feed read or an order list: against the sandbox, whose ``body`` fault serves
the lot a test writes (VTEX's own items, one of them broken, or hypothesis's broken items).

The good items go on; the bad one is reported (a warning naming its event id and handle, never its body,
and a metric) and committed, so VTEX stops handing it out, unless ``keep_unreadable``. An answer of the
wrong JSON type is a typed error, not "no items". A handle no VTEX read could have handed out is refused
before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_vtex import metrics
from airflow_provider_vtex.exceptions import VtexPayloadError, VtexUnexpectedResponseError
from airflow_provider_vtex.hooks.vtex import VtexHook
from airflow_provider_vtex.models.feed import MAX_HANDLE_LENGTH
from tests.unit.models.test_feed import SECRET, broken_item, good_item
from vtex_sandbox import VtexSandbox

READY_FEED = {
    "filter": {"type": "FromWorkflow", "status": ["ready-for-handling"]},
    "queue": {"visibilityTimeoutInSeconds": 60, "MessageRetentionPeriodInSeconds": 3600},
}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[VtexSandbox]:
    """One sandbox for the module (hypothesis runs many examples against it), reset by ``hook``."""
    with VtexSandbox() as running:
        yield running


@pytest.fixture
def hook(sandbox: VtexSandbox, monkeypatch: pytest.MonkeyPatch) -> VtexHook:
    sandbox.reset()
    sandbox.configure_feed(READY_FEED)
    monkeypatch.setenv("AIRFLOW_CONN_VTEX_DEFAULT", sandbox.airflow_connection())
    return VtexHook(max_retries=0)


def handed_out_by_vtex(sandbox: VtexSandbox, count: int) -> list[dict[str, Any]]:
    """``count`` real feed items: orders made ready, read once the way VTEX hands them out (so their
    handles are live: committing one removes it from the queue)."""
    for n in range(count):
        sandbox.place_order(f"POISON-{n}-01", status="payment-approved")
        sandbox.move_order(f"POISON-{n}-01", "ready-for-handling")
    answer = requests.get(
        f"{sandbox.url}/api/orders/feed",
        params={"maxlot": count},
        headers={"X-VTEX-API-AppKey": sandbox.app_key, "X-VTEX-API-AppToken": sandbox.app_token},
        timeout=5,
    )
    items: list[dict[str, Any]] = answer.json()
    assert len(items) == count
    return items


def commits(sandbox: VtexSandbox) -> list[list[str]]:
    return [entry["body"]["handles"] for entry in sandbox.requests if entry["route"] == "feed_commit"]


def test_a_lot_of_three_whose_middle_item_has_no_order_id(sandbox: VtexSandbox, hook: VtexHook) -> None:
    """The issue's case: both good orders handed out, the bad one reported and committed, so VTEX stops
    handing it out (the queue is empty once the good ones are committed too, and stays empty after the
    visibility timeout)."""
    first, middle, last = handed_out_by_vtex(sandbox, 3)
    del middle["orderId"]
    sandbox.add_fault("feed", "body", body=[first, middle, last], count=1)
    with mock.patch.object(hook.log, "warning") as warn, mock.patch.object(metrics, "incr") as incr:
        items = hook.get_feed_items()
    assert [item.order_id for item in items] == [first["orderId"], last["orderId"]]
    assert commits(sandbox) == [[middle["handle"]]]
    (warning,) = [call.args[0] % call.args[1:] for call in warn.call_args_list]
    assert f"(eventId '{middle['eventId']}', handle '{middle['handle'][:60]}" in warning
    assert "unreadable: orderId: is missing" in warning
    assert "Committed" in warning
    assert sandbox.app_token not in warning
    incr.assert_any_call("vtex.feed.items_unreadable", action="committed")
    hook.commit_feed_items([item.handle for item in items])
    sandbox.advance_clock(READY_FEED["queue"]["visibilityTimeoutInSeconds"] + 1)  # type: ignore[index]
    assert hook.get_feed_items() == []  # nothing comes back: the bad item too was committed


def test_keep_unreadable_leaves_the_item_in_the_feed(sandbox: VtexSandbox, hook: VtexHook) -> None:
    first, middle = handed_out_by_vtex(sandbox, 2)
    middle["state"] = 42
    sandbox.add_fault("feed", "body", body=[first, middle], count=1)
    with mock.patch.object(metrics, "incr") as incr:
        items = hook.get_feed_items(keep_unreadable=True)
    assert [item.event_id for item in items] == [first["eventId"]]
    assert commits(sandbox) == []
    incr.assert_any_call("vtex.feed.items_unreadable", action="kept")
    hook.commit_feed_items([first["handle"]])
    sandbox.advance_clock(61)
    (again,) = hook.get_feed_items(keep_unreadable=True)  # VTEX's own copy, well formed
    assert again.order_id == middle["orderId"]


@pytest.mark.parametrize("answer", [{"items": []}, {}, "[]", 0, None])
def test_a_feed_answer_that_is_not_a_list_is_an_error_not_no_items(
    sandbox: VtexSandbox, hook: VtexHook, answer: Any
) -> None:
    if answer is None:
        sandbox.add_fault("feed", "status", status=200, count=1)  # a JSON error object with a 200
    else:
        sandbox.add_fault("feed", "body", body=answer, count=1)
    with pytest.raises(VtexUnexpectedResponseError, match=r"GET /api/orders/feed with 200 but a"):
        hook.get_feed_items()
    assert commits(sandbox) == []


def test_a_handle_no_feed_read_could_hand_out_is_refused_before_sending(
    sandbox: VtexSandbox, hook: VtexHook
) -> None:
    huge = "h" * 2_000_000
    with pytest.raises(VtexPayloadError) as refused:
        hook.commit_feed_items(["fine", huge, 7])  # type: ignore[list-item]
    message = str(refused.value)
    assert "handles[1]: has 2,000,000 characters" in message
    assert f"{MAX_HANDLE_LENGTH:,}" in message
    assert "handles[2]: must be text" in message
    assert len(message) < 1_000
    assert sandbox.requests == []  # 0 requests sent


# ---------------------------------------------------------------- hypothesis over broken items
@settings(
    max_examples=max(1, 25 * settings().max_examples // 100),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(bad=broken_item(), before=st.integers(0, 3), after=st.integers(0, 3))
def test_broken_items_are_set_aside_and_the_good_ones_go_on(
    sandbox: VtexSandbox, hook: VtexHook, bad: tuple[Any, str], before: int, after: int
) -> None:
    raw, field = bad
    sandbox.log.clear()
    good = [good_item(n) for n in range(before + after)]
    lot = [*good[:before], raw, *good[before:]]
    sandbox.add_fault("feed", "body", body=lot, count=1)
    with mock.patch.object(hook.log, "warning") as warning:
        items = hook.get_feed_items()
    assert [item.event_id for item in items] == [item["eventId"] for item in good]
    (call,) = warning.call_args_list
    text = call.args[0] % call.args[1:]
    assert field in text
    assert SECRET not in text
    assert len(text) < 3_000
    handle = raw.get("handle") if isinstance(raw, dict) else None
    committable = isinstance(handle, str) and handle.strip() and len(handle) <= MAX_HANDLE_LENGTH
    assert commits(sandbox) == ([[handle]] if committable else [])
    assert SECRET not in str(sandbox.requests)


# ---------------------------------------------------------------- order lists
def test_an_order_list_entry_without_a_usable_order_id_is_set_aside(
    sandbox: VtexSandbox, hook: VtexHook
) -> None:
    page = {
        "list": [{"orderId": "A-01"}, {"status": "handling"}, {"orderId": "../x"}, 7, {"orderId": "B-01"}],
        "paging": {"total": 5},
        "stats": None,
    }
    sandbox.add_fault("list_orders", "body", body=page, count=1)
    with mock.patch.object(hook.log, "warning") as warn:
        listed = hook.list_orders(per_page=5)
    logged = " ".join(call.args[0] % call.args[1:] for call in warn.call_args_list)
    assert listed.order_ids == ["A-01", "B-01"]
    assert [(entry.position, entry.problem) for entry in listed.unreadable] == [
        (1, "has no orderId"),
        (2, listed.unreadable[1].problem),
        (3, "is a JSON number, not an order object"),
    ]
    assert "routes cannot take" in listed.unreadable[1].problem
    assert "../x" not in logged
    assert "entry #2 of VTEX's order list: it has no orderId" in logged
    sandbox.add_fault("list_orders", "body", body=[{"orderId": "A-01"}], count=1)
    with pytest.raises(VtexUnexpectedResponseError, match="a JSON list"):
        hook.list_orders()
