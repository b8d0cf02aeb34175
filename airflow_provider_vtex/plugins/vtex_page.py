"""The VTEX page in Airflow's UI (Airflow 3.1+): its external view (``VTEX`` in the UI's navigation, the page
shown in Airflow's frame) and its app, which the API server mounts at ``/vtex``.

Only declarations here, cheap to import: every Airflow process loads plugins, and only the API server
serves the page. The app itself (``vtex_page_app.py``) is built on the page's first request.
"""

from __future__ import annotations

import importlib.util
import threading
import urllib.parse
from typing import Any

from airflow_provider_vtex.compat import conf

URL_PREFIX = "/vtex/page"


def supported() -> bool:
    """Whether this Airflow shows plugins' pages: 3.1+ (external views, AIP-68) with its API server."""
    try:
        from airflow.plugins_manager import AirflowPlugin
    except ImportError:  # pragma: no cover - every supported Airflow has it
        return False
    return (
        "external_views" in vars(AirflowPlugin)
        and importlib.util.find_spec("airflow.api_fastapi") is not None
    )


def base_path() -> str:
    """The path Airflow's UI is served under (``[api] base_url``), without a trailing slash."""
    base_url = conf.get("api", "base_url", fallback="/") or "/"
    path = urllib.parse.urlparse(base_url).path if base_url.startswith(("http://", "https://")) else base_url
    return path.rstrip("/")


class PageApp:
    """An ASGI app that builds the page's FastAPI app on its first request, then hands every request to it."""

    def __init__(self) -> None:
        self._app: Any = None
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    from airflow_provider_vtex.plugins.vtex_page_app import create_app

                    self._app = create_app()
        await self._app(scope, receive, send)


def fastapi_app() -> dict[str, Any]:
    """The plugin's ``fastapi_apps`` entry."""
    return {"app": PageApp(), "url_prefix": URL_PREFIX, "name": "VTEX page"}


def external_view() -> dict[str, Any]:
    """The plugin's ``external_views`` entry."""
    return {"name": "VTEX", "href": f"{base_path()}{URL_PREFIX}/", "destination": "nav", "url_route": "vtex"}
