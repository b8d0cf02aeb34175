"""A griffe extension for the API reference (mkdocs.yml, mkdocstrings ``extensions``).

The docstrings use Sphinx's cross-reference roles (``:class:`~airflow_provider_vtex.models.Outcome```),
which griffe's Sphinx parser leaves as text: the page would show ``:class: Outcome``. This turns each
role into inline code with the name Sphinx would show (the last part after ``~``, else the whole path).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|data|exc|mod|obj|const):`(~?)([^`]+)`")


def _plain(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"


class SphinxRoles(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(_plain, obj.docstring.value)
