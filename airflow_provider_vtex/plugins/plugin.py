"""The one Airflow plugin the provider declares (provider info ``plugins``): installing the provider is enough.

On Airflow 3.1+ it adds the VTEX page (``vtex_page.py``); on older Airflow it declares nothing, and
importing it is harmless.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from airflow.plugins_manager import AirflowPlugin

#: Airflow 3.1+ (external views, AIP-68): the API server with its UI plugins.
HAS_UI_PLUGINS = (
    "external_views" in vars(AirflowPlugin) and importlib.util.find_spec("airflow.api_fastapi") is not None
)


def _vtex_page() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if not HAS_UI_PLUGINS:
        return [], []
    from airflow_provider_vtex.plugins import vtex_page

    return [vtex_page.fastapi_app()], [vtex_page.external_view()]


class VtexPlugin(AirflowPlugin):
    """The VTEX page (Airflow 3.1+)."""

    name = "vtex"
    fastapi_apps, external_views = _vtex_page()
