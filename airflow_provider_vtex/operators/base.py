"""What every VTEX operator shares: the connection id, a lazily built hook, and the error policy.

The error policy is the operators' contract with Airflow's retries: a failure that a retry cannot fix
(a bad payload, rejected credentials, an unknown order) raises ``AirflowFailException`` so the task
fails at once; a failure that time may fix (a rate limit, an outage) raises normally so the task's
``retries`` apply.
"""

from __future__ import annotations

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


class VtexBaseOperator(BaseOperator):
    """Base of the VTEX operators; holds no I/O in ``__init__`` (DAG files are parsed often)."""

    ui_color = "#f71963"  # VTEX pink
    ui_fgcolor = "#ffffff"

    def __init__(
        self, *, vtex_conn_id: str = DEFAULT_CONN_ID, hook_params: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.vtex_conn_id = vtex_conn_id
        self.hook_params = hook_params

    @cached_property
    def hook(self) -> VtexHook:
        """The hook, built on first use in ``execute`` (imported lazily to keep DAG parsing cheap)."""
        from airflow_provider_vtex.hooks.vtex import VtexHook

        return VtexHook(vtex_conn_id=self.vtex_conn_id, **(self.hook_params or {}))

    @contextmanager
    def vtex_errors(self) -> Iterator[None]:
        """Fail the task without retries for errors that a retry cannot fix; let the others through."""
        try:
            yield
        except VtexPayloadError as exc:
            raise AirflowFailException(f"{exc}\nNothing was sent to VTEX; fix the payload.") from exc
        except VtexError as exc:
            if exc.retryable:
                raise
            raise AirflowFailException(str(exc)) from exc


def try_number(context: Context | dict[str, Any]) -> int:
    """This attempt's number (1 on the first run; more after a retry or a cleared and re-run task)."""
    ti = context.get("ti") if hasattr(context, "get") else None
    return int(getattr(ti, "try_number", None) or 1)


def order_id_text(value: Any) -> str:
    """The rendered ``order_id`` as text; refuses an empty or structured value with a clear message."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise AirflowFailException(
            f"order_id must be a non-empty VTEX order id such as '1172452900788-01'; got {value!r}. "
            "If it comes from a template or XCom, check what the upstream task returned."
        )
    return value.strip()
