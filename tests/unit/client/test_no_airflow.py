"""The client subpackage stands without Airflow: it imports no ``airflow`` module, no WTForms or Flask
(the connection form is the hook's), and nothing of this provider outside ``client/``, ``models/`` and
``exceptions`` (the package's ``__init__`` and the provider-info constants it loads aside). Checked in a
fresh interpreter where ``import airflow`` (and WTForms, Flask) fails."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO_ROOT

PROBE = """
import importlib, json, pkgutil, sys


class NoAirflow:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("airflow", "wtforms", "flask", "flask_appbuilder", "flask_babel"):
            raise ImportError(f"the client imported {name}")
        return None


sys.meta_path.insert(0, NoAirflow())
import airflow_provider_vtex.client as client

for module in pkgutil.iter_modules(client.__path__):
    importlib.import_module(f"airflow_provider_vtex.client.{module.name}")
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in ("airflow", "airflow_provider_vtex"))))
"""

ALLOWED = ("airflow_provider_vtex.client", "airflow_provider_vtex.models", "airflow_provider_vtex.exceptions")
#: Imported by any import of the package: ``airflow_provider_vtex/__init__.py`` and its version constants.
PACKAGE = {"airflow_provider_vtex", "airflow_provider_vtex.get_provider_info"}


def test_the_client_imports_neither_airflow_nor_the_hook_layers() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert "airflow_provider_vtex.client.invoice_once" in loaded
    outside = [
        name
        for name in loaded
        if name not in PACKAGE and not any(name == root or name.startswith(root + ".") for root in ALLOWED)
    ]
    assert outside == [], f"the client imports {outside}"
