"""The order hook's receiver (plugins/receiver.py), in-process with FastAPI's TestClient on the test
session's Airflow database: the ping, a notification stored as an asset event in the feed trigger's shape,
duplicates and replays stored once (also against the feed's event of the same change), and the security
cases: no secret, wrong secret, another account or key, oversized, too deep or malformed bodies, floods,
unknown connections. A refused call stores nothing and its answer and log carry no secret."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("airflow.api_fastapi", reason="the receiver lives in Airflow 3's API server")

from fastapi.testclient import TestClient

from airflow_provider_vtex.models.order_hook import SECRET_HEADER
from airflow_provider_vtex.plugins.receiver import MAX_BODY_BYTES, TokenBuckets, create_app

SECRET = "the-hook-secret-0123456789abcdef"
_numbers = itertools.count()


def notification(
    order_id: str = "1001-01", state: str = "ready-for-handling", **origin: str
) -> dict[str, Any]:
    return {
        "Domain": "Fulfillment",
        "OrderId": order_id,
        "State": state,
        "LastChange": "2026-12-08T01:25:53.3667550Z",
        "Origin": {"Account": origin.get("account", "mystore"), "Key": origin.get("key", "KEY")},
    }


def watch(conn_id: str, trigger_class: str = "VtexOrderHookTrigger", **kwargs: Any) -> int:
    """An asset watched by a VTEX trigger for ``conn_id``, as the DAG processor stores it; its id."""
    from airflow.models.asset import AssetActive, AssetModel
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session

    number = next(_numbers)
    module = "order_hook" if trigger_class == "VtexOrderHookTrigger" else "order_feed"
    with create_session() as session:
        asset = AssetModel(
            name=f"vtex_orders_{conn_id}_{number}", uri=f"vtex_orders_{conn_id}_{number}", group="asset"
        )
        session.add(asset)
        session.add(AssetActive.for_asset(asset))
        trigger = Trigger(
            classpath=f"airflow_provider_vtex.triggers.{module}.{trigger_class}",
            kwargs={"vtex_conn_id": conn_id, **kwargs},
        )
        session.add(trigger)
        session.flush()
        try:
            from airflow.models.asset import AssetWatcherModel
        except ImportError:  # Airflow 3.0/3.1: assets and triggers linked directly
            asset.triggers.append(trigger)
        else:
            session.add(AssetWatcherModel(name=f"watcher_{number}", asset_id=asset.id, trigger_id=trigger.id))
        session.commit()
        return int(asset.id)


def events(asset_id: int) -> list[dict[str, Any]]:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return [
            dict(extra)
            for extra in session.scalars(select(AssetEvent.extra).where(AssetEvent.asset_id == asset_id))
        ]


@pytest.fixture
def hook_conn(vtex_connection: Callable[..., str], airflow_db: Path) -> str:
    conn_id = f"vtex_hook_{next(_numbers)}"
    return vtex_connection(conn_id, login="KEY", password="TOKEN", host="mystore", hook_secret=SECRET)


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(startup_grace=0)) as client:
        yield client


def post(
    client: TestClient, conn_id: str, body: Any = None, secret: str | None = SECRET, **kwargs: Any
) -> Any:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return client.post(f"/{conn_id}", json=body, headers=headers, **kwargs)


def test_the_ping_is_answered_200_and_stores_nothing(client: TestClient, hook_conn: str) -> None:
    asset_id = watch(hook_conn)
    answer = post(client, hook_conn, {"hookConfig": "ping"})
    assert answer.status_code == 200
    assert events(asset_id) == []


def test_a_notification_becomes_an_asset_event_in_the_feed_triggers_shape(
    client: TestClient, hook_conn: str
) -> None:
    asset_id = watch(hook_conn)
    feed_watched = watch(hook_conn, "VtexOrderFeedTrigger")
    answer = post(client, hook_conn, notification())
    assert answer.status_code == 200, answer.text
    for watched in (asset_id, feed_watched):
        (extra,) = events(watched)
        assert extra["from_trigger"] is True
        payload = extra["payload"]
        assert set(payload) >= {
            "kind",
            "order_id",
            "state",
            "last_state",
            "handle",
            "event_id",
            "last_change",
            "current_change",
            "domain",
        }
        assert (payload["kind"], payload["order_id"], payload["state"], payload["via"]) == (
            "order",
            "1001-01",
            "ready-for-handling",
            "hook",
        )
        assert payload["current_change"] == "2026-12-08T01:25:53.3667550Z"


def test_the_vtex_page_finds_when_the_hook_last_pushed_a_change(client: TestClient, hook_conn: str) -> None:
    """The page's "last change pushed" comes from the events the receiver stored (Airflow's records):
    none before the first notification, the time of the stored event after it, for that connection only."""
    import datetime as dt

    from airflow_provider_vtex.plugins.vtex_page_data import read_hook_notifications

    # Since this test began: the module's other tests pushed changes through the same connection before.
    since = dt.datetime.now(dt.timezone.utc)
    watch(hook_conn)
    assert hook_conn not in read_hook_notifications(since)
    assert post(client, hook_conn, notification()).status_code == 200
    pushed = read_hook_notifications(since)
    assert set(pushed) == {hook_conn}
    assert since <= pushed[hook_conn] <= dt.datetime.now(dt.timezone.utc)
    assert read_hook_notifications(dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1)) == {}


def test_a_duplicate_or_replay_is_answered_200_and_stored_once(client: TestClient, hook_conn: str) -> None:
    asset_id = watch(hook_conn)
    for _ in range(3):
        assert post(client, hook_conn, notification()).status_code == 200
    assert len(events(asset_id)) == 1
    # another state of the same order is another change
    assert post(client, hook_conn, notification(state="handling")).status_code == 200
    assert len(events(asset_id)) == 2


def test_a_change_the_feed_stored_first_is_not_stored_again(client: TestClient, hook_conn: str) -> None:
    from airflow.assets.manager import AssetManager
    from airflow.models.asset import AssetModel
    from airflow.utils.session import create_session

    asset_id = watch(hook_conn, "VtexOrderFeedTrigger")
    feed_payload = {
        "kind": "order",
        "order_id": "1001-01",
        "state": "ready-for-handling",
        "last_state": "payment-approved",
        "handle": "h",
        "event_id": "e",
        "last_change": None,
        "domain": "Fulfillment",
        # the same moment, spelled with an offset and 6 digits
        "current_change": "2026-12-07T22:25:53.366755-03:00",
    }
    with create_session() as session:
        asset = session.get(AssetModel, asset_id)
        assert asset is not None
        AssetManager.register_asset_change(
            asset=asset, extra={"from_trigger": True, "payload": feed_payload}, session=session
        )
        session.commit()
    assert post(client, hook_conn, notification()).json() == {"status": "unchanged"}
    assert len(events(asset_id)) == 1


def feed_handover(order_id: str = "1001-01", **origin: str) -> dict[str, Any]:
    """What ``VtexOrderFeedTrigger(via_receiver=True)`` POSTs: its feed item of the change
    :func:`notification` pushes (the same moment, spelled as the feed spells it), and the Origin."""
    return {
        "FeedItem": {
            "event_id": "E-1",
            "handle": "H-1",
            "order_id": order_id,
            "state": "ready-for-handling",
            "last_state": "payment-approved",
            "last_change": "2026-12-08T01:20:00.0000000Z",
            "current_change": "2026-12-07T22:25:53.366755-03:00",
            "domain": "Fulfillment",
        },
        "Origin": {"Account": origin.get("account", "mystore"), "Key": origin.get("key", "KEY")},
    }


def test_a_feed_item_after_the_hooks_delivery_of_its_change_is_stored_once(
    client: TestClient, hook_conn: str
) -> None:
    asset_id = watch(hook_conn, "VtexOrderFeedTrigger")
    assert post(client, hook_conn, notification()).json() == {"status": "stored"}
    assert post(client, hook_conn, feed_handover()).json() == {"status": "unchanged"}
    (extra,) = events(asset_id)
    assert extra["payload"]["via"] == "hook"


def test_a_feed_item_first_is_stored_in_the_feed_triggers_shape_and_the_hooks_copy_is_not(
    client: TestClient, hook_conn: str
) -> None:
    asset_id = watch(hook_conn, "VtexOrderFeedTrigger")
    assert post(client, hook_conn, feed_handover()).json() == {"status": "stored"}
    assert post(client, hook_conn, feed_handover()).json() == {"status": "unchanged"}  # a redelivery
    assert post(client, hook_conn, notification()).json() == {"status": "unchanged"}
    (extra,) = events(asset_id)
    assert extra == {
        "from_trigger": True,
        "payload": {"kind": "order", "vtex_conn_id": hook_conn, **feed_handover()["FeedItem"]},
    }


@pytest.mark.parametrize(
    ("secret", "body", "status"),
    [
        (None, feed_handover(), 401),
        (SECRET, feed_handover(key="ANOTHER-KEY"), 403),
        (SECRET, feed_handover(account="otherstore"), 403),
        (SECRET, {"FeedItem": {"order_id": "1001-01"}, "Origin": {"Account": "mystore", "Key": "KEY"}}, 400),
    ],
    ids=["no-secret", "another-key", "another-account", "not-a-feed-item"],
)
def test_a_feed_item_proves_itself_as_a_notification_does(
    client: TestClient, hook_conn: str, secret: str | None, body: Any, status: int
) -> None:
    asset_id = watch(hook_conn, "VtexOrderFeedTrigger")
    assert post(client, hook_conn, body, secret=secret).status_code == status
    assert events(asset_id) == []


def test_just_after_start_a_change_older_than_the_receiver_is_held_off_with_503(hook_conn: str) -> None:
    """While the API server was down the feed trigger stored such changes itself, and the triggerer may not
    have committed them yet: the caller is told to come back, and a change made since is stored."""
    import datetime as dt

    asset_id = watch(hook_conn, "VtexOrderFeedTrigger")
    with TestClient(create_app(startup_grace=60)) as fresh:
        assert post(fresh, hook_conn, notification()).status_code == 503
        assert post(fresh, hook_conn, feed_handover()).status_code == 503
        now = dt.datetime.now(dt.timezone.utc).isoformat()
        assert post(fresh, hook_conn, {**notification(), "LastChange": now}).json() == {"status": "stored"}
    assert len(events(asset_id)) == 1


def test_a_state_no_watcher_wants_is_dropped_with_200(client: TestClient, hook_conn: str) -> None:
    asset_id = watch(hook_conn, states=["ready-for-handling"])
    assert post(client, hook_conn, notification(state="invoiced")).status_code == 200
    assert events(asset_id) == []


def test_without_a_watching_asset_it_answers_503_so_vtex_retries(client: TestClient, hook_conn: str) -> None:
    assert post(client, hook_conn, notification()).status_code == 503


@pytest.mark.parametrize(
    ("secret", "body", "status"),
    [
        (None, notification(), 401),
        ("wrong-secret-0123456789abcdef-x", notification(), 401),
        (SECRET[:-1], notification(), 401),
        (None, {"hookConfig": "ping"}, 401),
        (SECRET, notification(key="ANOTHER-KEY"), 403),
        (SECRET, notification(account="otherstore"), 403),
        (SECRET, {"OrderId": "1001-01"}, 400),
        (SECRET, [1, 2, 3], 400),
    ],
    ids=[
        "no-secret",
        "wrong-secret",
        "secret-prefix",
        "ping-without-secret",
        "another-key",
        "another-account",
        "not-a-notification",
        "not-an-object",
    ],
)
def test_a_call_that_fails_a_check_stores_nothing_and_says_nothing(
    client: TestClient,
    hook_conn: str,
    caplog: pytest.LogCaptureFixture,
    secret: str | None,
    body: Any,
    status: int,
) -> None:
    asset_id = watch(hook_conn)
    with caplog.at_level(logging.INFO):
        answer = post(client, hook_conn, body, secret=secret)
    assert answer.status_code == status
    assert answer.json() == {"status": "refused"}
    assert events(asset_id) == []
    assert SECRET not in caplog.text
    assert "refused" in caplog.text


def test_malformed_oversized_and_deep_bodies_are_refused_unparsed(client: TestClient, hook_conn: str) -> None:
    asset_id = watch(hook_conn)
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    assert client.post(f"/{hook_conn}", content=b"{not json", headers=headers).status_code == 400
    big = b'{"OrderId": "' + b"x" * MAX_BODY_BYTES + b'"}'
    assert client.post(f"/{hook_conn}", content=big, headers=headers).status_code == 413
    # without a Content-Length (chunked), the body is still cut at the limit
    chunks = iter([b"[" * 1000, b"1" * MAX_BODY_BYTES])
    assert client.post(f"/{hook_conn}", content=chunks, headers=headers).status_code == 413
    deep = b"[" * 3000 + b"]" * 3000  # past json.loads's recursion limit
    assert len(deep) < MAX_BODY_BYTES
    assert client.post(f"/{hook_conn}", content=deep, headers=headers).status_code == 400
    assert events(asset_id) == []


def test_unknown_connections_and_odd_ids_are_refused_alike(client: TestClient, hook_conn: str) -> None:
    assert post(client, "vtex_does_not_exist", notification()).status_code == 401
    assert post(client, "..%2F..%2Fetc", notification()).status_code in (404, 401)


def test_a_connection_without_hook_secret_refuses_every_call(
    client: TestClient, vtex_connection: Callable[..., str], airflow_db: Path
) -> None:
    conn_id = vtex_connection(
        f"vtex_nosecret_{next(_numbers)}", login="KEY", password="TOKEN", host="mystore"
    )
    watch(conn_id)
    assert post(client, conn_id, notification()).status_code == 401
    assert post(client, conn_id, notification(), secret="").status_code == 401


def test_a_flood_is_refused_per_connection_before_any_check(
    hook_conn: str, vtex_connection: Callable[..., str]
) -> None:
    other = vtex_connection(
        f"vtex_hook_{next(_numbers)}", login="KEY2", password="TOKEN", host="other", hook_secret=SECRET
    )
    asset_id = watch(hook_conn)
    now = [0.0]
    with TestClient(
        create_app(TokenBuckets(rate=10, burst=5, clock=lambda: now[0]), startup_grace=0)
    ) as client:
        answers = [
            post(client, hook_conn, {"hookConfig": "ping"}, secret="wrong").status_code for _ in range(7)
        ]
        assert answers == [401] * 5 + [429] * 2
        assert (
            post(client, other, {"hookConfig": "ping"}).status_code == 200
        )  # another account: its own bucket
        now[0] += 0.1  # one token back
        assert post(client, hook_conn, notification()).status_code == 200
        assert post(client, hook_conn, notification()).status_code == 429
    assert len(events(asset_id)) == 1
