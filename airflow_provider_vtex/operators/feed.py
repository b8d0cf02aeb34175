"""Operators for DAGs that pull VTEX's order feed: read without committing, then commit when done.

VTEX's feed (Feed v3) is a queue per AppKey: a read hands items out, and an item not committed becomes
visible again after the queue's visibility timeout. So the safe loop is: read (this task commits
nothing) -> do the work (get the orders, hand them to the ERP, start handling) -> commit the handles
only after that work succeeded. A run that dies in between loses nothing: its items come back, and the
start-handling step sees which orders are already handled and does not act on them twice.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.compat import AirflowFailException
from airflow_provider_vtex.operators.base import VTEX_TEMPLATE_FIELDS, VtexBaseOperator

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_vtex.compat import Context

#: Handles per commit request: VTEX documents no limit; this keeps each request small.
COMMIT_BATCH = 100


class VtexReadOrderFeedOperator(VtexBaseOperator):
    """Read up to ``max_items`` items of the order feed, in lots of at most 10, and commit none.

    :param max_items: the most items to read in this run (at least 1; templated).
    :param vtex_conn_id: the ``vtex`` connection (its AppKey's feed; templated).
    :param hook_params: keyword arguments for the hook.
    :return: to XCom, the items as dicts: ``{"event_id", "handle", "order_id", "state", "last_state",
        "last_change", "current_change", "domain"}``, in the order VTEX handed them out. Pass them (or
        their handles) to :class:`VtexCommitOrderFeedOperator` once they are processed.
    """

    template_fields: Sequence[str] = ("max_items", *VTEX_TEMPLATE_FIELDS)

    def __init__(self, *, max_items: int = 100, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_items = max_items

    def execute(self, context: Context) -> list[dict[str, Any]]:
        limit = _positive_int(self.max_items, "max_items")
        items: list[dict[str, Any]] = []
        with self.vtex_errors():
            while len(items) < limit:
                asked = min(10, limit - len(items))
                lot = self.hook.get_feed_items(max_lot=asked)
                items.extend(item.to_xcom() for item in lot)
                if len(lot) < asked:  # fewer than asked: nothing more is visible now
                    break
        states = Counter(str(item["state"]) for item in items)
        self.log.info(
            "Read %d feed item(s), not committed (%s).",
            len(items),
            ", ".join(f"{n} {state}" for state, n in sorted(states.items())) or "the feed is empty",
        )
        return items


class VtexCommitOrderFeedOperator(VtexBaseOperator):
    """Commit feed items, so VTEX stops handing them out; committing one twice is harmless.

    :param handles: (templated) the items to commit: the list :class:`VtexReadOrderFeedOperator` returned
        (dicts with ``handle``), a list of handles, or that list as JSON text. Usually the read task's
        ``.output``, with this task downstream of the tasks that process the orders.
    :param vtex_conn_id: the ``vtex`` connection (templated).
    :param hook_params: keyword arguments for the hook.
    :return: to XCom, the number of handles committed.
    """

    template_fields: Sequence[str] = ("handles", *VTEX_TEMPLATE_FIELDS)
    template_fields_renderers = {"handles": "json"}

    def __init__(self, *, handles: list[Any] | str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.handles = handles

    def execute(self, context: Context) -> int:
        handles = _handles(self.handles)
        with self.vtex_errors():
            for start in range(0, len(handles), COMMIT_BATCH):
                self.hook.commit_feed_items(handles[start : start + COMMIT_BATCH])
        self.log.info("Committed %d feed item(s).", len(handles))
        return len(handles)


def _positive_int(value: Any, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if isinstance(value, bool) or number < 1 or str(number) != str(value).strip():
        raise AirflowFailException(f"{name} must be a whole number of at least 1; got {value!r}.")
    return number


def _handles(value: Any) -> list[str]:
    """Handles from feed items, handles, or either as JSON text; refuses anything else, naming it."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            value = [value]  # one handle
    if not isinstance(value, list | tuple):
        raise AirflowFailException(
            f"handles must be the feed items (or their handles) to commit; got {type(value).__name__}."
        )
    handles: list[str] = []
    for position, item in enumerate(value):
        handle = item.get("handle") if isinstance(item, dict) else item
        if not isinstance(handle, str) or not handle:
            raise AirflowFailException(
                f"handles[{position}] is neither a feed item with a 'handle' nor a handle; got {item!r}."
            )
        handles.append(handle)
    return handles
