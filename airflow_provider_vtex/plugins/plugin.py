"""VtexPlugin: the one Airflow plugin the provider declares (``plugins`` in the provider info, and the
``airflow.plugins`` entry point), so installing the provider is enough.

Airflow 3 mounts each of :data:`FASTAPI_APPS` in its API server; today the order hook's receiver
(``receiver.py``). On Airflow 2.11 the module imports without FastAPI and the plugin adds nothing: the
receiver needs Airflow 3's API server (docs/order-hook.md says so). Another part (a page, a view) is one
more entry in the lists below, built by its own function.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from airflow.plugins_manager import AirflowPlugin

#: Whether this Airflow has an API server that mounts plugins' FastAPI apps (Airflow 3.0+).
HAS_API_SERVER = importlib.util.find_spec("airflow.api_fastapi") is not None


def order_hook_receiver() -> dict[str, Any]:
    from airflow_provider_vtex.plugins.receiver import URL_PREFIX, create_app

    return {"app": create_app(), "url_prefix": URL_PREFIX, "name": "VTEX order hook receiver"}


def fastapi_apps() -> list[dict[str, Any]]:
    """The apps mounted in Airflow 3's API server; none on Airflow 2."""
    return [order_hook_receiver()] if HAS_API_SERVER else []


class VtexPlugin(AirflowPlugin):  # type: ignore[misc]  # Airflow core is not typed strictly
    """The provider's plugin: the order hook receiver in the API server (Airflow 3)."""

    name = "vtex"
    fastapi_apps = fastapi_apps()
    external_views: list[dict[str, Any]] = []
