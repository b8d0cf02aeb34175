"""The contract of the feed's other requests: ``maxlot`` of a read, the handles of a commit, and the
body of "Test JSONata expression" (the configuration's own contract is in ``config``)."""

from __future__ import annotations

import json
import re
from typing import Any

from vtex_sandbox.errors import bad_request
from vtex_sandbox.feed.expressions import compile_expression
from vtex_sandbox.feed.queue import MAX_LOT
from vtex_sandbox.validation.common import canonical_keys


def parse_max_lot(query: dict[str, list[str]]) -> int:
    """``maxlot``: required (VTEX's file marks it so), one whole number from 1 to 10."""
    values = query.get("maxlot")
    if not values:
        raise bad_request(
            f"maxlot is required: how many feed items to hand out, from 1 to {MAX_LOT} (GET /api/orders/feed?maxlot=10)"
        )
    if len(values) > 1:
        raise bad_request(f"maxlot is given {len(values)} times; give it once")
    raw = values[0]
    if re.fullmatch(r"[1-9][0-9]*", raw) is None or not 1 <= int(raw) <= MAX_LOT:
        raise bad_request(
            f"maxlot must be a whole number from 1 to {MAX_LOT} (the most VTEX hands out), not {raw!r}"
        )
    return int(raw)


def parse_handles(body: Any) -> list[str]:
    """``{"handles": [...]}``: the handles of the items to commit (an empty list commits nothing)."""
    if not isinstance(body, dict):
        raise bad_request(
            'The request body must be a JSON object: {"handles": ["<handle of a feed item>", ...]}'
        )
    body = canonical_keys(body, ("handles",))
    unknown = sorted(set(body) - {"handles"})
    if unknown:
        raise bad_request(f"{unknown[0]} is not a field of a feed commit; send only handles")
    handles = body.get("handles")
    if not isinstance(handles, list):
        raise bad_request(
            "handles is required: the list of the handles the feed read answered, as strings "
            '({"handles": ["<handle>", ...]}); the eventId is not a handle'
        )
    for index, handle in enumerate(handles):
        if not isinstance(handle, str) or not handle:
            raise bad_request(f"handles[{index}] must be a handle (a non-empty string), not {handle!r}")
    return handles


def evaluate_test(body: Any) -> bool:
    """ "Test JSONata expression": ``Expression`` evaluated on ``Document`` (a JSON document in a string)."""
    if not isinstance(body, dict):
        raise bad_request(
            'The request body must be a JSON object: {"Expression": "...", "Document": "{...}"}'
        )
    body = canonical_keys(body, ("Expression", "Document"))
    unknown = sorted(set(body) - {"Expression", "Document"})
    if unknown:
        raise bad_request(f"{unknown[0]} is not a field of this request; send Expression and Document")
    for name in ("Expression", "Document"):
        if not isinstance(body.get(name), str):
            raise bad_request(f"{name} is required, as a string")
    try:
        document = json.loads(body["Document"], parse_constant=_not_json)
    except ValueError as exc:
        raise bad_request(
            f'Document must be a JSON document in a string (e.g. \'{{"status": "canceled"}}\'): {exc}'
        ) from None
    return compile_expression(body["Expression"], "Expression").matches(
        document, "Expression", of_an_order=False
    )


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
