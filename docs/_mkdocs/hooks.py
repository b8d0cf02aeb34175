"""MkDocs hooks for the documentation build (mkdocs.yml ``hooks:``).

``on_page_markdown`` fills the operation table of docs/operations.md from the route tables
(:func:`airflow_provider_vtex.hooks.operations.operation_rows`), so the page cannot drift from the code.

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


#: Where docs/operations.md wants the generated table.
OPERATION_TABLE_MARKER = "<!-- operation-table -->"


def operation_table() -> str:
    """The operation table as Markdown: VTEX operation, route(s), hook method(s), operator."""
    from airflow_provider_vtex.hooks.operations import operation_rows

    lines = ["| VTEX operation | Route | `VtexHook` method | Operator |", "|---|---|---|---|"]
    for row in operation_rows():
        routes = "<br>".join(f"`{route}`" for route in row.routes)
        methods = ", ".join(f"`{method}`" for method in row.methods) or row.note
        lines.append(f"| {row.vtex} | {routes} | {methods} | {row.operator or ''} |")
    return "\n".join(lines)


def on_page_markdown(markdown: str, **_: Any) -> str:
    if OPERATION_TABLE_MARKER in markdown:
        return markdown.replace(OPERATION_TABLE_MARKER, operation_table())
    return markdown
