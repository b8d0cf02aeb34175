"""What Airflow sees of the installed provider, in a smoke venv: ``scripts/smoke.sh`` runs these checks
first in the process of ``scripts/demo.py --smoke-checks``; ``python scripts/smoke_checks.py`` runs them
alone (from outside the repository).

A smoke venv holds one Airflow version and the *built wheel* (not the source tree), so these checks
see what a user of that Airflow version gets after ``pip install``:

1. the provider is imported from the venv's site-packages (the wheel), not from the repository;
2. ``airflow providers list`` lists it, with its version (the CLI in a process of its own, started once
   the checks below have passed; it runs in the background while the demo goes on, which checks its
   output at its end);
3. Airflow's ProvidersManager registers the provider and the ``vtex`` hook (name, class, testable);
4. the connection form Airflow builds for ``vtex`` is the declared one: on Airflow 3 what the UI's
   ``/ui/connections/hook_meta`` serves (built from ``conn-fields`` on 3.2+, from the hook's form
   methods on 3.0/3.1), on Airflow 2 the ProvidersManager's field behaviour and WTForms widgets.

The example DAG runs and the connection test are ``scripts/demo.py``'s job.
Exits non-zero naming the first check that failed.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import sysconfig
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import airflow_provider_vtex
from airflow_provider_vtex.get_provider_info import (
    CONN_FIELDS,
    CONN_TYPE,
    HOOK_NAME,
    UI_FIELD_BEHAVIOUR,
    get_provider_info,
)

if TYPE_CHECKING:
    from collections.abc import Callable

REPO = Path(__file__).resolve().parent.parent
PACKAGE_NAME = get_provider_info()["package-name"]
HOOK_CLASS = get_provider_info()["connection-types"][0]["hook-class-name"]
#: Airflow 3's form calls the connection's ``schema`` field ``url_schema``.
UI_FIELD_NAMES = {"schema": "url_schema"}


class SmokeFailure(Exception):
    """A check found Airflow seeing something other than what the provider declares."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def installed_from_the_wheel() -> str:
    location = Path(airflow_provider_vtex.__file__).resolve().parent
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    check(
        location.is_relative_to(site_packages),
        f"airflow_provider_vtex was imported from {location}, not from this venv's {site_packages}: "
        "the smoke run must test the installed wheel (run it from outside the repository)",
    )
    return f"airflow_provider_vtex {airflow_provider_vtex.__version__} from {location}"


def start_providers_list() -> subprocess.Popen[str]:
    """Start ``airflow providers list`` (the CLI as a user runs it: a process of its own) in the background;
    :func:`providers_list` checks what it listed."""
    # The Airflow home as working directory: `python -m` puts it first on sys.path, and the repository
    # there would shadow the installed wheel.
    home = Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow"))
    home.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "airflow", "providers", "list", "--output", "plain"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=home,
    )


def providers_list(listing: subprocess.Popen[str]) -> str:
    stdout, stderr = listing.communicate(timeout=600)
    check(listing.returncode == 0, f"`airflow providers list` failed:\n{stdout[-2000:]}{stderr[-2000:]}")
    lines = [line for line in stdout.splitlines() if PACKAGE_NAME in line]
    check(bool(lines), f"`airflow providers list` does not list {PACKAGE_NAME}:\n{stdout[-2000:]}")
    check(
        airflow_provider_vtex.__version__ in lines[0],
        f"`airflow providers list` shows another version than {airflow_provider_vtex.__version__}: {lines[0]}",
    )
    return " ".join(lines[0].split())


def providers_manager() -> Any:
    from airflow.providers_manager import ProvidersManager

    return ProvidersManager()


def provider_and_hook_registered() -> str:
    manager = providers_manager()
    check(PACKAGE_NAME in manager.providers, f"ProvidersManager does not know {PACKAGE_NAME}")
    version = manager.providers[PACKAGE_NAME].version
    check(version == airflow_provider_vtex.__version__, f"ProvidersManager reports version {version}")
    hook = manager.hooks.get(CONN_TYPE)
    check(hook is not None, f'ProvidersManager has no hook for connection type "{CONN_TYPE}"')
    check(hook.hook_class_name == HOOK_CLASS, f"the {CONN_TYPE} hook class is {hook.hook_class_name}")
    check(hook.hook_name == HOOK_NAME, f"the {CONN_TYPE} hook name is {hook.hook_name!r}")
    check(hook.connection_testable, f"the {CONN_TYPE} hook is not testable (no test_connection)")
    return f"{PACKAGE_NAME} {version}; hook {CONN_TYPE} = {hook.hook_class_name}, testable"


def _declared_standard_fields() -> dict[str, tuple[bool, str | None]]:
    """``{ui field name: (hidden, title)}`` for the standard fields the declaration touches."""
    hidden = UI_FIELD_BEHAVIOUR["hidden_fields"]
    relabeled = UI_FIELD_BEHAVIOUR["relabeling"]
    return {
        UI_FIELD_NAMES.get(name, name): (name in hidden, relabeled.get(name))
        for name in [*hidden, *relabeled]
    }


