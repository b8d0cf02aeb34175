"""A griffe extension for the API reference (mkdocs.yml, mkdocstrings ``extensions``).

The task classes take ``vtex_conn_id`` and ``hook_params`` through ``**kwargs``: the shared
``VtexHookMixin`` owns them. Read statically, a class's signature then lacks both, so griffe finds no
default for them and the reference marked both *required*, and warned that the documented parameters
were missing. This puts the mixin's own parameters (names, annotations, defaults, read from its
``__init__``, so they cannot drift) into the signature of every ``__init__`` that passes ``**kwargs`` on
and whose class documents them, before the ``**kwargs``: what a DAG author can really pass.
"""

from __future__ import annotations

from typing import Any

import griffe

_OWNER = "airflow_provider_vtex.operators.base.VtexHookMixin"
_INHERITED = ("vtex_conn_id", "hook_params")


class InheritedHookParameters(griffe.Extension):
    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.path != "airflow_provider_vtex":
            return
        owner = pkg.modules_collection.get_member(_OWNER)
        inherited = [owner.members["__init__"].parameters[name] for name in _INHERITED]
        for cls in _classes(pkg):
            init = cls.members.get("__init__")
            if cls.path == _OWNER or not isinstance(init, griffe.Function) or cls.docstring is None:
                continue
            params = init.parameters
            variadic = next(
                (i for i, p in enumerate(params) if p.kind is griffe.ParameterKind.var_keyword), None
            )
            if variadic is None:
                continue
            missing = [
                p for p in inherited if p.name not in params and f":param {p.name}:" in cls.docstring.value
            ]
            for offset, parameter in enumerate(missing):
                params._params.insert(
                    variadic + offset,
                    griffe.Parameter(
                        parameter.name,
                        annotation=parameter.annotation,
                        kind=griffe.ParameterKind.keyword_only,
                        default=_value(owner, parameter.default),
                    ),
                )


def _value(owner: griffe.Class, default: Any) -> Any:
    """A default that names a constant (``DEFAULT_CONN_ID``), shown as the constant's value."""
    try:
        constant = owner.parent.get_member(str(default)) if owner.parent is not None else None
    except (KeyError, ValueError):
        return default
    value = getattr(constant, "value", None) if constant is not None else None
    return default if value is None else value


def _classes(module: griffe.Module) -> list[griffe.Class]:
    found: list[griffe.Class] = []
    for member in module.members.values():
        if member.is_alias:
            continue
        if isinstance(member, griffe.Module):
            found += _classes(member)
        elif isinstance(member, griffe.Class):
            found.append(member)
    return found
