"""Fixtures of the unit tests: a valid invoice, and a fake clock for the hook's and client's waits."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.fake_clock import FakeClock


@pytest.fixture
def valid_invoice() -> dict[str, Any]:
    """A minimal invoice that follows VTEX's current OpenAPI contract."""
    return {
        "type": "Output",
        "invoiceNumber": "NF-0001",
        "invoiceValue": "7497",
        "issuanceDate": "2024-01-31T18:25:43-05:00",
        "items": [{"id": "1", "price": 2499, "quantity": 3}],
    }


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Fake time in the hook, client, rules, sending, budget, invoice-once and rate-limiter modules (see
    :class:`FakeClock`), a coroutine's wait for the cap included."""
    from airflow_provider_vtex.client import budget, invoice_once, rate_limit, rules, sending, transport
    from airflow_provider_vtex.hooks import vtex

    fake = FakeClock()
    for module in (transport, rate_limit, rules, invoice_once, sending, vtex, budget):
        monkeypatch.setattr(module, "time", fake)
    monkeypatch.setattr(rate_limit, "sleep_async", fake.sleep_async)
    monkeypatch.setattr(budget, "sleep_async", fake.sleep_async)
    return fake
