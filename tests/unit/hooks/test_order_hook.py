"""VtexHook's order hook calls against the sandbox (which pings the URL before saving, as VTEX does), the
operator that registers the hook only when VTEX lacks it as wanted, and the command-line twin."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from airflow_provider_vtex.client.scrub import REDACTED
from airflow_provider_vtex.compat import AirflowFailException
from airflow_provider_vtex.exceptions import VtexApiError, VtexConnectionConfigError
from airflow_provider_vtex.hooks.vtex import VtexHook
from airflow_provider_vtex.models.order_hook import SECRET_HEADER, HookConfig
from airflow_provider_vtex.operators.order_hook import VtexRegisterOrderHookOperator, main
from vtex_sandbox import VtexSandbox
from vtex_sandbox.order_hook import IDLE_SECONDS

SECRET = "a-hook-secret-of-32-characters-x"


class PingReceiver:
    """A stand-in for the receiver: answers 200 to calls carrying the secret, 401 otherwise."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.calls.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200 if self.headers.get(SECRET_HEADER) == SECRET else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/vtex/order-hook/vtex_default"


@pytest.fixture
def receiver() -> Iterator[PingReceiver]:
    receiver = PingReceiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def conn(vtex_sandbox: VtexSandbox, vtex_connection: Callable[..., str]) -> str:
    return vtex_connection(
        login=vtex_sandbox.app_key,
        password=vtex_sandbox.app_token,
        host="sandbox",
        base_url=vtex_sandbox.url,
        hook_secret=SECRET,
    )


def test_set_get_delete_round_trip(conn: str, receiver: PingReceiver) -> None:
    hook = VtexHook(conn)
    assert hook.get_hook_config() is None
    hook.set_hook_config(hook.hook_config_for(receiver.url))
    assert receiver.calls == [{"hookConfig": "ping"}]
    held = hook.get_hook_config()
    assert held is not None
    assert held.url == receiver.url
    # VTEX echoes the secret header on GET; the hook scrubs it as it scrubs every answer: there, masked.
    assert held.sends_header(SECRET_HEADER.lower(), REDACTED)
    assert SECRET not in repr(held)
    assert SECRET not in repr(held.hook)
    assert SECRET not in str(hook.hook_config_for(receiver.url).hook)
    hook.delete_hook_config()
    assert hook.get_hook_config() is None
    hook.delete_hook_config()  # none left: done, as asked


def test_vtex_refuses_a_hook_whose_ping_fails(
    conn: str, receiver: PingReceiver, vtex_sandbox: VtexSandbox
) -> None:
    hook = VtexHook(conn)
    wrong = HookConfig.parse(
        {
            "filter": {"type": "FromWorkflow", "status": ["ready-for-handling"]},
            "hook": {"url": receiver.url, "headers": {SECRET_HEADER: "not-the-secret"}},
        }
    )
    with pytest.raises(VtexApiError) as caught:
        hook.set_hook_config(wrong)
    assert "ping" in str(caught.value)
    assert "not-the-secret" not in str(caught.value)
    assert hook.get_hook_config() is None


def test_registering_needs_the_connections_hook_secret(
    vtex_sandbox: VtexSandbox, vtex_connection: Callable[..., str]
) -> None:
    conn = vtex_connection(
        login=vtex_sandbox.app_key, password=vtex_sandbox.app_token, host="sandbox", base_url=vtex_sandbox.url
    )
    with pytest.raises(VtexConnectionConfigError, match="hook_secret"):
        VtexHook(conn).ensure_hook_config("https://example.com/vtex/order-hook/vtex_default")


def test_a_short_hook_secret_is_refused_without_showing_it(vtex_connection: Callable[..., str]) -> None:
    conn = vtex_connection(base_url="http://127.0.0.1:1", hook_secret="short-secret")
    with pytest.raises(VtexConnectionConfigError, match="shorter than 24") as caught:
        _ = VtexHook(conn).config
    assert "short-secret" not in str(caught.value)


def test_the_operator_registers_once_and_again_after_vtex_deleted_the_idle_hook(
    conn: str, receiver: PingReceiver, vtex_sandbox: VtexSandbox
) -> None:
    task = VtexRegisterOrderHookOperator(task_id="register", url=receiver.url, vtex_conn_id=conn)
    assert task.execute({}) is True
    assert task.execute({}) is False  # VTEX holds it as wanted: one GET, nothing sent
    assert len(receiver.calls) == 1
    vtex_sandbox.advance_clock(IDLE_SECONDS)  # 3 days without a notification: VTEX deletes it
    assert VtexHook(conn).get_hook_config() is None
    assert task.execute({}) is True
    assert VtexHook(conn).get_hook_config() is not None
    changed = VtexRegisterOrderHookOperator(
        task_id="register2",
        url=receiver.url,
        vtex_conn_id=conn,
        feed_filter='{"type": "FromWorkflow", "status": ["ready-for-handling", "canceled"]}',
    )
    assert changed.execute({}) is True  # another filter: registered again


def test_the_operator_fails_without_retry_on_a_bad_filter(conn: str, receiver: PingReceiver) -> None:
    task = VtexRegisterOrderHookOperator(
        task_id="register", url=receiver.url, vtex_conn_id=conn, feed_filter={"type": "FromWorkflow"}
    )
    with pytest.raises(AirflowFailException, match="status"):
        task.execute({})
    assert receiver.calls == []


def test_the_command_line_registers_shows_and_deletes(
    conn: str, receiver: PingReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["register", "--conn-id", conn, "--url", receiver.url]) == 0
    assert main(["register", "--conn-id", conn, "--url", receiver.url]) == 0
    assert main(["show", "--conn-id", conn]) == 0
    assert main(["delete", "--conn-id", conn]) == 0
    printed = capsys.readouterr().out
    assert SECRET not in printed
    # The hook's log lines aside: Airflow 3 writes them as "[info ...]", Airflow 2 as "... INFO - ...".
    out = [line for line in printed.splitlines() if "[info" not in line and " INFO - " not in line]
    assert out[:2] == ["registered", "already registered as wanted"]
    assert out[2] == f"url={receiver.url} filter={{'type': 'FromWorkflow', 'status': ['ready-for-handling']}}"
    assert out[3] == "deleted"
