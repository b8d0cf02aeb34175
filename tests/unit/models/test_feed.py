"""Reading a feed lot: each item VTEX hands out is read strictly, and one the provider cannot read is set
aside (with what identifies it and why, never its body) while the others go on.

The strategies here are shared with tests/unit/hooks/test_unreadable_items.py, which serves the same
broken items through the sandbox.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_vtex.exceptions import VtexUnexpectedResponseError
from airflow_provider_vtex.models.feed import MAX_HANDLE_LENGTH, REPORTED_ID_CHARS, FeedLot
from airflow_provider_vtex.models.types import MAX_ID_LENGTH, MAX_TEXT

PATH = "/api/orders/feed"
#: Planted in every broken item (an extra key, mistyped and oversized values): it must reach no report.
SECRET = "APPTOKEN-must-not-leak-ZXCV"
REQUIRED = ("eventId", "handle", "orderId", "state")
OPTIONAL = ("lastState", "lastChange", "currentChange", "domain")


def good_item(n: int) -> dict[str, Any]:
    return {
        "eventId": f"EV{n}",
        "handle": f"HANDLE-{n}",
        "orderId": f"GOOD{n}-01",
        "state": "ready-for-handling",
        "lastState": "payment-approved",
        "lastChange": "2024-02-07T15:22:56.7612218Z",
        "currentChange": "2024-02-07T15:22:57.0000000Z",
        "domain": "Marketplace",
        "someFieldVtexAddsLater": {"nested": [1, 2]},
    }


def _with(field: str, value: Any) -> dict[str, Any]:
    item = {**good_item(99), "appToken": SECRET}
    item[field] = value
    return item


def _without(field: str) -> dict[str, Any]:
    item = _with("appToken", SECRET)
    del item[field]
    return item


_MISTYPED = st.one_of(
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.just([SECRET]),
    st.just({"token": SECRET}),
)
_HUGE_TEXT = st.integers(MAX_TEXT + 1, 5 * MAX_TEXT).map(lambda n: (SECRET + "x" * n)[:n])
_BLANK = st.sampled_from(["", " ", "\n\t"])


@st.composite
def broken_item(draw: st.DrawFn) -> tuple[Any, str]:
    """``(item, field)``: a feed item the provider must set aside, and the wire name of the field its
    report must name (``(item)`` for a value that is not an object).

    Missing and mistyped fields, blank ids, oversized values (text beyond :data:`MAX_TEXT`, a handle
    beyond :data:`MAX_HANDLE_LENGTH`, an order id beyond :data:`MAX_ID_LENGTH` or one a route cannot
    take), and values that are not objects. Every one carries :data:`SECRET` somewhere but in its event
    id and handle (which the report quotes, cut, to identify the item).
    """
    kind = draw(st.sampled_from(["missing", "mistyped", "none", "blank", "huge", "order_id", "not_object"]))
    if kind == "missing":
        field = draw(st.sampled_from(REQUIRED))
        return _without(field), field
    if kind == "mistyped":
        field = draw(st.sampled_from(REQUIRED + OPTIONAL))
        return _with(field, draw(_MISTYPED)), field
    if kind == "none":
        field = draw(st.sampled_from(REQUIRED))
        return _with(field, None), field
    if kind == "blank":
        field = draw(st.sampled_from(("eventId", "handle", "state")))
        return _with(field, draw(_BLANK)), field
    if kind == "huge":
        field = draw(st.sampled_from(("eventId", "handle", "state", *OPTIONAL)))
        if field == "handle":
            return _with(field, "h" * draw(st.integers(MAX_HANDLE_LENGTH + 1, 4 * MAX_HANDLE_LENGTH))), field
        if field == "eventId":
            return _with(field, "e" * draw(st.integers(MAX_TEXT + 1, 5 * MAX_TEXT))), field
        return _with(field, draw(_HUGE_TEXT)), field
    if kind == "order_id":
        bad = draw(
            st.one_of(
                st.integers(MAX_ID_LENGTH + 1, 10 * MAX_ID_LENGTH).map(lambda n: "7" * n),
                st.sampled_from(["", ".", "..", f"../{SECRET}", f"{SECRET}/invoice", "a b", "x#y", "ü-01"]),
            )
        )
        return _with("orderId", bad), "orderId"
    return draw(st.one_of(st.integers(), st.just(SECRET), st.just([good_item(1)]), st.none())), "(item)"


# Scaled by the loaded profile, as tests/unit/operators/test_bad_input.py does: a tenth in the compat runs.
@settings(max_examples=max(1, 150 * settings().max_examples // 100), deadline=None)
@given(bad=broken_item(), before=st.integers(0, 4), after=st.integers(0, 4))
def test_a_broken_item_is_set_aside_and_the_others_are_read(
    bad: tuple[Any, str], before: int, after: int
) -> None:
    raw, field = bad
    good = [good_item(n) for n in range(before + after)]
    lot = FeedLot.from_answer([*good[:before], raw, *good[before:]], PATH)
    assert [item.event_id for item in lot.items] == [item["eventId"] for item in good]
    (unreadable,) = lot.unreadable
    assert unreadable.position == before
    assert any(problem.startswith(f"{field}: ") for problem in unreadable.problems), unreadable.problems
    report = unreadable.describe() + json.dumps(unreadable.to_xcom())
    assert SECRET not in report
    assert len(report) < 2 * MAX_HANDLE_LENGTH + 2_000  # a handle is quoted whole only in to_xcom
    assert len(unreadable.describe()) < 1_500
    if isinstance(raw, dict) and raw.get("eventId") == "EV99":
        assert unreadable.event_id == "EV99"
    handle = raw.get("handle") if isinstance(raw, dict) else None
    if isinstance(handle, str) and handle.strip() and len(handle) <= MAX_HANDLE_LENGTH:
        assert lot.unreadable_handles == [handle]
    else:
        assert lot.unreadable_handles == []


def test_an_event_id_is_quoted_cut() -> None:
    lot = FeedLot.from_answer([_with("eventId", "E" * 10 * MAX_TEXT)], PATH)
    (unreadable,) = lot.unreadable
    assert unreadable.event_id is not None
    assert len(unreadable.event_id) == REPORTED_ID_CHARS
    assert unreadable.event_id.endswith("…")
    assert unreadable.problems == (
        f"eventId: has {10 * MAX_TEXT:,} characters; VTEX's text in a feed item has at most {MAX_TEXT:,}",
    )


@pytest.mark.parametrize(
    ("answer", "came"),
    [
        ({"items": [good_item(1)]}, "a JSON object (1 key(s))"),
        ("[]", "a JSON string"),
        (None, "an empty body"),
        (3, "a JSON number"),
    ],
)
def test_an_answer_that_is_not_a_list_is_an_error(answer: Any, came: str) -> None:
    with pytest.raises(VtexUnexpectedResponseError, match=re.escape(f"with 200 but {came}")) as caught:
        FeedLot.from_answer(answer, PATH)
    assert caught.value.retryable  # a gateway's answer: the next read may reach VTEX


def test_an_empty_lot_is_no_items() -> None:
    assert FeedLot.from_answer([], PATH) == FeedLot([], [])
