"""VtexPlugin: the one Airflow plugin the provider declares (``plugins`` in the provider info, and the
``airflow.plugins`` entry point), so installing the provider is enough.

Airflow 3 mounts each of its FastAPI apps in the API server: the order hook's receiver (``receiver.py``,
Airflow 3.0+) under ``/vtex/order-hook`` and, on Airflow 3.1+, the VTEX page (``vtex_page.py``) under
``/vtex/page``, with its entry in the UI's navigation. The two prefixes are disjoint, so neither mount can
shadow the other. On Airflow 2.11 the module imports without FastAPI and the plugin adds nothing (the docs
say both need Airflow 3).
"""

from __future__ import annotations

import importlib.util
from typing import Any

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_vtex.plugins import vtex_page

#: Whether this Airflow has an API server that mounts plugins' FastAPI apps (Airflow 3.0+).
HAS_API_SERVER = importlib.util.find_spec("airflow.api_fastapi") is not None


def order_hook_receiver() -> dict[str, Any]:
    from airflow_provider_vtex.plugins.receiver import URL_PREFIX, create_app

    return {"app": create_app(), "url_prefix": URL_PREFIX, "name": "VTEX order hook receiver"}


def fastapi_apps() -> list[dict[str, Any]]:
    """The apps mounted in Airflow 3's API server; none on Airflow 2."""
    apps = [order_hook_receiver()] if HAS_API_SERVER else []
    if vtex_page.supported():
        apps.append(vtex_page.fastapi_app())
    return apps


class VtexPlugin(AirflowPlugin):  # type: ignore[misc]  # Airflow core is not typed strictly
    """The provider's plugin: the order hook receiver (Airflow 3) and the VTEX page (Airflow 3.1+)."""

    name = "vtex"
    fastapi_apps = fastapi_apps()
    external_views: list[dict[str, Any]] = [vtex_page.external_view()] if vtex_page.supported() else []
