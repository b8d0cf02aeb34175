"""Payment notification: VtexHook.notify_payment over real HTTP against the sandbox on both route sets,
its write-once rule (requests-mock), and VtexPaymentNotificationOperator in a real DAG run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import requests_mock as rm

from airflow_provider_vtex.exceptions import VtexNotFoundError, VtexPayloadError
from airflow_provider_vtex.hooks.vtex import VtexHook
from airflow_provider_vtex.models import Outcome
from tests.integration.dag_runs import task_states, xcom_values
from vtex_sandbox import VtexSandbox

NOTIFY_ROUTES = {
    "standard": "/api/oms/pvt/orders/{}/payments/{}/payment-notification",
    "pii": "/api/orders/pvt/document/{}/payment/{}/notify-payment",
}
BASE = "https://mystore.vtexcommercestable.com.br"
ORDER = "1172452900788-01"
PAYMENT = "F5C1A4E20D3B4E07B7E871F5B5BC9F91"
NOTIFY_URL = f"{BASE}/api/oms/pvt/orders/{ORDER}/payments/{PAYMENT}/payment-notification"
ORDER_URL = f"{BASE}/api/oms/pvt/orders/{ORDER}"


@pytest.fixture(params=["standard", "pii"])
def sandbox(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[VtexSandbox]:
    """A sandbox of each route set, with ``vtex_default`` pointing at it."""
    with VtexSandbox(data_architecture=request.param) as sb:
        monkeypatch.setenv("AIRFLOW_CONN_VTEX_DEFAULT", sb.airflow_connection())
        yield sb


def pending_order(sandbox: VtexSandbox, order_id: str) -> str:
    """Place an order waiting for its payment; its payment id, as GET order shows it."""
    order = sandbox.place_order(order_id)
    return str(order["paymentData"]["transactions"][0]["payments"][0]["id"])


def notifications_sent(sandbox: VtexSandbox) -> int:
    return sum(1 for r in sandbox.requests if r["route"] == "payment_notification")


# ------------------------------------------------------------------------------------------ hook, real HTTP
def test_notify_payment_approves_a_pending_order_on_the_connection_s_route_set(sandbox: VtexSandbox) -> None:
    payment_id = pending_order(sandbox, "BOLETO-1")

    outcome = VtexHook().notify_payment("BOLETO-1", payment_id)

    assert outcome is Outcome.SENT
    assert sandbox.order("BOLETO-1")["status"] == "payment-approved"
    [notification] = sandbox.payment_notifications("BOLETO-1")
    assert notification["paymentId"] == payment_id
    [request] = [r for r in sandbox.requests if r["route"] == "payment_notification"]
    assert request["path"] == NOTIFY_ROUTES[sandbox.data_architecture].format("BOLETO-1", payment_id)


def test_check_first_sends_nothing_for_an_order_already_paid(sandbox: VtexSandbox) -> None:
    payment_id = pending_order(sandbox, "BOLETO-2")
    sandbox.move_order("BOLETO-2", "payment-approved")

    outcome = VtexHook().notify_payment("BOLETO-2", payment_id, check_first=True)

    assert outcome is Outcome.ALREADY_PAID
    assert notifications_sent(sandbox) == 0


def test_an_unknown_payment_is_a_404_that_says_where_payment_ids_are(sandbox: VtexSandbox) -> None:
    pending_order(sandbox, "BOLETO-3")

    with pytest.raises(VtexNotFoundError) as raised:
        VtexHook().notify_payment("BOLETO-3", "NOT-ITS-PAYMENT")

    assert "paymentData.transactions[].payments[].id" in str(raised.value)
    assert not raised.value.retryable
    assert notifications_sent(sandbox) == 1  # a 404 is not retried


@pytest.mark.parametrize(
    ("order_id", "payment_id", "bad"),
    [("../../x", "ABC", "order_id"), ("BOLETO-4", "a?b=c", "payment_id"), ("BOLETO-4", "", "payment_id")],
)
def test_ids_that_could_steer_the_url_are_refused_before_any_request(
    sandbox: VtexSandbox, order_id: str, payment_id: str, bad: str
) -> None:
    with pytest.raises(VtexPayloadError) as raised:
        VtexHook().notify_payment(order_id, payment_id, check_first=True)

    assert bad in str(raised.value)
    assert sandbox.requests == []


# ------------------------------------------------------------------------------------------ retry rules
@pytest.fixture
def hook(vtex_connection: Callable[..., str]) -> VtexHook:
    vtex_connection()
    return VtexHook(backoff_initial=0.01, backoff_max=0.05, readback_timeout=0.2, readback_interval=0.05)


def test_a_429_is_retried_because_vtex_did_nothing(hook: VtexHook) -> None:
    with rm.Mocker() as mocker:
        mocker.post(
            NOTIFY_URL,
            [{"status_code": 429, "headers": {"Retry-After": "0"}}, {"status_code": 200, "text": ""}],
        )
        assert hook.notify_payment(ORDER, PAYMENT) is Outcome.SENT
    assert [r.method for r in mocker.request_history] == ["POST", "POST"]


def test_a_lost_answer_is_read_back_not_sent_again(hook: VtexHook) -> None:
    with rm.Mocker() as mocker:
        mocker.post(NOTIFY_URL, exc=requests.exceptions.ReadTimeout("read timed out"))
        mocker.get(ORDER_URL, json={"orderId": ORDER, "status": "payment-approved"})
        assert hook.notify_payment(ORDER, PAYMENT) is Outcome.CONFIRMED_BY_READ_BACK
    assert [r.method for r in mocker.request_history] == ["POST", "GET"]


def test_a_503_on_an_order_still_pending_is_sent_again_only_after_the_visibility_window(
    hook: VtexHook,
) -> None:
    with rm.Mocker() as mocker:
        mocker.post(NOTIFY_URL, [{"status_code": 503, "json": {}}, {"status_code": 200, "text": ""}])
        mocker.get(ORDER_URL, json={"orderId": ORDER, "status": "payment-pending"})
        assert hook.notify_payment(ORDER, PAYMENT) is Outcome.SENT
    history = [r.method for r in mocker.request_history]
    assert history[0] == "POST"
    assert history[-1] == "POST"
    assert history.count("POST") == 2
    assert history.count("GET") >= 2


# ------------------------------------------------------------------------------------------ operator in a DAG
@pytest.mark.airflow_dag
def test_the_operator_in_a_dag_on_both_route_sets(sandbox: VtexSandbox, run_dag: Callable[..., Any]) -> None:
    payment_id = pending_order(sandbox, "BOLETO-DAG")

    dag_run = run_dag(
        "vtex_test_payment_notification", run_conf={"order_id": "BOLETO-DAG", "payment_id": payment_id}
    )

    assert task_states(dag_run)["notify_payment"] == ["success"]
    assert xcom_values(dag_run, "notify_payment") == [
        {"order_id": "BOLETO-DAG", "payment_id": payment_id, "outcome": "sent"}
    ]
    assert sandbox.order("BOLETO-DAG")["status"] == "payment-approved"
    assert len(sandbox.payment_notifications("BOLETO-DAG")) == 1


@pytest.mark.airflow_dag
def test_the_operator_fails_without_retries_on_an_unknown_payment(
    sandbox: VtexSandbox, run_dag: Callable[..., Any]
) -> None:
    pending_order(sandbox, "BOLETO-DAG2")

    dag_run = run_dag(
        "vtex_test_payment_notification", run_conf={"order_id": "BOLETO-DAG2", "payment_id": "NOPE"}
    )

    assert task_states(dag_run)["notify_payment"] == ["failed"]
    assert sandbox.payment_notifications("BOLETO-DAG2") == []
