"""The one Airflow plugin the provider declares (the ``airflow.plugins`` entry point and the provider info's
``plugins``): installing the provider is enough.

On Airflow 3.1+ it adds the VTEX page (``vtex_page.py``); on older Airflow it declares nothing, and
importing it is harmless.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_vtex.plugins import vtex_page


class VtexPlugin(AirflowPlugin):
    """The VTEX page (Airflow 3.1+)."""

    name = "vtex"
    if vtex_page.supported():
        fastapi_apps = [vtex_page.fastapi_app()]
        external_views = [vtex_page.external_view()]
