"""The ``vtex`` connection's form in Airflow's UI, for Airflow versions that do not read ``conn-fields``.

Airflow 3.2+ builds the form from the provider info (:data:`~airflow_provider_vtex.get_provider_info.CONN_FIELDS`
and :data:`~airflow_provider_vtex.get_provider_info.UI_FIELD_BEHAVIOUR`) without importing the hook; older
versions ask the hook's ``get_connection_form_widgets()`` and ``get_ui_field_behaviour()``, which return
what this module derives from the same constants, so the two forms cannot drift apart. It lives beside
the hook, not in the Airflow-free ``client/``, because it imports WTForms and Flask-AppBuilder, which
only Airflow's web server brings.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_vtex.get_provider_info import CONN_FIELDS, UI_FIELD_BEHAVIOUR


def ui_field_behaviour() -> dict[str, Any]:
    """Relabels and hides standard fields (a copy: Airflow may modify what it is given)."""
    return {
        key: dict(value) if isinstance(value, dict) else list(value)
        for key, value in UI_FIELD_BEHAVIOUR.items()
    }


def connection_form_widgets() -> dict[str, Any]:
    """The extra fields as WTForms widgets."""
    from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
    from flask_babel import lazy_gettext
    from wtforms import IntegerField, PasswordField, StringField
    from wtforms.validators import AnyOf, NumberRange, Optional

    # Airflow 2 renders only StringField, IntegerField, PasswordField and BooleanField: a choice is a
    # text field that accepts the declared values.
    widgets: dict[str, Any] = {}
    for name, spec in CONN_FIELDS.items():
        schema = spec["schema"]
        label = lazy_gettext(spec["label"])
        if schema.get("format") == "password":  # a secret (hook_secret): typed, never shown back
            widgets[name] = PasswordField(
                label, widget=BS3PasswordFieldWidget(), description=spec["description"]
            )
        elif "integer" in schema["type"]:
            widgets[name] = IntegerField(
                label,
                validators=[Optional(), NumberRange(min=0)],
                widget=BS3TextFieldWidget(),
                description=spec["description"],
            )
        else:
            choices = [value for value in schema.get("enum", []) if value is not None]
            widgets[name] = StringField(
                label,
                validators=[Optional(), AnyOf(choices)] if choices else [],
                widget=BS3TextFieldWidget(),
                description=spec["description"],
            )
    return widgets
