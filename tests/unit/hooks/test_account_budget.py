"""The hook's account budget against one sandbox serving three accounts: each token goes to its own
account only, the connection's ``max_requests_per_second`` holds at VTEX's side, and a 429 pauses every
hook of that account and no other."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator

import pytest

from airflow_provider_vtex.exceptions import VtexConnectionConfigError
from airflow_provider_vtex.hooks.vtex import VtexHook
from vtex_sandbox import VtexSandbox

ORDER = "1172452900788-01"


def order(order_id: str) -> dict[str, object]:
    return {"orderId": order_id, "items": [{"id": "1", "name": "Shoe", "quantity": 1, "price": 1000}]}


@pytest.fixture
def main() -> Iterator[VtexSandbox]:
    with VtexSandbox(app_key="main-key", app_token="main-token", account="main") as sandbox:
        yield sandbox


def connect(monkeypatch: pytest.MonkeyPatch, conn_id: str, account: VtexSandbox, **extra: object) -> VtexHook:
    spec = json.loads(account.airflow_connection())
    spec["extra"].update(extra)
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(spec))
    return VtexHook(conn_id, backoff_initial=0.05)


def test_each_token_goes_to_its_own_account_only(main: VtexSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    franchise = main.add_account(
        "franchise", app_key="fr-key", app_token="fr-token", orders=[order("FR-1-01")]
    )
    pii = main.add_account(
        "pii-store", app_key="pii-key", app_token="pii-token", data_architecture="pii", seed_default=True
    )
    hooks = {
        main: connect(monkeypatch, "vtex_main", main),
        franchise: connect(monkeypatch, "vtex_franchise", franchise),
        pii: connect(monkeypatch, "vtex_pii", pii),
    }
    hooks[main].get_order(ORDER)
    hooks[franchise].get_order("FR-1-01")
    hooks[pii].get_order("70caf3941s6df1")
    hooks[main].get_order(ORDER)
    for account, hook in hooks.items():
        entries = account.log.entries()
        assert entries, account.account
        assert {entry["headers"]["X-VTEX-API-AppKey"] for entry in entries} == {account.app_key}
        assert {entry["status"] for entry in entries} == {200}
        assert hook.account_budget.account == account.url  # one budget per account


def test_the_connection_budget_holds_at_vtex_across_hooks(
    main: VtexSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two hooks (two tasks) on one account with a budget of 8 a second, the account answering 429 above
    8: none refused, the busiest second at 8 at most."""
    shop = main.add_account(
        "shop", app_key="k", app_token="t", orders=[order("S-1-01")], max_requests_per_second=8
    )
    hooks = [connect(monkeypatch, f"vtex_shop_{n}", shop, max_requests_per_second=8) for n in range(2)]

    def work(hook: VtexHook) -> None:
        for _ in range(5):
            hook.get_order("S-1-01")

    threads = [threading.Thread(target=work, args=(hook,)) for hook in hooks for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = shop.stats()
    assert stats["requests"] == 20
    assert stats["budget"]["refused"] == 0
    assert stats["busiestSecond"]["count"] <= 8


def test_a_429_pauses_every_hook_of_that_account_and_no_other(
    main: VtexSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = main.add_account("shop", app_key="k", app_token="t", orders=[order("S-1-01")])
    throttled, sibling = (connect(monkeypatch, f"vtex_shop_{n}", shop) for n in range(2))
    elsewhere = connect(monkeypatch, "vtex_main", main)
    shop.add_fault("get_order", "rate_limit", count=1, retry_after=2)
    # 429 with Retry-After: 2 -> the account pauses 2 s; the throttled hook retries after it.
    first = threading.Thread(target=throttled.get_order, args=("S-1-01",))
    first.start()
    while not shop.log.entries():
        time.sleep(0.01)
    time.sleep(0.2)  # the 429 answered, the pause recorded
    started = time.monotonic()
    elsewhere.get_order(ORDER)
    assert time.monotonic() - started < 1.0  # another account: not paused
    sibling.get_order("S-1-01")
    assert time.monotonic() - started > 1.2  # the same account, another hook: waited out the pause
    first.join()
    assert [entry["status"] for entry in shop.log.entries()] == [429, 200, 200]


def test_a_budget_that_cannot_be_used_fails_before_any_request(
    main: VtexSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = connect(monkeypatch, "vtex_main", main, max_requests_per_second="fast")
    with pytest.raises(VtexConnectionConfigError, match=r"'max_requests_per_second' 'fast'.*e\.g\. 50"):
        hook.get_order(ORDER)
    assert main.log.entries() == []


def test_the_triggerers_calls_share_the_budget_and_its_pauses(
    main: VtexSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The async face (triggers, deferred sensors) draws on the same budget as the tasks, and its 429
    pauses them too."""
    shop = main.add_account(
        "shop", app_key="k", app_token="t", orders=[order("S-1-01")], max_requests_per_second=8
    )
    triggerer = connect(monkeypatch, "vtex_shop_async", shop, max_requests_per_second=8)
    task = connect(monkeypatch, "vtex_shop_sync", shop, max_requests_per_second=8)

    async def reads(count: int) -> None:
        try:
            await asyncio.gather(*(triggerer.aget_order("S-1-01") for _ in range(count)))
        finally:
            await triggerer.aclose()

    side = threading.Thread(target=lambda: [task.get_order("S-1-01") for _ in range(8)])
    side.start()
    asyncio.run(reads(12))
    side.join()
    stats = shop.stats()
    assert stats["requests"] == 20
    assert stats["budget"]["refused"] == 0
    assert stats["busiestSecond"]["count"] <= 8

    shop.add_fault("get_order", "rate_limit", count=1, retry_after=2)
    throttled = threading.Thread(target=lambda: asyncio.run(reads(1)))
    throttled.start()
    while len(shop.log.entries()) < 21:
        time.sleep(0.01)
    time.sleep(0.2)  # the 429 answered, the pause recorded by the triggerer's loop
    started = time.monotonic()
    task.get_order("S-1-01")
    assert time.monotonic() - started > 1.2  # the task waited out the pause the triggerer met
    throttled.join()
