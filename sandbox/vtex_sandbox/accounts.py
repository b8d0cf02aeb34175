"""Several VTEX accounts in one sandbox: where a request's account is read, and each account's budget.

VTEX gives every account its own host (``https://{account}.vtexcommercestable.com.br``); one local server
has one host, so an extra account is served under a path prefix instead: ``{url}/_account/{name}/api/...``
(a connection's ``base_url`` may carry a path prefix). Requests without the prefix go to the sandbox's own
account, so single-account use is unchanged. Each account is a whole :class:`~vtex_sandbox.app.VtexSandbox`
state (keys, data architecture, orders, feeds, faults, request log, budget) that the server picks per
request; the handlers never know there are others.
"""

from __future__ import annotations

import math
import threading
from collections import deque

#: The path segment that introduces an extra account's name.
ACCOUNT_PREFIX = "_account"


def split_account(segments: list[str]) -> tuple[str | None, list[str]]:
    """``(account name, the remaining segments)``; ``None`` for the sandbox's own account."""
    if len(segments) >= 2 and segments[0] == ACCOUNT_PREFIX:
        return segments[1], segments[2:]
    return None, segments


class RequestBudget:
    """VTEX's per-account request limit: above ``per_second`` requests in any one second (sliding), the
    account answers 429, as VTEX does. Requests it refused do not count against the next ones."""

    def __init__(self, per_second: float) -> None:
        if not math.isfinite(per_second) or per_second <= 0:
            raise ValueError(f"max_requests_per_second must be a number > 0, got {per_second!r}")
        self.per_second = per_second
        self.capacity = max(1, math.floor(per_second))
        self.window = max(1.0, self.capacity / per_second)
        self.refused = 0
        self._arrivals: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self, now: float) -> bool:
        """Whether a request arriving at ``now`` (monotonic seconds) is within the budget."""
        with self._lock:
            while self._arrivals and self._arrivals[0] <= now - self.window:
                self._arrivals.popleft()
            if len(self._arrivals) >= self.capacity:
                self.refused += 1
                return False
            self._arrivals.append(now)
            return True

    def stats(self) -> dict[str, float | int]:
        return {"perSecond": self.per_second, "refused": self.refused}
