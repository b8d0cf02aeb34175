"""What every VTEX task class shares: the connection id, the hook, and the error policy.

Modelled on the Amazon provider's ``AwsBaseHookMixin``: one mixin wires the hook for operators and
sensors alike, so a task class only renders, calls and reports.

The error policy is the tasks' contract with Airflow's retries: a failure that a retry cannot fix (a bad
payload, rejected credentials, an unknown order) raises ``AirflowFailException`` so the task fails at
once; a failure that time may fix (a rate limit, an outage, an answer lost) raises normally so the task's
``retries`` apply.

Whichever way the VTEX work ends, the task leaves a small record of what VTEX answered it as the XCom
``vtex_report`` (:mod:`airflow_provider_vtex.models.report`): the outcome, VTEX's error code, the 429s and
the seconds waited. The VTEX page in Airflow's UI reads them; they hold no secret.
"""

from __future__ import annotations

import datetime as dt
import json
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.compat import (
    AirflowException,
    AirflowFailException,
    BaseOperator,
    get_current_context,
)
from airflow_provider_vtex.exceptions import (
    VtexApiError,
    VtexError,
    VtexOutcomeUnknownError,
    VtexPayloadError,
    root_cause,
)
from airflow_provider_vtex.get_provider_info import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from collections.abc import Iterator

    from airflow_provider_vtex.compat import Context
    from airflow_provider_vtex.hooks.vtex import VtexHook
    from airflow_provider_vtex.models.report import TaskOutcome

#: Template fields every VTEX task class has.
VTEX_TEMPLATE_FIELDS = ("vtex_conn_id",)


