"""A minimal feed client for the sandbox's tests: plain ``requests`` calls on VTEX's feed routes, so the
tests read like the HTTP conversation an ERP integration has (and do not depend on the provider's hook)."""

from __future__ import annotations

from typing import Any

import requests

from vtex_sandbox import VtexSandbox

FEED = "/api/orders/feed"
CONFIG = "/api/orders/feed/config"
JSONATA = "/api/orders/expressions/jsonata"


def workflow_config(*statuses: str, visibility: int = 30, retention: int = 3600) -> dict[str, Any]:
    return {
        "filter": {"type": "FromWorkflow", "status": list(statuses)},
        "queue": {"visibilityTimeoutInSeconds": visibility, "MessageRetentionPeriodInSeconds": retention},
    }


def orders_config(
    expression: str, *, single_fire: bool | None = None, visibility: int = 30, retention: int = 3600
) -> dict[str, Any]:
    feed_filter: dict[str, Any] = {"type": "FromOrders", "expression": expression}
    if single_fire is not None:
        feed_filter["disableSingleFire"] = not single_fire
    return {
        "filter": feed_filter,
        "queue": {"visibilityTimeoutInSeconds": visibility, "MessageRetentionPeriodInSeconds": retention},
    }


class FeedClient:
    """One ERP integration: a session with an AppKey/AppToken pair, talking to the sandbox's feed."""

    def __init__(
        self, sandbox: VtexSandbox, app_key: str | None = None, app_token: str | None = None
    ) -> None:
        self.base = sandbox.url
        self.session = requests.Session()
        self.session.headers.update(
            {
                "X-VTEX-API-AppKey": app_key or sandbox.app_key,
                "X-VTEX-API-AppToken": app_token or sandbox.app_token,
            }
        )

    def configure(self, config: Any) -> requests.Response:
        return self.session.post(self.base + CONFIG, json=config, timeout=10)

    def config(self) -> requests.Response:
        return self.session.get(self.base + CONFIG, timeout=10)

    def delete_config(self) -> requests.Response:
        return self.session.delete(self.base + CONFIG, timeout=10)

    def get(self, query: str) -> requests.Response:
        return self.session.get(self.base + FEED + query, timeout=10)

    def read(self, max_lot: int = 10) -> list[dict[str, Any]]:
        """Up to ``max_lot`` items; fails the test on anything but a 200."""
        response = self.get(f"?maxlot={max_lot}")
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()
        return items

    def commit(self, *handles: str) -> requests.Response:
        return self.session.post(self.base + FEED, json={"handles": list(handles)}, timeout=10)

    def drain(self) -> list[dict[str, Any]]:
        """Read and commit until the feed hands out nothing more; the items in the order received."""
        received: list[dict[str, Any]] = []
        while items := self.read(10):
            received.extend(items)
            assert self.commit(*(i["handle"] for i in items)).status_code == 200
        return received

    def close(self) -> None:
        self.session.close()


def configured(sandbox: VtexSandbox, config: dict[str, Any]) -> FeedClient:
    """A client whose feed is configured with ``config`` (the test fails if VTEX's answer is not 200)."""
    client = FeedClient(sandbox)
    response = client.configure(config)
    assert response.status_code == 200, response.text
    return client
