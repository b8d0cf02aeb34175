"""Checks requests against VTEX's own OpenAPI description of the Orders API.

VTEX's file lives beside the project in ``../shared/vtex/`` (reference data without a licence, so it is
read from there and never copied into the package). Where it is absent, the contract checks are skipped
with that reason.

OpenAPI 3.0 is not quite JSON Schema: ``nullable: true`` is turned into a ``"null"`` type and ``$ref``
is resolved against the document's components before validating with ``jsonschema``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

SPEC_PATH = Path(__file__).resolve().parent.parent.parent / "shared" / "vtex" / "VTEX - Orders API.json"
MISSING_SPEC_REASON = (
    f"VTEX's OpenAPI file is not at {SPEC_PATH} (../shared is absent): contract checks skipped"
)


@dataclass(frozen=True)
class Violation:
    method: str
    path: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}: {self.where}: {self.message}"


def spec_available() -> bool:
    return SPEC_PATH.is_file()


@cache
def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return spec


def _resolve(node: Any, spec: dict[str, Any]) -> Any:
    """Inline ``$ref``s and turn OpenAPI's ``nullable`` into JSON Schema's null type."""
    if isinstance(node, list):
        return [_resolve(item, spec) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return _resolve(target, spec)
    resolved = {
        key: _resolve(value, spec) for key, value in node.items() if key not in ("example", "nullable")
    }
    if node.get("nullable") and "type" in resolved:
        resolved["type"] = [resolved["type"], "null"]
    return resolved


@cache
def _operations() -> list[tuple[re.Pattern[str], str, str]]:
    """``(path regex, method, template)`` for every operation in the spec, most specific first."""
    found = []
    for template, methods in _spec()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$")
        for method in methods:
            if method in ("get", "post", "put", "patch", "delete"):
                found.append((pattern, method.upper(), template))
    return sorted(found, key=lambda item: -item[2].count("/"))


def _operation(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    for pattern, op_method, template in _operations():
        if op_method == method and pattern.match(path):
            return template, _resolve(_spec()["paths"][template][method.lower()], _spec())
    return None


def check_request(
    method: str, url: str, headers: dict[str, str], body: bytes | str | None
) -> list[Violation]:
    """Everything about one request that VTEX's OpenAPI description does not allow."""
    import jsonschema

    split = urlsplit(url)
    route = split.path[max(split.path.find("/api/"), 0) :]  # a base_url may add a prefix such as /vtex
    path = unquote(route)
    found = _operation(method, route)
    if found is None:
        return [Violation(method, path, "route", "no such operation in VTEX's Orders API")]
    _, operation = found
    problems: list[Violation] = []
    lowered = {name.lower(): value for name, value in headers.items()}
    query = parse_qs(split.query)
    for parameter in operation.get("parameters", []):
        name, place = parameter["name"], parameter["in"]
        if place == "header" and parameter.get("required") and name.lower() not in lowered:
            problems.append(Violation(method, path, f"header {name}", "required by the spec but not sent"))
        if place == "query" and name in query and "schema" in parameter:
            for value in query[name]:
                typed: Any = (
                    int(value) if parameter["schema"].get("type") == "integer" and value.isdigit() else value
                )
                for error in jsonschema.Draft7Validator(parameter["schema"]).iter_errors(typed):
                    problems.append(Violation(method, path, f"query {name}", error.message))
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if schema is not None:
        document = json.loads(body) if body else None
        for error in jsonschema.Draft7Validator(schema).iter_errors(document):
            where = "body" + "".join(f"[{part!r}]" for part in error.absolute_path)
            problems.append(Violation(method, path, where, error.message))
    elif body:
        problems.append(
            Violation(method, path, "body", "the spec defines no request body for this operation")
        )
    return problems
