"""MkDocs hooks for the documentation build (mkdocs.yml ``hooks:``).

The task classes document ``vtex_conn_id`` and ``hook_params`` in their own docstrings, where a reader
looks for them, but take them through ``**kwargs`` (the shared base class owns them). griffe's Sphinx
docstring parser warns about a documented parameter missing from the signature, and ``--strict`` turns
that into a failure; only that warning, for those two parameters, is dropped here.
"""

from __future__ import annotations

import logging
from typing import Any

_INHERITED = ("No matching parameter for 'vtex_conn_id'", "No matching parameter for 'hook_params'")


def _keep(record: logging.LogRecord) -> bool:
    message = record.getMessage()
    return not any(text in message for text in _INHERITED)


def on_startup(**_: Any) -> None:
    for name in ("griffe", "mkdocs.plugins.griffe", "mkdocs.plugins.mkdocstrings_handlers.python"):
        logging.getLogger(name).addFilter(_keep)
