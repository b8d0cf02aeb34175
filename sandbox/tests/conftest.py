"""Fixtures shared by the sandbox's tests (the sandbox itself comes from its pytest plugin: ``vtex_sandbox``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from vtex_sandbox import VtexSandbox


@pytest.fixture
def api(vtex_sandbox: VtexSandbox) -> Iterator[requests.Session]:
    """A session authenticated as the sandbox's AppKey and AppToken, asking for JSON as VTEX's clients do."""
    with requests.Session() as session:
        session.headers.update(
            {
                "X-VTEX-API-AppKey": vtex_sandbox.app_key,
                "X-VTEX-API-AppToken": vtex_sandbox.app_token,
                "Accept": "application/json",
            }
        )
        yield session
