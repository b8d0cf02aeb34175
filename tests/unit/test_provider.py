"""Airflow discovers the provider (the entry point, the ``vtex`` connection type and its form), and the
Airflow names the provider uses (``airflow_provider_vtex.compat``) are the ones the running Airflow uses."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from unittest import mock

import pytest

from airflow_provider_vtex import compat
from airflow_provider_vtex.hooks.vtex import VtexHook


def test_providers_manager_knows_the_vtex_connection_type() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()  # type: ignore[no-untyped-call]  # Airflow core is not typed strictly
    assert "airflow-provider-vtex" in manager.providers
    hook = manager.hooks["vtex"]
    assert hook is not None
    assert hook.hook_class_name == "airflow_provider_vtex.hooks.vtex.VtexHook"
    assert hook.hook_name == "VTEX"
    assert hook.connection_id_attribute_name == "vtex_conn_id"
    assert hook.connection_testable


def test_connection_form_fields_labels_and_hidden_fields() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()  # type: ignore[no-untyped-call]  # Airflow core is not typed strictly
    behaviour = manager.field_behaviours["vtex"]
    assert behaviour["hidden_fields"] == ["schema", "port"]
    assert behaviour["relabeling"] == {"login": "App Key", "password": "App Token", "host": "Account name"}
    assert behaviour["placeholders"]["host"].startswith("mystore")
    widgets = {key for key in manager.connection_form_widgets if key.startswith("extra__vtex__")}
    assert widgets == {
        f"extra__vtex__{name}"
        for name in (
            "environment",
            "base_url",
            "timeout",
            "data_architecture",
            "max_requests_per_second",
            "hook_secret",
            "max_retries",
        )
    }
    # the order hook's secret is typed into a password field, never shown back
    assert manager.connection_form_widgets["extra__vtex__hook_secret"].is_sensitive


def test_airflow_providers_list_shows_the_provider() -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "airflow", "providers", "list", "--output", "plain"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "airflow-provider-vtex" in listing


# ------------------------------------------------------------------ compat: names of the running Airflow
@pytest.mark.parametrize(
    "name", ["AirflowException", "AirflowFailException", "AirflowNotFoundException", "AirflowSkipException"]
)
def test_exceptions_are_the_classes_airflow_itself_raises_and_catches(name: str) -> None:
    import airflow.exceptions

    # The task runner decides "fail without retry" / "skip" by these classes: a look-alike would retry.
    assert getattr(compat, name) is getattr(airflow.exceptions, name)


def test_hook_and_operators_derive_from_the_running_airflows_bases() -> None:
    from airflow_provider_vtex.operators.base import VtexBaseOperator
    from airflow_provider_vtex.sensors.order_status import VtexOrderStatusSensor

    assert issubclass(VtexHook, compat.BaseHook)
    assert issubclass(VtexBaseOperator, compat.BaseOperator)
    assert issubclass(VtexOrderStatusSensor, compat.BaseSensorOperator)


def test_airflows_poke_loop_takes_the_status_the_sensor_found_as_its_xcom(
    vtex_connection: Callable[..., str],
) -> None:
    """Airflow's own poke loop (``BaseSensorOperator.execute``) returns an XCom only for its own
    ``PokeReturnValue`` class: with a look-alike from ``compat`` the task would succeed and push nothing."""
    from airflow_provider_vtex.sensors.order_status import VtexOrderStatusSensor

    vtex_connection()
    sensor = VtexOrderStatusSensor(task_id="wait", order_id="ORD-1", deferrable=False, poke_interval=0)
    with mock.patch.object(VtexHook, "get_order", return_value={"status": "ready-for-handling"}):
        assert sensor.execute({}) == "ready-for-handling"  # type: ignore[arg-type]


def test_the_triggers_are_of_the_classes_airflows_triggerer_runs_and_watches() -> None:
    """The triggerer tells an asset watcher from a plain trigger by ``isinstance(..., BaseEventTrigger)``
    with the classes it imports itself; a trigger built on look-alikes would never watch an asset."""
    from airflow_provider_vtex.triggers.order_status import VtexOrderStatusTrigger

    if compat.BaseEventTrigger is None:  # Airflow 2: no asset watchers (no feed trigger to import), and
        from airflow.triggers.base import BaseTrigger  # its triggerer runs subclasses of this class

        assert issubclass(VtexOrderStatusTrigger, BaseTrigger)
        return
    from airflow.jobs import triggerer_job_runner as triggerer

    from airflow_provider_vtex.triggers.order_feed import VtexOrderFeedTrigger

    assert issubclass(VtexOrderStatusTrigger, triggerer.BaseTrigger)

    assert not issubclass(VtexOrderStatusTrigger, triggerer.BaseEventTrigger)  # it ends a deferral
    assert issubclass(VtexOrderFeedTrigger, triggerer.BaseEventTrigger)  # it watches an asset


def test_trigger_names_resolve_and_event_names_exist_exactly_on_airflow_3() -> None:
    has_assets = compat.Asset is not None
    assert (compat.AssetWatcher is not None) == has_assets
    assert (compat.BaseEventTrigger is not None) == has_assets
    if compat.BaseEventTrigger is not None:
        assert issubclass(compat.BaseEventTrigger, compat.BaseTrigger)
    with pytest.raises(AttributeError, match="NoSuchName"):
        compat.NoSuchName  # noqa: B018


@pytest.mark.parametrize(("setting", "expected"), [("True", True), ("False", False)])
def test_default_deferrable_follows_airflows_operators_setting(
    monkeypatch: pytest.MonkeyPatch, setting: str, expected: bool
) -> None:
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", setting)
    assert compat.default_deferrable() is expected
