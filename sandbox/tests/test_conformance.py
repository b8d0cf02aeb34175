"""Schemathesis against a running sandbox: every route it implements, held to VTEX's own OpenAPI file.

The standard sandbox is checked against ``VTEX - Orders API.json``, the PII sandbox against
``VTEX - Orders API PII version.json`` (from ``../shared/vtex/``), each corrected only where
``vtex_sandbox/spec_corrections.py`` says the file is wrong. Bounded for CI on a shared 2-core machine: a fixed
seed (derandomised Hypothesis), a few dozen examples per operation, no shrinking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from vtex_sandbox import spec_corrections

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

from vtex_sandbox import VtexSandbox  # noqa: E402

if TYPE_CHECKING:
    from hypothesis import settings

#: The operations the sandbox implements, per architecture (operationId of VTEX's files).
OPERATIONS = {
    "standard": [
        "InvoiceNotification",
        "Updatepartialinvoice.SendTrackingNumber",
        "UpdateTrackingStatus",
        "GetOrder",
        "ListOrders",
        "StartHandling",
        "CancelOrder",
        "SendPaymentNotification",
        # The order feed (Feed v3) and its JSONata test: the standard file documents them, for any account.
        "Getfeedorderstatus1",
        "Commititemfeedorderstatus",
        "GetFeedConfiguration",
        "FeedConfiguration",
        "FeedConfigurationDelete",
        "TestJSONataExpression",
        # The rest of the order day (issue 27): order reads, the order's log, modifications, settings.
        "GetOrdersByOrderGroup",
        "AddLog",
        "GetConversation",
        "GetPaymenttransaction",
        "Userorderslist",
        "Userorderdetails",
        "GetChangeSummary",
        "GetWindowToChangeSeller",
        "UpdateWindowToChangeSeller",
        "Createchange",
        "GetChangeHistory",
        "GetChangeDetail",
        "PreviewChange",
        "RetryChange",
        "CancelChangeStoppedonError",
        "UpdateOrderModificationsSettings",
        "GetOrderModificationsSettings",
        # Deprecated by VTEX (see vtex_sandbox/views/deprecated.py).
        "RegisterChange",
        "Getfeedorderstatus",
    ],
    "pii": [
        "InvoiceNotification2",
        "GetOrder2",
        "ListOrders2",
        "StartHandling2",
        "CancelOrder2",
        "SendPaymentNotification2",
    ],
}
EXAMPLES_PER_OPERATION = 30
#: Operations whose answer is not a success by design: Feed v2 is gone (410, naming Feed v3).
GONE = {"GET /api/oms/pvt/feed/orders/status": 410}


def _schema(architecture: str) -> Any:
    """The corrected file, reduced to the implemented operations; ``None`` when the file is absent."""
    if not spec_corrections.spec_available():
        return None
    loaded = schemathesis.openapi.from_dict(spec_corrections.corrected_spec(architecture, "conformance"))
    return loaded.include(operation_id=OPERATIONS[architecture])


def _excluded_checks() -> list[Any]:
    from schemathesis import checks as builtin

    return [getattr(builtin, name) for name in spec_corrections.EXCLUDED_CHECKS if hasattr(builtin, name)]


#: Per architecture and route: the statuses the sandbox answered during this module's run.
ANSWERED: dict[str, dict[str, set[int]]] = {"standard": {}, "pii": {}}
#: The invoice number of the tracking examples in the standard file: held by the example order, with a
#: tracking number, so PATCH and PUT tracking reach their 200 and its schema is checked too.
TRACKING_EXAMPLE_INVOICE = "000030711"


#: The operation each architecture's sandbox is being checked on (its state is reset between two).
_CURRENT: dict[str, str] = {}


def _fresh_state_for(operation: str, sandbox: VtexSandbox) -> None:
    """Each operation starts from the seed, so that one operation's examples (a cancel, say) do not
    decide another's answers (an invoice for the example order, canceled by then)."""
    if _CURRENT.get(sandbox.data_architecture) == operation:
        return
    _CURRENT[sandbox.data_architecture] = operation
    sandbox.reset()
    if "/api/orders/feed" in operation and operation != "POST /api/orders/feed/config":
        # A feed to read, commit, show and delete: events that stay visible (timeout 0), so every read
        # answers items and their schema is checked.
        sandbox.configure_feed(
            {
                "filter": {"type": "FromWorkflow", "status": ["payment-pending"]},
                "queue": {"visibilityTimeoutInSeconds": 0, "MessageRetentionPeriodInSeconds": 3600},
            }
        )
        for number in range(3):
            sandbox.place_order(f"FEED-{number}")
    if "{changeRequestId}" in operation:
        # A change request under the examples' id; retry and cancel need one that stopped on an error.
        sandbox.state.create_change(
            spec_corrections.EXAMPLE_CHANGE_ORDER,
            spec_corrections.EXAMPLE_CHANGE,
            request_id=spec_corrections.EXAMPLE_CHANGE_REQUEST,
        )
        if operation.endswith(("/retry", "/cancel")):
            sandbox.fail_changes(spec_corrections.EXAMPLE_CHANGE_ORDER)
            sandbox.advance_clock(60)
    if operation == "GET /api/oms/pvt/orders/order-group/{orderGroup}":
        sandbox.add_order("v71021948str-02", [{"id": "77", "name": "Mug", "quantity": 1, "price": 1500}])
    if sandbox.data_architecture == "standard" and "/invoice/" in operation:
        sandbox.state.invoice(
            "1172452900788-01",
            {
                "type": "Output",
                "invoiceNumber": TRACKING_EXAMPLE_INVOICE,
                "invoiceValue": "990",
                "issuanceDate": "2026-11-05T10:00:00-03:00",
                "trackingNumber": "TRK-1",
                "courier": "Correios",
                "items": [{"id": "18", "price": 990, "quantity": 1}],
            },
        )