def _airflow3_form() -> str:
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    metas = {meta.connection_type: meta for meta in HookMetaService.hook_meta_data()}
    check(CONN_TYPE in metas, f"/ui/connections/hook_meta has no entry for {CONN_TYPE}")
    meta = metas[CONN_TYPE]
    if meta.standard_fields is None and meta.extra_fields is None:
        # Airflow 3.0 builds hook forms only where wtforms is installed (with the FAB provider): then no
        # hook at all has a form. Anything else would be this provider's fault.
        with_form = sorted(key for key, m in metas.items() if m.standard_fields or m.extra_fields)
        check(not with_form, f"Airflow built connection forms for {with_form} but not for {CONN_TYPE}")
        check(
            importlib.util.find_spec("wtforms") is None,
            "wtforms is installed, yet Airflow built no connection form for any hook",
        )
        return f"no form for any of Airflow's {len(metas)} hook types here (this Airflow needs wtforms for forms)"
    standard = meta.standard_fields.model_dump() if meta.standard_fields is not None else {}
    for name, (hidden, title) in _declared_standard_fields().items():
        shown = standard.get(name) or {}
        check(shown.get("hidden") == hidden, f"the form's {name} field: hidden={shown.get('hidden')}")
        if title is not None:
            check(shown.get("title") == title, f"the form's {name} field is titled {shown.get('title')!r}")
    extra = meta.extra_fields or {}
    check(set(extra) == set(CONN_FIELDS), f"the form's extra fields are {sorted(extra)}")
    for name, spec in CONN_FIELDS.items():
        field = dict(extra[name])
        check(field["schema"]["title"] == spec["label"], f"extra field {name}: title {field['schema']}")
        check(field["description"] == spec["description"], f"extra field {name}: description differs")
    return f"hook_meta: {len(standard)} standard fields as declared, extra fields {sorted(extra)}"


def _airflow2_form() -> str:
    manager = providers_manager()
    behaviour = manager.field_behaviours.get(CONN_TYPE)
    check(behaviour is not None, f"ProvidersManager has no field behaviour for {CONN_TYPE}")
    check(behaviour["hidden_fields"] == UI_FIELD_BEHAVIOUR["hidden_fields"], f"hidden: {behaviour}")
    check(behaviour["relabeling"] == UI_FIELD_BEHAVIOUR["relabeling"], f"relabeling: {behaviour}")
    prefix = f"extra__{CONN_TYPE}__"
    widgets = {
        key.removeprefix(prefix): widget.field
        for key, widget in manager.connection_form_widgets.items()
        if key.startswith(prefix)
    }
    check(set(widgets) == set(CONN_FIELDS), f"the form's extra widgets are {sorted(widgets)}")
    for name, field in widgets.items():
        check(str(field.args[0]) == CONN_FIELDS[name]["label"], f"widget {name} labelled {field.args[0]!r}")
    return f"field behaviour as declared; WTForms widgets {sorted(widgets)}"


def connection_form() -> str:
    if importlib.util.find_spec("airflow.api_fastapi") is not None:  # Airflow 3: the React UI's form
        return _airflow3_form()
    return _airflow2_form()


#: In this order: the connection form check must be the first to build Airflow's ProvidersManager (a
#: process-wide singleton), as in the API server: Airflow 3.1's form service installs its WTForms stand-ins
#: before it builds the manager, and a manager built earlier without them has no forms at all.
CHECKS: list[tuple[str, Callable[[], str]]] = [
    ("installed from the wheel", installed_from_the_wheel),
    ("connection form", connection_form),
    ("provider and hook registered", provider_and_hook_registered),
]
PROVIDERS_LIST = "airflow providers list"


def _report(name: str, run: Callable[[], str]) -> bool:
    from airflow import __version__ as airflow_version

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation noise of older Airflow versions; failures still raise
        try:
            detail = run()
        except SmokeFailure as failure:
            print(f"smoke (Airflow {airflow_version}): FAILED {name}: {failure}", file=sys.stderr)
            return False
    print(f"smoke (Airflow {airflow_version}): ok  {name}: {detail}")
    return True


def start() -> Callable[[], bool] | None:
    """Run the checks made in this process, then start ``airflow providers list`` in the background (its
    own process, on the machine's other core, with the bytecode this process just compiled). None if a
    check failed, else a function that waits for the CLI and checks its output: True if that passed too.
    ``scripts/demo.py --smoke-checks`` calls it first, before anything there builds the ProvidersManager
    (see CHECKS), and the CLI's result at its end."""
    for name, run in CHECKS:
        if not _report(name, run):
            return None
    listing = start_providers_list()
    return lambda: _report(PROVIDERS_LIST, lambda: providers_list(listing))


def main() -> int:
    finish = start()
    return 0 if finish is not None and finish() else 1


if __name__ == "__main__":
    raise SystemExit(main())
