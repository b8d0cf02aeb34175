"""What every VTEX task class shares: the connection id, the hook, and the error policy.

Modelled on the Amazon provider's ``AwsBaseHookMixin``: one mixin wires the hook for operators and
sensors alike, so a task class only renders, calls and reports.

The error policy is the tasks' contract with Airflow's retries: a failure that a retry cannot fix (a bad
payload, rejected credentials, an unknown order) raises ``AirflowFailException`` so the task fails at
once; a failure that time may fix (a rate limit, an outage, an answer lost) raises normally so the task's
``retries`` apply.
"""

from __future__ import annotations

import datetime as dt
import json
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.compat import AirflowFailException, BaseOperator
from airflow_provider_vtex.exceptions import VtexError, VtexPayloadError
from airflow_provider_vtex.get_provider_info import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from collections.abc import Iterator

    from airflow_provider_vtex.compat import Context
    from airflow_provider_vtex.hooks.vtex import VtexHook

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
        """Fail the task without retries for errors a retry cannot fix; let the others through."""
        try:
            yield
        except VtexPayloadError as exc:
            raise AirflowFailException(f"{exc}\nNothing was sent to VTEX; fix the values above.") from exc
        except VtexError as exc:
            if exc.retryable:
                raise
            raise AirflowFailException(str(exc)) from exc


class VtexBaseOperator(VtexHookMixin, BaseOperator):
    """Base of the VTEX operators; no I/O in ``__init__`` (DAG files are parsed often)."""

    ui_color = "#f71963"  # VTEX pink
    ui_fgcolor = "#ffffff"


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