@pytest.fixture(scope="module")
def standard_sandbox() -> Iterator[VtexSandbox]:
    with VtexSandbox() as sandbox:
        yield sandbox
    assert_every_route_reached_its_success_answer("standard")


@pytest.fixture(scope="module")
def pii_sandbox() -> Iterator[VtexSandbox]:
    with VtexSandbox(data_architecture="pii") as sandbox:
        yield sandbox
    assert_every_route_reached_its_success_answer("pii")


def _call(case: Any, sandbox: VtexSandbox) -> None:
    _fresh_state_for(f"{case.operation.method.upper()} {case.operation.path}", sandbox)
    auth = {"X-VTEX-API-AppKey": sandbox.app_key, "X-VTEX-API-AppToken": sandbox.app_token}
    response = case.call_and_validate(
        base_url=sandbox.url, headers=auth, excluded_checks=_excluded_checks(), timeout=10
    )
    operation = case.operation
    if case.method.upper() == operation.method.upper():  # not one of the wrong-method probes
        answered = ANSWERED[sandbox.data_architecture]
        answered.setdefault(f"{operation.method.upper()} {operation.path}", set()).add(response.status_code)


_SETTINGS: settings = hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    suppress_health_check=list(hypothesis.HealthCheck),
)

_Test = TypeVar("_Test", bound=Callable[..., None])


def _parametrize(schema: Any) -> Callable[[_Test], _Test]:
    """``schema.parametrize()``, typed: schemathesis annotates the decorator as a bare ``Callable``."""
    decorator: Callable[[_Test], _Test] = schema.parametrize()
    return decorator


_STANDARD = _schema("standard")
_PII = _schema("pii")


def test_spec_files_are_there_or_skipped_for_a_reason() -> None:
    spec_corrections.require_spec_or_skip()


if _STANDARD is not None:

    @_parametrize(_STANDARD)
    @_SETTINGS
    def test_standard_sandbox_conforms_to_the_standard_spec(case: Any, standard_sandbox: VtexSandbox) -> None:
        _call(case, standard_sandbox)

    @_parametrize(_PII)
    @_SETTINGS
    def test_pii_sandbox_conforms_to_the_pii_spec(case: Any, pii_sandbox: VtexSandbox) -> None:
        _call(case, pii_sandbox)


def assert_every_route_reached_its_success_answer(architecture: str) -> None:
    """Not vacuous: each operation checked was answered 2xx at least once, so its success schema was
    validated, not only its errors. Checked when the sandbox fixture ends, so whatever tests ran, in any
    order or selection, and reported as an error of the last one."""
    ran = ANSWERED[architecture]
    assert {
        route: statuses
        for route, statuses in ran.items()
        if not any(200 <= s < 300 or GONE.get(route) == s for s in statuses)
    } == {}
