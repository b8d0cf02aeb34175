"""The hostile-input DAG of tests/integration/test_security.py: one task per hostile value, all in one run.

Every task has retries set: a refusal must fail it on try 1 (``AirflowFailException``), not spend the
retries. The connection tasks use a connection per case (``vtex_hostile_<case>``), which the test
defines with an ``AIRFLOW_CONN_*`` variable; the other tasks use ``vtex_default`` (the sandbox).
"""

from __future__ import annotations

import datetime as dt

from airflow_provider_vtex.operators.invoice import InvoiceNotificationOperator
from airflow_provider_vtex.operators.tracking import TrackingNotificationOperator

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2.11 (mypy checks 3.3's names)
    from airflow.decorators import dag, task  # type: ignore[attr-defined,no-redef]

START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
ORDER = "70caf3941s6df1"  # seeded in the sandbox: SKU 2001, price 2499, quantity 3, value 7497


def invoice(**changes: object) -> dict[str, object]:
    return {
        "type": "Output",
        "invoiceNumber": "NF-SEC-1",
        "invoiceValue": "7497",
        "issuanceDate": "2024-03-01T10:00:00-03:00",
        "items": [{"id": "2001", "price": 2499, "quantity": 3}],
        **changes,
    }


#: Connection cases: the test defines ``vtex_hostile_<case>`` for each.
CONNECTION_CASES = (
    "environment_userinfo",
    "host_userinfo",
    "timeout_zero",
    "timeout_nan",
    "timeout_inf",
    "max_retries_inf",
    "max_retries_nan",
    "base_url_no_host",
    "base_url_port_99999",
    "verify_missing_file",
    "login_not_latin1",
    "token_newline",
    "conn_type_http",
    "extra_name_misspelled",
    "environment_misspelled",
    "base_url_plain_http_remote",
)
#: (task id, order id) sent to the invoice operator.
ORDER_ID_CASES = (
    ("order_id_dot", "."),
    ("order_id_dotdot", ".."),
    ("order_id_traversal", "../../x"),
    ("order_id_query", "a?b=c"),
    ("order_id_fragment", "x#y"),
    ("order_id_10000_chars", "x" * 10_000),
)
#: (task id, invoice number) sent to the tracking operator.
INVOICE_NUMBER_CASES = (("invoice_number_dot", "."), ("invoice_number_dotdot", ".."))


@dag(
    dag_id="vtex_test_hostile_input",
    schedule=None,
    start_date=START,
    catchup=False,
    default_args={"retries": 2, "retry_delay": dt.timedelta(seconds=1)},
    tags=["vtex-tests"],
)
def hostile_input() -> None:
    for case in CONNECTION_CASES:
        InvoiceNotificationOperator(
            task_id=f"connection_{case}",
            order_id=ORDER,
            invoice=invoice(),
            vtex_conn_id=f"vtex_hostile_{case}",
        )
    for task_id, order_id in ORDER_ID_CASES:
        InvoiceNotificationOperator(task_id=task_id, order_id=order_id, invoice=invoice())
    for task_id, number in INVOICE_NUMBER_CASES:
        TrackingNotificationOperator(
            task_id=task_id, order_id=ORDER, invoice_number=number, tracking={"trackingNumber": "BR1"}
        )
    InvoiceNotificationOperator(
        task_id="payload_nan", order_id=ORDER, invoice=invoice(invoiceValue=float("nan"))
    )

    @task
    def erp_export_with_a_newline() -> dict[str, object]:
        # Through XCom, as an ERP hands it over: a literal in the DAG would lose its trailing newline to
        # Jinja (templated strings are rendered with keep_trailing_newline off).
        return invoice(invoiceNumber="NF-1\n")

    # an XComArg stands for its value at run time, which Airflow's types cannot say
    InvoiceNotificationOperator(
        task_id="payload_invoice_number_newline",
        order_id=ORDER,
        invoice=erp_export_with_a_newline(),  # type: ignore[arg-type]
    )
    TrackingNotificationOperator(
        task_id="payload_delivered_date_impossible",
        order_id=ORDER,
        invoice_number="NF-SEC-1",
        tracking={"isDelivered": True, "deliveredDate": "2024-13-45 99:99"},
    )
    # Accepted: white space around a digit string (a template's line break) is trimmed; VTEX gets "2499".
    InvoiceNotificationOperator(
        task_id="payload_value_with_spaces",
        order_id="1172452900791-01",
        invoice={
            "type": "Output",
            "invoiceNumber": "NF-SEC-2",
            "invoiceValue": " 8900 ",
            "issuanceDate": "2024-03-01T10:00:00-03:00",
            "items": [{"id": "6100", "price": 8900, "quantity": 1}],
        },
    )


hostile_input()
