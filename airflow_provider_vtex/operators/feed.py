"""Operators for DAGs that pull VTEX's order feed: read without committing, then commit when done.

VTEX's feed (Feed v3) is a queue per AppKey: a read hands items out, and an item not committed becomes
visible again after the queue's visibility timeout. So the safe loop is: read (this task commits
nothing) -> do the work (get the orders, hand them to the ERP, start handling) -> commit the handles
only after that work succeeded. A run that dies in between loses nothing: its items come back, and the
start-handling step sees which orders are already handled and does not act on them twice.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from airflow_provider_vtex.compat import AirflowFailException
from airflow_provider_vtex.operators.base import (
    VTEX_TEMPLATE_FIELDS,
    VtexBaseOperator,
    json_text_or_value,
    task_instance,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_vtex.compat import Context

#: Handles per commit request: VTEX documents no limit; this keeps each request small.
COMMIT_BATCH = 100


class VtexReadOrderFeedOperator(VtexBaseOperator):
    """Read up to ``max_items`` items of the order feed, in lots of at most 10, and commit none.

    VTEX may hand the same event out twice within one read (its visibility timeout runs out while the read
    goes on), each time with a new handle. Each event is returned once, carrying every handle it was
    handed out with, so downstream tasks act on it once and the commit removes it whichever handle is
    current (committing a superseded handle is harmless).

    An item the provider cannot read (a field missing or of the wrong type, an oversized value) never
    fails the task: the other items go on, and it is set aside, reported (a warning with its event id
    and handle, the ``vtex.feed.items_unreadable`` metric) and committed at once, so VTEX stops handing
    it out; ``keep_unreadable=True`` leaves it in the feed. Either way the task pushes the list of them
    to XCom under the key ``unreadable`` (``{"event_id", "handle", "order_id", "problems"}`` each, never
    the item's body), for a dead-letter task to record.

    :param max_items: the most items to take from the feed in this run, repeats included (at least 1;
        templated).
    :param keep_unreadable: leave unreadable items in the feed instead of committing them (VTEX hands them
        out again after the visibility timeout, until the queue's retention drops them).
    :param vtex_conn_id: the ``vtex`` connection (its AppKey's feed; templated).
    :param hook_params: keyword arguments for the hook.
    :return: to XCom, one dict per distinct event (same ``event_id``; without one, same order, state and
        change time), in the order VTEX first handed them out: ``{"event_id", "handle", "handles",
        "order_id", "state", "last_state", "last_change", "current_change", "domain"}``; ``handle`` is
        the latest handle, ``handles`` all of them, oldest first. Pass the list to
        :class:`VtexCommitOrderFeedOperator` once the events are processed: it commits every handle.
    """

    template_fields: Sequence[str] = ("max_items", *VTEX_TEMPLATE_FIELDS)
    #: The XCom key of the unreadable items this task set aside (a list; empty when none).
    UNREADABLE_KEY = "unreadable"

    def __init__(self, *, max_items: int = 100, keep_unreadable: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_items = max_items
        self.keep_unreadable = keep_unreadable

    def execute(self, context: Context) -> list[dict[str, Any]]:
        limit = _positive_int(self.max_items, "max_items")
        events: dict[Any, dict[str, Any]] = {}
        unreadable: list[dict[str, Any]] = []
        handed_out = 0
        with self.vtex_errors():
            while handed_out < limit:
                asked = min(10, limit - handed_out)
                lot = self.hook.read_feed_lot(max_lot=asked)
                self.hook.report_unreadable(lot.unreadable, keep=self.keep_unreadable)
                if not self.keep_unreadable:
                    self.hook.commit_feed_items(lot.unreadable_handles)
                handed_out += len(lot.items) + len(lot.unreadable)
                for item in lot.items:
                    _add(events, item.to_xcom())
                unreadable += [item.to_xcom() for item in lot.unreadable]
                if len(lot.items) + len(lot.unreadable) < asked:  # fewer than asked: nothing more visible now
                    break
        ti = task_instance(context)
        if ti is not None:
            ti.xcom_push(key=self.UNREADABLE_KEY, value=unreadable)
        items = list(events.values())
        states = Counter(str(item["state"]) for item in items)
        repeats = handed_out - len(items)
        if repeats:
            from airflow_provider_vtex import metrics

            metrics.incr("vtex.feed.items_redelivered", repeats)
        self.log.info(
            "Read %d feed item(s), not committed (%s)%s%s.",
            len(items),
            ", ".join(f"{n} {state}" for state, n in sorted(states.items())) or "the feed is empty",
            f"; VTEX handed out {repeats} of them again within this read (kept once, every handle kept "
            "for the commit)"
            if repeats
            else "",
            f"; {len(unreadable)} unreadable item(s) set aside ({'kept in the feed' if self.keep_unreadable else 'committed'}; "
            "XCom key 'unreadable')"
            if unreadable
            else "",
        )
        return items


class VtexCommitOrderFeedOperator(VtexBaseOperator):
    """Commit feed items, so VTEX stops handing them out; committing one twice is harmless.

    :param handles: (templated) the items to commit: the list :class:`VtexReadOrderFeedOperator` returned
        (dicts with ``handles``, every handle of the event, or ``handle``), a list of handles, or that
        list as JSON text. Every handle is committed once. Usually the read task's
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


def _add(events: dict[Any, dict[str, Any]], item: dict[str, Any]) -> None:
    """Add a handed-out item to ``events``, or merge its handle into the same event seen before."""
    key = item.get("event_id") or (item.get("order_id"), item.get("state"), item.get("current_change"))
    seen = events.get(key)
    if seen is None:
        events[key] = {**item, "handles": [item["handle"]] if item.get("handle") else []}
        return
    if item.get("handle") and item["handle"] not in seen["handles"]:
        seen["handles"].append(item["handle"])
        seen["handle"] = item["handle"]


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
    value = json_text_or_value(value, "handles", plain_text=True)
    if isinstance(value, str):
        value = [value]  # one handle
    if not isinstance(value, list | tuple):
        raise AirflowFailException(
            f"handles must be the feed items (or their handles) to commit; got {type(value).__name__}."
        )
    handles: list[str] = []
    for position, item in enumerate(value):
        if isinstance(item, dict) and isinstance(item.get("handles"), list) and item["handles"]:
            given = item["handles"]  # every handle the read operator was handed for this event
        else:
            given = [item.get("handle") if isinstance(item, dict) else item]
        for handle in given:
            if not isinstance(handle, str) or not handle:
                raise AirflowFailException(
                    f"handles[{position}] is neither a feed item with a 'handle' nor a handle; got {item!r}."
                )
            if handle not in handles:
                handles.append(handle)
    return handles
