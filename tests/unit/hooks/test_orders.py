"""The order's other operations through VtexHook over real HTTP against the sandbox: the reads, the
order's log (at least once), cancelling once with VTEX's rules, the account settings around orders, and
reading a creation-date range past the list's cap."""

from __future__ import annotations

import datetime as dt

import pytest

from airflow_provider_vtex.exceptions import VtexNotFoundError, VtexPayloadError, VtexStatusNotAllowedError
from airflow_provider_vtex.hooks.vtex import VtexHook
from airflow_provider_vtex.models import Outcome
from vtex_sandbox import Fault, VtexSandbox

READY = "1172452900791-01"


def hook() -> VtexHook:
    return VtexHook(backoff_initial=0.01, readback_timeout=2, readback_interval=0.2, max_retries=2)


def requests_to(sandbox: VtexSandbox, route: str) -> int:
    return sum(1 for r in sandbox.requests if r["route"] == route)


# ------------------------------------------------------------------------------------------ reads
def test_the_reads_answer_what_vtex_holds(vtex_sandbox_connection: VtexSandbox) -> None:
    sandbox = vtex_sandbox_connection
    sandbox.add_order("v71021948str-02", [{"id": "77", "name": "Mug", "quantity": 1, "price": 1500}])
    email = sandbox.order(READY)["clientProfileData"]["email"]

    assert sorted(o["orderId"] for o in hook().get_order_group("v71021948str")) == [
        "v71021948str-01",
        "v71021948str-02",
    ]
    assert hook().get_payment_transaction(READY)["payments"][0]["value"] == sandbox.order(READY)["value"]
    assert hook().get_conversation(READY) == []
    assert hook().list_user_orders(clientEmail=email).order_ids == [READY]
    assert hook().get_user_order(READY, client_email=email)["orderId"] == READY
    with pytest.raises(VtexNotFoundError, match="order group"):
        hook().get_order_group("nothing")
    with pytest.raises(VtexPayloadError, match="order group"):
        hook().get_order_group("../x")


def test_the_account_settings_around_orders(vtex_sandbox_connection: VtexSandbox) -> None:
    assert hook().test_jsonata("status = 'canceled'", {"status": "canceled"}) is not None
    assert hook().get_seller_window() == 2
    hook().set_seller_window(4)
    assert hook().get_seller_window() == 4
    with pytest.raises(VtexPayloadError, match="waitingTime"):
        hook().set_seller_window(0)


# ------------------------------------------------------------------------------------------ the order's log
def test_a_log_line_reaches_the_order_and_a_lost_answer_repeats_it_rather_than_lose_it(
    vtex_sandbox_connection: VtexSandbox,
) -> None:
    sandbox = vtex_sandbox_connection
    hook().add_interaction(READY, {"source": "ERP", "message": "Item 6101 short: order modified"})
    assert [(i["source"], i["message"]) for i in sandbox.interactions(READY)] == [
        ("ERP", "Item 6101 short: order modified")
    ]

    sandbox.add_fault(Fault("interactions", "drop_after_commit", count=1))
    hook().add_interaction(READY, {"source": "ERP", "message": "Invoice NF-1 sent"})

    # at least once: the line VTEX applied before the answer was lost is there, and the retry's too
    assert [i["message"] for i in sandbox.interactions(READY)][1:] == [
        "Invoice NF-1 sent",
        "Invoice NF-1 sent",
    ]
    with pytest.raises(VtexPayloadError, match="message"):
        hook().add_interaction(READY, {"source": "ERP"})


# ------------------------------------------------------------------------------------------ cancelling once
def test_cancelling_once_sends_once_and_a_canceled_order_is_left_alone(
    vtex_sandbox_connection: VtexSandbox,
) -> None:
    sandbox = vtex_sandbox_connection

    assert hook().cancel_order_once(READY, "customer asked") == (Outcome.SENT, "canceled")
    assert hook().cancel_order_once(READY, "customer asked") == (Outcome.ALREADY_APPLIED, "canceled")
    assert requests_to(sandbox, "cancel") == 1


