"""Airflow discovers the provider: the entry point, the ``vtex`` connection type and its form."""

from __future__ import annotations

import subprocess
import sys

from airflow_provider_vtex.get_provider_info import CONN_FIELDS, get_provider_info
from airflow_provider_vtex.hooks.vtex import VtexHook


def test_providers_manager_knows_the_vtex_connection_type() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-vtex" in manager.providers
    hook = manager.hooks["vtex"]
    assert hook is not None
    assert hook.hook_class_name == "airflow_provider_vtex.hooks.vtex.VtexHook"
    assert hook.hook_name == "VTEX"
    assert hook.connection_id_attribute_name == "vtex_conn_id"
    assert hook.connection_testable


def test_connection_form_fields_labels_and_hidden_fields() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    behaviour = manager.field_behaviours["vtex"]
    assert behaviour["hidden_fields"] == ["schema", "port"]
    assert behaviour["relabeling"] == {"login": "App Key", "password": "App Token", "host": "Account name"}
    assert behaviour["placeholders"]["host"].startswith("mystore")
    widgets = {key for key in manager.connection_form_widgets if key.startswith("extra__vtex__")}
    assert widgets == {
        f"extra__vtex__{name}"
        for name in ("environment", "base_url", "timeout", "data_architecture", "max_retries")
    }


def test_fallback_form_methods_match_the_declared_form() -> None:
    info = get_provider_info()["connection-types"][0]
    declared = {key.replace("-", "_"): value for key, value in info["ui-field-behaviour"].items()}
    assert VtexHook.get_ui_field_behaviour() == declared
    assert set(info["conn-fields"]) == set(CONN_FIELDS)


def test_airflow_providers_list_shows_the_provider() -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "airflow", "providers", "list", "--output", "plain"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "airflow-provider-vtex" in listing
