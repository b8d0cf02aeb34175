"""MkDocs hooks for the documentation build (mkdocs.yml ``hooks:``).

``on_page_markdown`` fills the operation table of docs/operations.md from the provider's route tables
(:func:`airflow_provider_vtex.hooks.operations.operation_rows`), so the page cannot drift from the code.
"""

from __future__ import annotations

from typing import Any

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
