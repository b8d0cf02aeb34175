"""The tasks' ``vtex_report`` record: what a hook's requests met, counted, and read back safely."""

from __future__ import annotations

import json
import threading

from airflow_provider_vtex.models.report import MAX_ORDER_IDS, RequestTally, TaskReport


def test_the_tally_counts_429s_refusals_by_code_operations_and_waits() -> None:
    tally = RequestTally()
    tally.answered("invoice", 200, None)
    tally.answered("invoice", 400, "OMS001")
    tally.answered("start_handling", 409, None)
    tally.answered("start_handling", 429, None)
    tally.answered("get_order", None, None)  # no answer (a transport error): a request, no refusal
    tally.waited(1.5)
    tally.waited(0.0)
    report = TaskReport.of("vtex_default", tally, "refused", error_code="OMS001")
    assert report.requests == 5
    assert report.rate_limited == 1
    assert report.refusals == {"OMS001": 1, "HTTP 409": 1}
    assert report.operations == {"invoice": 2, "start_handling": 2, "get_order": 1}
    assert report.accepted == {"invoice": 1}
    assert report.waited_seconds == 1.5


def test_orders_are_kept_once_and_at_most_max_order_ids() -> None:
    tally = RequestTally()
    for n in range(MAX_ORDER_IDS + 50):
        tally.touched(f"o-{n}")
        tally.touched(f"o-{n}")
    tally.touched(None)
    assert tally.order_ids == [f"o-{n}" for n in range(MAX_ORDER_IDS)]


def test_threads_sharing_a_tally_lose_no_count() -> None:
    tally = RequestTally()

    def work() -> None:
        for _ in range(1000):
            tally.answered("invoice", 429, None)
            tally.waited(0.001)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (tally.requests, tally.rate_limited) == (4000, 4000)
    assert abs(tally.waited_seconds - 4.0) < 1e-6


def test_the_record_round_trips_through_json_and_refuses_what_is_not_one() -> None:
    tally = RequestTally()
    tally.answered("invoice", 400, "OMS001")
    tally.touched("1172452900788-01")
    report = TaskReport.of("vtex_default", tally, "outcome_unknown", unknown_order_id="1172452900788-01")
    assert TaskReport.from_xcom(json.loads(json.dumps(report.to_xcom()))) == report
    assert TaskReport.from_xcom({"conn_id": "x", "outcome": "exploded"}) is None
    assert TaskReport.from_xcom("text") is None
    assert TaskReport.from_xcom({"outcome": "success"}) is None


def test_the_record_holds_no_field_for_a_secret_or_a_message() -> None:
    """Counts, codes and ids only: a credential or an error text (which may quote a server) has no place."""
    assert set(TaskReport("c", "success").to_xcom()) == {
        "conn_id",
        "outcome",
        "requests",
        "rate_limited",
        "waited_seconds",
        "refusals",
        "operations",
        "accepted",
        "order_ids",
        "error_code",
        "unknown_order_id",
    }