class VtexHookMixin:
    """Owns ``vtex_conn_id`` (templated), ``hook_params``, the cached hook and the error translation.

    :param vtex_conn_id: the ``vtex`` Airflow connection to use (templated).
    :param hook_params: keyword arguments for :class:`~airflow_provider_vtex.hooks.vtex.VtexHook`, e.g.
        ``{"readback_timeout": 60, "max_requests_per_second": 20}``.
    """

    def __init__(
        self, *, vtex_conn_id: str = DEFAULT_CONN_ID, hook_params: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.vtex_conn_id = vtex_conn_id
        self.hook_params = hook_params

    def hook_parameters(self) -> dict[str, Any]:
        """Keyword arguments of the hook; task classes with settings of their own extend this."""
        return dict(self.hook_params or {})

    @cached_property
    def hook(self) -> VtexHook:
        """The hook, built on first use in ``execute`` (imported lazily to keep DAG parsing cheap)."""
        from airflow_provider_vtex.hooks.vtex import VtexHook

        return VtexHook(vtex_conn_id=self.vtex_conn_id, **self.hook_parameters())

    @contextmanager
    def vtex_errors(self) -> Iterator[None]:
        """Fail the task without retries for errors a retry cannot fix; let the others through. A failure
        leaves the task's ``vtex_report`` XCom (see the module docstring; success leaves it in
        ``post_execute``, whatever part of ``execute`` called VTEX)."""
        try:
            yield
        except VtexPayloadError as exc:
            self._leave_report(_report_of(exc))
            raise AirflowFailException(f"{exc}\nNothing was sent to VTEX; fix the values above.") from exc
        except VtexError as exc:
            self._leave_report(_report_of(exc))
            if exc.retryable:
                raise
            raise AirflowFailException(str(exc)) from exc
        except AirflowFailException:
            self._leave_report(("failed", None, None))
            raise
        except AirflowException:  # what the task's retries are for
            self._leave_report(("retrying", None, None))
            raise

    def post_execute(self, context: Any, result: Any = None) -> None:
        """Airflow calls this after a successful ``execute``: the task's ``vtex_report`` says so."""
        super().post_execute(context, result)  # type: ignore[misc]  # BaseOperator's, next in the MRO
        self._leave_report(("success", None, None), task_instance(context))

    def _leave_report(self, parts: tuple[TaskOutcome, str | None, str | None], ti: Any = None) -> None:
        """Push the record to the running task instance (none when ``execute`` runs outside Airflow, or
        before any hook was built: nothing was asked of VTEX)."""
        ti = ti if ti is not None else current_task_instance()
        if ti is None or "hook" not in self.__dict__:
            return
        from airflow_provider_vtex.models.report import REPORT_XCOM_KEY, TaskReport

        outcome, error_code, unknown_order_id = parts
        record = TaskReport.of(
            self.vtex_conn_id,
            self.hook.tally,
            outcome,
            error_code=error_code,
            unknown_order_id=unknown_order_id,
        )
        ti.xcom_push(key=REPORT_XCOM_KEY, value=record.to_xcom())


class VtexBaseOperator(VtexHookMixin, BaseOperator):
    """Base of the VTEX operators; no I/O in ``__init__`` (DAG files are parsed often)."""

    ui_color = "#f71963"  # VTEX pink
    ui_fgcolor = "#ffffff"


def _report_of(exc: VtexError) -> tuple[TaskOutcome, str | None, str | None]:
    """Outcome, error code and unknown order of a task's VTEX work that ended with ``exc``."""
    cause = root_cause(exc)
    code = None
    if isinstance(cause, VtexApiError):
        code = cause.error_code or f"HTTP {cause.http_status}"
    if isinstance(exc, VtexOutcomeUnknownError) or isinstance(cause, VtexOutcomeUnknownError):
        unknown = exc if isinstance(exc, VtexOutcomeUnknownError) else cause
        return "outcome_unknown", code, getattr(unknown, "order_id", None)
    if exc.retryable:
        return "retrying", code, None
    if isinstance(cause, VtexApiError) and 400 <= cause.http_status < 500:
        return "refused", code, None
    return "failed", code, None


def current_task_instance() -> Any:
    """The task instance running this code, or None outside a task (``execute`` called from a test)."""
    try:
        return get_current_context().get("ti")
    except (RuntimeError, AirflowException):  # no task is running in this process
        return None


def task_instance(context: Context | dict[str, Any]) -> Any:
    """The running task instance, or None (a task's ``execute`` called outside Airflow, as in tests)."""
    return context.get("ti") if hasattr(context, "get") else None


def try_number(context: Context | dict[str, Any]) -> int:
    """This attempt's number (1 on the first run; more after a retry or a cleared and re-run task)."""
    return int(getattr(task_instance(context), "try_number", None) or 1)


def json_text_or_value(value: Any, what: str, *, plain_text: bool) -> Any:
    """``value``, or the JSON it holds when it is text: a templated list arrives as a list from an XCom,
    or as JSON text from Jinja. The operators' one parser for "a list, or JSON text of one".

    With ``plain_text``, text that is not JSON is returned as it is (one order id, one handle); without,
    it fails the task naming ``what``. JSON text with a key twice always fails it: which value was meant
    is unknown.
    """
    if not isinstance(value, str):
        return value
    from airflow_provider_vtex.models.types import DuplicateKeyError, TooDeepError, loads_json  # at run time

    try:
        return loads_json(value)
    except DuplicateKeyError as exc:
        raise AirflowFailException(f"{what} (JSON text): {exc}.") from None
    except TooDeepError as exc:
        raise AirflowFailException(f"{what} (JSON text) at {exc.path}: {exc}.") from None
    except json.JSONDecodeError as exc:
        if plain_text:
            return value
        raise AirflowFailException(
            f"{what} is text but not JSON ({exc.msg} at column {exc.colno})."
        ) from None


def attempt_started_at() -> dt.datetime:
    """When this attempt began sending: any earlier attempt of the task had stopped by then.

    Taken from the worker's own clock when ``execute`` starts (not from the scheduler's), so clock skew
    between machines cannot shorten the wait that protects against a second invoice.
    """
    return dt.datetime.now(dt.timezone.utc)
