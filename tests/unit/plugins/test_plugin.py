"""The provider's one plugin: declared in the provider info and the ``airflow.plugins`` entry point, and
on Airflow 3 it brings the order hook's receiver into the API server at ``/vtex/order-hook`` (and, on 3.1+,
the VTEX page at ``/vtex/page``)."""

from __future__ import annotations

from importlib.metadata import entry_points

from airflow_provider_vtex.get_provider_info import get_provider_info
from airflow_provider_vtex.plugins.plugin import HAS_API_SERVER, VtexPlugin


def test_the_plugin_is_declared_both_ways() -> None:
    assert get_provider_info()["plugins"] == [
        {"name": "vtex", "plugin-class": "airflow_provider_vtex.plugins.plugin.VtexPlugin"}
    ]
    (entry_point,) = [ep for ep in entry_points(group="airflow.plugins") if ep.name == "vtex"]
    assert entry_point.load() is VtexPlugin


def test_airflow_loads_the_receiver_into_its_api_server() -> None:
    from airflow import plugins_manager

    if hasattr(plugins_manager, "_get_plugins"):  # Airflow 3.2+
        loaded = plugins_manager._get_plugins()[0]
    else:
        plugins_manager.ensure_plugins_loaded()
        loaded = getattr(plugins_manager, "plugins", None) or []  # Airflow 2.x to 3.1: a module global
    assert "vtex" in [plugin.name for plugin in loaded]
    if not HAS_API_SERVER:  # Airflow 2: nothing to mount, and the module imported without FastAPI
        assert VtexPlugin.fastapi_apps == []
        return
    receiver, *page = VtexPlugin.fastapi_apps
    assert receiver["url_prefix"] == "/vtex/order-hook"
    # The VTEX page (Airflow 3.1+) mounts beside it, under a prefix that cannot shadow the receiver's.
    assert [app["url_prefix"] for app in page] in ([], ["/vtex/page"])
    assert receiver["name"] == "VTEX order hook receiver"
