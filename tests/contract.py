"""Checks a request against VTEX's own OpenAPI description of its route set, with openapi-core.

A request to a PII route (``/api/orders/pvt/document/...``, ``/api/orders/extendsearch/orders``) is
checked against ``VTEX - Orders API PII version.json``, any other against ``VTEX - Orders API.json``;
both are read from ``../shared/vtex/`` (reference data without a licence, never copied here) through
``vtex_sandbox/spec_corrections.py``, which corrects them where they are wrong and says why.

openapi-core does the OpenAPI work ($ref, nullable, path templates, parameters, media types, security);
this module only picks the file, rebuilds the URL on VTEX's server (a ``base_url`` may point at the
sandbox, or add a prefix such as ``/vtex``) and flattens openapi-core's errors into :class:`Violation`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from vtex_sandbox import spec_corrections

if TYPE_CHECKING:
    from openapi_core import OpenAPI

MISSING_SPEC_REASON = spec_corrections.MISSING_SPEC_REASON
#: Any account on VTEX's one documented environment: the host the files' ``servers`` entry allows.
_VTEX_HOST = "https://sandbox.vtexcommercestable.com.br"


@dataclass(frozen=True)
class Violation:
    method: str
    path: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}: {self.where}: {self.message}"


def spec_available() -> bool:
    return spec_corrections.spec_available()


@cache
def _openapi(architecture: str) -> OpenAPI:
    from openapi_core import OpenAPI

    return OpenAPI.from_dict(spec_corrections.corrected_spec(architecture, "contract"))


@cache
def _pii_paths() -> tuple[re.Pattern[str], ...]:
    spec = spec_corrections.corrected_spec("pii", "contract")
    return tuple(
        re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$") for template in spec["paths"]
    )


def route_set(route: str) -> str:
    """``pii`` when the path is one of the PII file's routes, else ``standard``."""
    return "pii" if any(p.match(route) for p in _pii_paths()) else "standard"


def check_request(
    method: str, url: str, headers: dict[str, str], body: bytes | str | None
) -> list[Violation]:
    """Everything about one request that the OpenAPI file of its route set does not allow."""
    import requests

    split = urlsplit(url)
    route = split.path[max(split.path.find("/api/"), 0) :]
    shown = unquote(route)
    rebuilt = f"{_VTEX_HOST}{route}" + (f"?{split.query}" if split.query else "")
    prepared = requests.Request(method, rebuilt, headers=headers, data=body).prepare()
    # requests adds a Content-Length of 0 to a bodiless POST; the original request decides the headers.
    for name in list(prepared.headers):
        if name.lower() not in {h.lower() for h in headers}:
            del prepared.headers[name]
    result = _openapi(route_set(route)).unmarshal_request(_request_adapter()(prepared))
    return [v for error in result.errors for v in _violations(method, shown, error)]


@cache
def _request_adapter() -> Any:
    """openapi-core's requests adapter, minus its fallback of a missing Content-Type to the Accept header
    (a body sent without Content-Type is exactly what the check must report)."""
    from openapi_core.contrib.requests import RequestsOpenAPIRequest

    class ContentTypeAsSent(RequestsOpenAPIRequest):  # type: ignore[misc]
        @property
        def content_type(self) -> str:
            return str(self.request.headers.get("Content-Type") or "")

    return ContentTypeAsSent


def _violations(method: str, path: str, error: Exception) -> list[Violation]:
    """One openapi-core error as violations: one per JSON-schema error of a body or parameter."""
    from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound

    if isinstance(error, (PathNotFound, OperationNotFound)):
        return [Violation(method, path, "route", "no such operation in VTEX's Orders API")]
    where = _where(error)
    cause: Any = error.__cause__
    schema_errors = getattr(cause, "schema_errors", None)
    if schema_errors:
        return [
            Violation(method, path, where + "".join(f"[{part!r}]" for part in e.absolute_path), e.message)
            for e in schema_errors
        ]
    detail = f"{error}" + (f" ({cause})" if cause is not None and str(cause) not in str(error) else "")
    return [Violation(method, path, where, detail)]


def _where(error: Exception) -> str:
    name = type(error).__name__
    if "Body" in name:
        return "body"
    if "Security" in name:
        return "security"
    parameter = getattr(error, "name", None) or getattr(error.__cause__, "name", None)
    location = getattr(error, "location", None) or getattr(error.__cause__, "location", None)
    if parameter:
        return f"{location or 'parameter'} {parameter}"
    return "request"