def test_a_lost_cancellation_answer_is_read_back_not_sent_again(vtex_sandbox_connection: VtexSandbox) -> None:
    sandbox = vtex_sandbox_connection
    sandbox.add_fault(Fault("cancel", "drop_after_commit", count=1))

    assert hook().cancel_order_once(READY, "fraud") == (Outcome.SENT, "canceled")
    assert requests_to(sandbox, "cancel") == 1


def test_an_invoiced_order_is_refused_before_any_request_pointing_to_a_return_invoice(
    vtex_sandbox_connection: VtexSandbox,
) -> None:
    sandbox = vtex_sandbox_connection
    sandbox.add_order("INV-01", [{"id": "1", "name": "x", "quantity": 1, "price": 100}], status="invoiced")

    with pytest.raises(VtexStatusNotAllowedError) as refused:
        hook().cancel_order_once("INV-01")

    assert "return invoice" in str(refused.value)
    assert not refused.value.retryable
    assert requests_to(sandbox, "cancel") == 0


@pytest.mark.vtex_sandbox(cancellation_window_seconds=600)
def test_a_cancellation_the_seller_denies_after_the_grace_window_says_so(
    vtex_sandbox_connection: VtexSandbox,
) -> None:
    sandbox = vtex_sandbox_connection
    sandbox.place_order("LATE-01", status="ready-for-handling")
    sandbox.advance_clock(601)
    sandbox.deny_next_cancellation("LATE-01", "already packed")

    with pytest.raises(VtexStatusNotAllowedError, match="already packed"):
        hook().cancel_order_once("LATE-01", "customer asked")


# ------------------------------------------------------------------------------------------ reading past the cap
@pytest.mark.parametrize("architecture", ["standard", "pii"])
def test_a_range_past_the_list_s_cap_is_read_in_full_and_once(
    architecture: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc)
    # per_page=10: the cap is 300 orders per query; 320 orders in a day need slicing.
    with VtexSandbox(data_architecture=architecture) as sandbox:
        monkeypatch.setenv("AIRFLOW_CONN_VTEX_DEFAULT", sandbox.airflow_connection())
        for n in range(320):
            at = day + dt.timedelta(seconds=n * 250)
            sandbox.add_order(
                f"DAY-{n:04d}-01",
                [{"id": "1", "name": "x", "quantity": 1, "price": 100}],
                creationDate=at.isoformat().replace("+00:00", "Z"),
            )

        read = [o["orderId"] for o in hook().iter_orders(day, day + dt.timedelta(days=1), per_page=10)]

        assert sorted(read) == [f"DAY-{n:04d}-01" for n in range(320)]
        assert len(read) == len(set(read))
        assert all(r["status"] != 400 for r in sandbox.requests if r["route"] == "list_orders")


@pytest.mark.vtex_sandbox(list_index_lag_seconds=240)
def test_orders_younger_than_the_index_lag_are_not_listed_yet(vtex_sandbox_connection: VtexSandbox) -> None:
    sandbox = vtex_sandbox_connection
    now = dt.datetime.now(dt.timezone.utc)
    sandbox.place_order("FRESH-01")
    window = (now - dt.timedelta(minutes=1), now + dt.timedelta(minutes=1))

    assert "FRESH-01" not in [o["orderId"] for o in hook().iter_orders(*window)]
    sandbox.advance_clock(240)
    assert "FRESH-01" in [o["orderId"] for o in hook().iter_orders(*window)]


def test_the_seller_window_set_again_after_a_lost_answer_holds_the_value(
    vtex_sandbox_connection: VtexSandbox,
) -> None:
    vtex_sandbox_connection.add_fault(Fault("seller_window", "drop_after_commit", count=1))
    hook().set_seller_window(5)
    assert hook().get_seller_window() == 5
