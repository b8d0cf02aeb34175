"""The connection form Airflow builds for ``vtex`` is the declared one, on every supported Airflow.

Airflow 3.2+ builds the form from the provider info's ``conn-fields`` / ``ui-field-behaviour``; Airflow
2.x asks the hook's ``get_connection_form_widgets()`` / ``get_ui_field_behaviour()``. The browser test
(``test_airflow_ui.py``) shows the result in Airflow 3's UI; here, on whichever Airflow runs the suite,
the fields the ProvidersManager registers must carry the declared labels, descriptions, relabelling,
hidden fields and placeholders. On Airflow 2.11 that checks the hook's WTForms fallback end to end.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_vtex.get_provider_info import CONN_FIELDS, UI_FIELD_BEHAVIOUR, get_provider_info
from airflow_provider_vtex.hooks.vtex import VtexHook


def _label_and_description(field: Any) -> tuple[str, str]:
    """Label and description of a registered form field: a conn-fields dict (3.2+) or a WTForms field."""
    if isinstance(field, dict):
        return field["schema"]["title"], field["description"]
    return str(field.args[0]), str(field.kwargs["description"])


@pytest.fixture(scope="module")
def manager() -> Any:
    from airflow.providers_manager import ProvidersManager

    return ProvidersManager()  # type: ignore[no-untyped-call]  # Airflow core is not typed strictly


def test_registered_extra_fields_carry_the_declared_labels_and_descriptions(manager: Any) -> None:
    registered = {
        key.removeprefix("extra__vtex__"): _label_and_description(widget.field)
        for key, widget in manager.connection_form_widgets.items()
        if key.startswith("extra__vtex__")
    }
    assert registered == {name: (spec["label"], spec["description"]) for name, spec in CONN_FIELDS.items()}


def test_registered_field_behaviour_is_the_declared_one(manager: Any) -> None:
    behaviour = manager.field_behaviours["vtex"]
    assert behaviour["hidden_fields"] == UI_FIELD_BEHAVIOUR["hidden_fields"] == ["schema", "port"]
    assert behaviour["relabeling"] == {"login": "App Key", "password": "App Token", "host": "Account name"}
    # Airflow prefixes the placeholders of extra fields with extra__vtex__.
    declared = UI_FIELD_BEHAVIOUR["placeholders"]
    expected = {
        name if name not in CONN_FIELDS else f"extra__vtex__{name}": text for name, text in declared.items()
    }
    assert behaviour["placeholders"] == expected


def test_hook_fallback_widgets_match_the_declaration() -> None:
    pytest.importorskip("wtforms", reason="the WTForms fallback is for Airflow 2 (wtforms is not installed)")
    pytest.importorskip(
        "flask_appbuilder", reason="the WTForms fallback is for Airflow 2 (no Flask-AppBuilder)"
    )
    widgets = VtexHook.get_connection_form_widgets()
    assert list(widgets) == list(CONN_FIELDS)
    for name, field in widgets.items():
        assert _label_and_description(field) == (CONN_FIELDS[name]["label"], CONN_FIELDS[name]["description"])
    info = get_provider_info()["connection-types"][0]
    assert VtexHook.get_ui_field_behaviour() == {
        key.replace("-", "_"): value for key, value in info["ui-field-behaviour"].items()
    }


def test_the_airflow_2_form_refuses_an_unknown_data_architecture() -> None:
    """Airflow 2 renders only text, number, password and check-box fields: the choice is a text field
    that accepts the declared values only."""
    pytest.importorskip("wtforms", reason="the WTForms fallback is for Airflow 2 (wtforms is not installed)")
    pytest.importorskip(
        "flask_appbuilder", reason="the WTForms fallback is for Airflow 2 (no Flask-AppBuilder)"
    )
    from werkzeug.datastructures import MultiDict
    from wtforms import Form

    field = VtexHook.get_connection_form_widgets()["data_architecture"]
    form_class = type("VtexForm", (Form,), {"data_architecture": field})
    for value, valid in (("standard", True), ("pii", True), ("", True), ("legacy", False)):
        form = form_class(formdata=MultiDict({"data_architecture": value}))  # as the browser posts it
        assert form.validate() is valid, value
