"""VTEX's order hook: its configuration (what we send) and its notifications (what VTEX pushes).

The hook is the feed's pushing twin: the same filter, but instead of a queue to read, a URL VTEX POSTs
each matching order change to, with a fixed map of headers on every call. VTEX signs nothing, so those
headers are the only proof that a call comes from VTEX: the provider puts a secret there (see
:data:`SECRET_HEADER`) and the receiver (``plugins/receiver.py``) refuses any call without it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from airflow_provider_vtex.models.base import VtexPayload
from airflow_provider_vtex.models.feed import FeedFilter
from airflow_provider_vtex.models.types import NonEmptyText

#: The header that carries the connection's ``hook_secret`` on every call VTEX makes to the receiver.
SECRET_HEADER = "X-Vtex-Hook-Secret"
#: The body VTEX POSTs when a configuration is saved; it refuses the configuration unless answered 200.
PING_BODY = {"hookConfig": "ping"}


class HookTarget(VtexPayload):
    """Where VTEX pushes (an https URL) and the headers it sends with every call."""

    payload_name: ClassVar[str] = "hook target"
    required_hints: ClassVar[dict[str, str]] = {
        "url": "add the receiver's address, e.g. https://airflow.example.com/vtex/order-hook/vtex_default"
    }

    url: NonEmptyText
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(
                "must be the receiver's absolute address, starting with https:// (VTEX calls it from the "
                "internet), e.g. https://airflow.example.com/vtex/order-hook/vtex_default"
            )
        return value

    def __repr__(self) -> str:  # the headers hold the secret: never shown
        return f"HookTarget(url={self.url!r}, headers=<{len(self.headers)} hidden>)"

    __str__ = __repr__


class HookConfig(VtexPayload):
    """The body of ``POST /api/orders/hook/config``: the feed's filter and the hook's target."""

    payload_name: ClassVar[str] = "hook configuration"
    required_hints: ClassVar[dict[str, str]] = {
        "filter": "add a filter, e.g. {'type': 'FromWorkflow', 'status': ['ready-for-handling']}",
        "hook": "add the target, e.g. {'url': 'https://airflow.example.com/vtex/order-hook/vtex_default'}",
    }

    filter: FeedFilter
    hook: HookTarget

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class _Answer(BaseModel):
    """A VTEX answer or call: unknown keys kept (VTEX adds fields over time)."""

    model_config = ConfigDict(populate_by_name=True, extra="allow", frozen=True)


class HookStatus(_Answer):
    """``GET /api/orders/hook/config``: the configuration VTEX holds for this AppKey."""

    filter: dict[str, Any] | None = None
    hook: dict[str, Any] | None = None

    @property
    def url(self) -> str | None:
        url = (self.hook or {}).get("url")
        return url if isinstance(url, str) else None

    def sends_header(self, name: str, value: str) -> bool:
        """Whether VTEX sends ``name: value`` with every call (header names are case-insensitive)."""
        headers = (self.hook or {}).get("headers") or {}
        return any(
            isinstance(key, str) and key.lower() == name.lower() and sent == value
            for key, sent in headers.items()
        )

    def __repr__(self) -> str:  # VTEX echoes the headers, secret included
        return f"HookStatus(url={self.url!r}, filter={self.filter!r})"

    __str__ = __repr__


class HookOrigin(_Answer):
    """Who sent the notification: the account and the AppKey whose hook it is."""

    account: NonEmptyText = Field(alias="Account")
    key: NonEmptyText = Field(alias="Key")


class HookNotification(_Answer):
    """One order change VTEX pushed: ``Domain``, ``OrderId``, ``State``, ``LastChange``, ``Origin``, and,
    as VTEX's OpenAPI file describes the call, ``LastState`` and ``CurrentChange`` (as in a feed item).

    VTEX's hook guide names only ``LastChange``, as the time of this change; the OpenAPI file has both,
    ``LastChange`` then being the previous change and ``CurrentChange`` this one. So the time of this change
    is ``CurrentChange`` when present, else ``LastChange``: the feed's ``currentChange`` either way.
    """

    domain: str | None = Field(default=None, alias="Domain")
    order_id: NonEmptyText = Field(alias="OrderId")
    state: NonEmptyText = Field(alias="State")
    last_state: str | None = Field(default=None, alias="LastState")
    last_change: NonEmptyText = Field(alias="LastChange")
    current_change: str | None = Field(default=None, alias="CurrentChange")
    origin: HookOrigin = Field(alias="Origin")

    def to_event_payload(self) -> dict[str, Any]:
        """The asset event payload, in the feed trigger's shape (``VtexOrderFeedTrigger``), so one DAG reads
        both (see the class docstring for which time is this change's). A hook call has no feed handle or
        event id: those keys are ``None``; ``via`` says which way the change came."""
        return {
            "kind": "order",
            "order_id": self.order_id,
            "state": self.state,
            "last_state": self.last_state,
            "handle": None,
            "event_id": None,
            "last_change": self.last_change if self.current_change else None,
            "current_change": self.current_change or self.last_change,
            "domain": self.domain,
            "via": "hook",
        }


def change_key(payload: dict[str, Any]) -> tuple[str, str, str] | None:
    """The identity of one order change, whichever way it came (hook or feed): order id, state and the
    time of the change; ``None`` for an event that is not an order change (the feed's ``quiet``)."""
    if payload.get("kind") != "order":
        return None
    order_id, state, changed = payload.get("order_id"), payload.get("state"), payload.get("current_change")
    if not (isinstance(order_id, str) and isinstance(state, str) and isinstance(changed, str)):
        return None
    return order_id, state, normal_time(changed)


_TIME = re.compile(r"(?P<base>[^.+Z]+)(?:\.(?P<fraction>\d+))?(?P<zone>Z|[+-]\d\d:?\d\d)?")


def normal_time(text: str) -> str:
    """A VTEX time stamp in one spelling (UTC, microseconds), so the hook's and the feed's spellings of
    one moment compare equal (VTEX prints 7 fractional digits, ``Z`` or an offset); text that is no time
    stamp is kept as it is."""
    match = _TIME.fullmatch(text.strip())
    if match is None:
        return text
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    zone = match["zone"] or "Z"
    try:
        moment = dt.datetime.fromisoformat(f"{match['base']}.{fraction}{'+00:00' if zone == 'Z' else zone}")
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).isoformat()
