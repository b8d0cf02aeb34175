"""The feed trigger's client of the order hook's receiver (``plugins/receiver.py``): hands one feed item to
the receiver, so the one place that deduplicates hook deliveries deduplicates feed items too.

No Airflow import (the trigger resolves the URL and the secret). The secret travels only in the
:data:`~airflow_provider_vtex.models.order_hook.SECRET_HEADER` header: it is in no message, log line or
``repr`` of this module.

What an answer means for the item (:class:`Handover`):

* ``STORED``: a 200; the receiver committed the change (or found it stored): commit the handle.
* ``REFUSED``: any other status (401/403 a misconfiguration, 429/503 a busy or storing-failed receiver):
  leave the item in the feed; VTEX hands it out again after its visibility timeout.
* ``UNREACHABLE``: no connection could be made: the receiver saw nothing; the trigger may store the change
  itself.
* ``UNCERTAIN``: the request may have reached the receiver but no answer came (a timeout, the API server
  killed mid-call): the change may be stored; storing it again elsewhere could store it twice, so the item
  is left for redelivery, to go through the receiver again.
"""

from __future__ import annotations

import asyncio
import enum
from typing import Any

import httpx

from airflow_provider_vtex.models.order_hook import SECRET_HEADER

#: Seconds to connect (a restarting API server refuses at once; a black-holed one costs this) and to get
#: the answer (the receiver answers once the event is committed: a loaded database takes a while).
CONNECT_TIMEOUT = 2.0
ANSWER_TIMEOUT = 15.0
#: A 429 (the receiver's rate limit, shared with VTEX's pushes) is retried this many times, after its
#: ``Retry-After`` (at most :data:`MAX_RETRY_AFTER` seconds).
RATE_LIMIT_RETRIES = 3
MAX_RETRY_AFTER = 5.0


class Handover(enum.Enum):
    STORED = "stored"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"
    UNCERTAIN = "uncertain"


class ReceiverClient:
    """POSTs feed items to one receiver URL (``.../vtex/order-hook/<conn_id>``) with the connection's secret.

    Create it inside the event loop that uses it, and :meth:`aclose` it.
    """

    def __init__(self, url: str, secret: str, client: httpx.AsyncClient | None = None) -> None:
        self.url = url
        self._headers = {SECRET_HEADER: secret, "Content-Type": "application/json"}
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(ANSWER_TIMEOUT, connect=CONNECT_TIMEOUT)
        )
        #: The last status answered (``None`` when none came): for the trigger's log line.
        self.last_status: int | None = None

    def __repr__(self) -> str:  # the headers hold the secret: never shown
        return f"ReceiverClient(url={self.url!r})"

    async def hand_over(self, body: dict[str, Any]) -> Handover:
        """POST ``body``; what the answer means for the item (see the module docstring)."""
        self.last_status = None
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            try:
                answer = await self._client.post(self.url, json=body, headers=self._headers)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                return Handover.UNREACHABLE
            except httpx.TransportError:  # sent, maybe stored, no answer
                return Handover.UNCERTAIN
            self.last_status = answer.status_code
            if answer.status_code == 200:
                return Handover.STORED
            if answer.status_code == 429 and attempt < RATE_LIMIT_RETRIES:
                await asyncio.sleep(_retry_after(answer.headers.get("Retry-After")))
                continue
            return Handover.REFUSED
        return Handover.REFUSED  # pragma: no cover - the loop returns

    async def aclose(self) -> None:
        await self._client.aclose()


def _retry_after(value: str | None) -> float:
    try:
        return min(max(float(value or 1), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return 1.0
