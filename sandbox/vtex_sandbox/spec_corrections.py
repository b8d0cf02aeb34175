"""Where VTEX's OpenAPI files are wrong, and what the checks against them do about it -- listed once, with
the reason. Part of the sandbox's distribution: anyone who holds a client or the sandbox to VTEX's
published files needs the same corrections.

Two checks in this repository read VTEX's files from ``../shared/vtex/`` (beside the repository;
reference data without a licence, never copied into a package; ``VTEX_SPEC_DIR`` points elsewhere):

* ``sandbox/tests/test_conformance.py`` runs schemathesis against the sandbox (``conformance``);
* the provider's ``tests/contract.py`` validates every request the hook sends with openapi-core
  (``contract``).

Both load the files through :func:`corrected_spec`, which applies the corrections below in memory. An
entry says which check it applies to: a mistake of the file (``both``), a rule the sandbox deliberately
plays looser than the file while the client must still follow the file (``conformance``), and so on.
:data:`EXCLUDED_CHECKS` lists the schemathesis checks left out, with the same kind of reason.

When the files are absent, the checks skip with :data:`MISSING_SPEC_REASON` -- unless the environment
variable ``VTEX_REQUIRE_SPEC=1`` is set (CI sets it), where a missing file is a failure.
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

#: ``VTEX_SPEC_DIR``, else ``../shared/vtex`` beside the repository this file is in
#: (``sandbox/vtex_sandbox/``); an installed sandbox needs ``VTEX_SPEC_DIR``.
SPEC_DIR = Path(os.environ.get("VTEX_SPEC_DIR") or Path(__file__).resolve().parents[3] / "shared" / "vtex")
SPEC_FILES = {"standard": "VTEX - Orders API.json", "pii": "VTEX - Orders API PII version.json"}
MISSING_SPEC_REASON = (
    f"VTEX's OpenAPI files are not in {SPEC_DIR} (../shared/vtex is absent): spec checks skipped "
    "(set VTEX_REQUIRE_SPEC=1 to make this a failure, as CI does)"
)

#: The sandbox's error envelope, for the statuses VTEX answers but does not document.
ERROR_ENVELOPE: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "exception"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "exception": {"type": "string", "nullable": True},
            },
        }
    },
}
#: Statuses any VTEX operation answers: bad body or query, credentials, License Manager, unknown
#: order/invoice, wrong method, wrong workflow status or repeated PII invoice, media type, rate limit.
UNDOCUMENTED_ERRORS = ("400", "401", "403", "404", "405", "409", "415", "429")

_VERBS = ("get", "post", "put", "patch", "delete")
#: ISO 8601 date and time as VTEX's descriptions ask for it (the sandbox also refuses days that do not
#: exist, such as 30 February: a pattern cannot say that).
_DAY = r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_DATE_TIME_PATTERN = rf"^{_DAY}T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{{1,7}})?)?(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])?$"
_DAY_PATTERN = rf"^{_DAY}$"
_CENTS_PATTERN = r"^0*[1-9][0-9]{0,8}$"

STANDARD_INVOICE = ("standard", "post", "/api/oms/pvt/orders/{orderId}/invoice")
STANDARD_PATCH = ("standard", "patch", "/api/oms/pvt/orders/{orderId}/invoice/{invoiceNumber}")
STANDARD_PUT = ("standard", "put", "/api/oms/pvt/orders/{orderId}/invoice/{invoiceNumber}/tracking")
STANDARD_GET = ("standard", "get", "/api/oms/pvt/orders/{orderId}")
PII_INVOICE = ("pii", "post", "/api/orders/pvt/document/{orderId}/invoices")
FEED_READ = ("standard", "get", "/api/orders/feed")
FEED_COMMIT = ("standard", "post", "/api/orders/feed")
FEED_CONFIG_GET = ("standard", "get", "/api/orders/feed/config")
FEED_CONFIG_SET = ("standard", "post", "/api/orders/feed/config")
JSONATA_TEST = ("standard", "post", "/api/orders/expressions/jsonata")
PII_GET = ("pii", "get", "/api/orders/pvt/document/{orderId}")
CHANGES = "/api/order-system/orders/{changeOrderId}/changes"
CHANGE_CREATE = ("standard", "patch", CHANGES)
CHANGE_PREVIEW = ("standard", "post", CHANGES + "/preview")
CHANGE_DETAIL = ("standard", "get", CHANGES + "/{changeRequestId}")
CHANGE_SETTINGS = "/api/order-system/orders/changes/settings"
ORDER_GROUP = ("standard", "get", "/api/oms/pvt/orders/order-group/{orderGroup}")
LEGACY_CHANGES = ("standard", "post", "/api/oms/pvt/orders/{orderId}/changes")
CHANGE_SUMMARY = ("standard", "get", "/api/orders/pvt/document/{orderId}/change-summary")
FEED_V2 = ("standard", "get", "/api/oms/pvt/feed/orders/status")
#: The examples the conformance test's requests start from, fitted to the sandbox's seed: an order in
#: handling (the one status of those that allow modifications the sandbox plays), a change request the
#: test's set-up creates under this id, and the seed's purchase split into -01 and more.
EXAMPLE_CHANGE_ORDER = "1172452900789-01"
EXAMPLE_CHANGE_REQUEST = "3f1c9f1e-0000-4000-8000-000000000001"
EXAMPLE_ORDER_GROUP = "v71021948str"
EXAMPLE_CHANGE = {
    "reason": "Headphone case out of stock: a pouch instead",
    "replace": [
        {"from": {"items": [{"id": "3120", "quantity": 1}]}, "to": {"items": [{"id": "6101", "quantity": 1}]}}
    ],
}


@dataclass(frozen=True)
class SpecException:
    """One correction: where, what is wrong, why the correction is right, and which check uses it."""

    spec: str  # "standard", "pii" or "both"
    where: str
    mistake: str
    reason: str
    applies_to: str  # "both", "conformance" or "contract"
    fix: Callable[[dict[str, Any]], None]


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for verb, operation in item.items():
            if verb in _VERBS:
                yield path, verb, operation


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _request_schema(spec: dict[str, Any], operation: tuple[str, str, str]) -> dict[str, Any]:
    _, verb, path = operation
    body = spec["paths"][path][verb]["requestBody"]["content"]["application/json"]["schema"]
    schema: dict[str, Any] = _resolve(spec, body)
    return schema


def _response_schema(spec: dict[str, Any], operation: tuple[str, str, str]) -> dict[str, Any]:
    _, verb, path = operation
    content = spec["paths"][path][verb]["responses"]["200"]["content"]
    schema: dict[str, Any] = _resolve(spec, next(iter(content.values()))["schema"])
    return schema


def _add_error_responses(spec: dict[str, Any]) -> None:
    for _, _, operation in _operations(spec):
        responses = operation.setdefault("responses", {})
        for status in UNDOCUMENTED_ERRORS:
            documented = _resolve(spec, responses.get(status, {}))
            if "content" not in documented:
                responses[status] = {
                    "description": "VTEX error (status not documented by VTEX)",
                    "content": {"application/json": {"schema": ERROR_ENVELOPE}},
                }


def _bodies_required(spec: dict[str, Any]) -> None:
    for _, verb, path in (STANDARD_INVOICE, STANDARD_PATCH, STANDARD_PUT, PII_INVOICE):
        if path in spec["paths"]:
            spec["paths"][path][verb]["requestBody"]["required"] = True


def _relax_negotiation_headers(spec: dict[str, Any]) -> None:
    for _, _, operation in _operations(spec):
        has_body = bool(operation.get("requestBody", {}).get("required"))
        kept = []
        for parameter in operation.get("parameters", []):
            resolved = _resolve(spec, parameter)
            name = str(resolved.get("name", "")).lower()
            if resolved.get("in") == "header" and (
                name == "accept" or (name == "content-type" and not has_body)
            ):
                continue
            kept.append(parameter)
        operation["parameters"] = kept


def _unit_multiplier_is_a_number(spec: dict[str, Any]) -> None:
    item = _response_schema(spec, STANDARD_GET)["properties"]["items"]["items"]
    _resolve(spec, item)["properties"]["unitMultiplier"] = {"type": "number"}


def _price_definition_name(spec: dict[str, Any]) -> None:
    properties = _resolve(spec, _response_schema(spec, STANDARD_GET)["properties"]["items"]["items"])[
        "properties"
    ]
    properties["priceDefinition"] = properties.pop("priceDefinitions")


def _invoice_number_not_null(spec: dict[str, Any]) -> None:
    _request_schema(spec, STANDARD_INVOICE)["properties"]["invoiceNumber"].pop("nullable", None)


def _patterns_from_prose(spec: dict[str, Any]) -> None:
    standard = _request_schema(spec, STANDARD_INVOICE)["properties"]
    standard["invoiceValue"]["pattern"] = _CENTS_PATTERN
    standard["issuanceDate"]["pattern"] = _DATE_TIME_PATTERN
    standard["dispatchedDate"]["pattern"] = _DATE_TIME_PATTERN
    standard["invoiceNumber"]["minLength"] = 1
    for item in (standard["items"]["items"]["properties"],):
        item["quantity"]["minimum"] = 1
        item["price"]["minimum"] = 0
        item["id"]["minLength"] = 1


def _pii_patterns_from_prose(spec: dict[str, Any]) -> None:
    pii = _request_schema(spec, PII_INVOICE)["properties"]
    pii["type"]["enum"] = ["Output", "Input"]
    pii["issuedDate"]["pattern"] = _DAY_PATTERN
    pii["invoiceValue"]["minimum"] = 1
    pii["invoiceNumber"]["minLength"] = 1
    item = pii["items"]["items"]["properties"]
    item["quantity"]["minimum"] = 1
    item["price"]["minimum"] = 0
    item["itemIndex"]["minimum"] = 0


def _tracking_patterns_from_prose(spec: dict[str, Any]) -> None:
    put = _request_schema(spec, STANDARD_PUT)
    put = _resolve(spec, put)
    put["properties"]["deliveredDate"]["pattern"] = rf"^{_DAY} ([01][0-9]|2[0-3]):[0-5][0-9]$"
    event = _resolve(spec, _resolve(spec, put["properties"]["events"])["items"])
    event["properties"]["date"]["pattern"] = _DAY_PATTERN
    event["properties"]["description"]["maxLength"] = 5000
    patch = _request_schema(spec, STANDARD_PATCH)["properties"]
    patch["trackingNumber"]["minLength"] = 1
    patch["dispatchedDate"]["pattern"] = _DATE_TIME_PATTERN


def _product_categories_is_a_map(spec: dict[str, Any]) -> None:
    item = _resolve(spec, _response_schema(spec, PII_GET)["properties"]["items"]["items"])
    item["properties"]["productCategories"] = {"type": "object", "additionalProperties": {"type": "string"}}


def _patch_takes_partial_bodies(spec: dict[str, Any]) -> None:
    _request_schema(spec, STANDARD_PATCH)["required"] = ["trackingNumber"]


def _preview_takes_the_patch_body(spec: dict[str, Any]) -> None:
    schema = _request_schema(
        spec, ("standard", "post", "/api/order-system/orders/{changeOrderId}/changes/preview")
    )
    schema["required"] = ["reason"]


def _feed_bodies_required(spec: dict[str, Any]) -> None:
    for _, verb, path in (FEED_COMMIT, FEED_CONFIG_SET, JSONATA_TEST):
        spec["paths"][path][verb]["requestBody"]["required"] = True


def _feed_config_answer_spelling(spec: dict[str, Any]) -> None:
    queue = _response_schema(spec, FEED_CONFIG_GET)["properties"]["queue"]["properties"]
    queue["messageRetentionPeriodInSeconds"] = queue.pop("MessageRetentionPeriodInSeconds")


def _maxlot_from_prose(spec: dict[str, Any]) -> None:
    _, verb, path = FEED_READ
    for parameter in spec["paths"][path][verb]["parameters"]:
        if _resolve(spec, parameter).get("name") == "maxlot":
            parameter["schema"] = {"type": "string", "pattern": "^([1-9]|10)$", "example": "10"}


def _jsonata_example_escaped_once(spec: dict[str, Any]) -> None:
    _, verb, path = JSONATA_TEST
    content = spec["paths"][path][verb]["requestBody"]["content"]["application/json"]
    content["example"] = {"Expression": 'status = "canceled"', "Document": '{"status":"canceled"}'}


def _feed_config_rules_from_prose(spec: dict[str, Any]) -> None:
    body = _request_schema(spec, FEED_CONFIG_SET)["properties"]
    body["filter"]["properties"]["type"]["enum"] = ["FromWorkflow", "FromOrders"]
    status = body["filter"]["properties"]["status"]
    # The description lists them, one "- status" a line, after "Status available to filter".
    listed = status["description"].split("Status available to filter", 1)[1].replace("\r", "")
    status["items"]["enum"] = re.findall(r"^- ([a-z][a-z-]*[a-z])", listed, re.MULTILINE)
    status["minItems"] = 1
    queue = body["queue"]["properties"]
    queue["visibilityTimeoutInSeconds"].update(minimum=0, maximum=43200)
    queue["MessageRetentionPeriodInSeconds"].update(minimum=60, maximum=1209600)


def _operation_ids(spec: dict[str, Any]) -> None:
    names = {
        ("get", ORDER_GROUP[2]): "GetOrdersByOrderGroup",
        ("put", CHANGE_SETTINGS): "UpdateOrderModificationsSettings",
        ("get", CHANGE_SETTINGS): "GetOrderModificationsSettings",
    }
    for (verb, path), name in names.items():
        spec["paths"][path][verb].setdefault("operationId", name)


def _change_totals_are_objects(spec: dict[str, Any]) -> None:
    _, verb, path = CHANGE_CREATE
    content = spec["paths"][path][verb]["responses"]["202"]["content"]["application/json"]
    schema = _resolve(spec, content["schema"])
    schema["properties"]["totals"]["items"] = {
        "type": "object",
        "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "value": {"type": "number"}},
    }


def _path_example(spec: dict[str, Any], path: str, verb: str, name: str, value: str) -> None:
    for parameter in spec["paths"][path][verb].get("parameters", []):
        resolved = _resolve(spec, parameter)
        if resolved.get("name") == name and resolved.get("in") == "path":
            resolved["example"] = value
            resolved.setdefault("schema", {"type": "string"})["example"] = value


def _examples_fit_the_seed(spec: dict[str, Any]) -> None:
    for path, verb, _ in list(_operations(spec)):
        if path.startswith("/api/order-system/orders/{changeOrderId}"):
            _path_example(spec, path, verb, "changeOrderId", EXAMPLE_CHANGE_ORDER)
            _path_example(spec, path, verb, "changeRequestId", EXAMPLE_CHANGE_REQUEST)
    for _, verb, path in (CHANGE_CREATE, CHANGE_PREVIEW):
        spec["paths"][path][verb]["requestBody"]["content"]["application/json"]["example"] = EXAMPLE_CHANGE
    _path_example(spec, ORDER_GROUP[2], "get", "orderGroup", EXAMPLE_ORDER_GROUP)
    _path_example(spec, CHANGE_SUMMARY[2], "get", "orderId", EXAMPLE_CHANGE_ORDER)
    _path_example(spec, LEGACY_CHANGES[2], "post", "orderId", EXAMPLE_CHANGE_ORDER)
    legacy = spec["paths"][LEGACY_CHANGES[2]]["post"]["requestBody"]["content"]["application/json"]
    legacy["example"] = {
        "requestId": "erp-change-1",
        "reason": "Stock shortage",
        "discountValue": 0,
        "incrementValue": 0,
        "itemsRemoved": [{"id": "3120", "price": 3990, "quantity": 1}],
        "itemsAdded": [],
    }


def _change_summary_nulls_as_get_order(spec: dict[str, Any]) -> None:
    item = _resolve(spec, spec["components"]["schemas"]["ChangeSummary"])["properties"]["original"]["items"]
    properties = _resolve(spec, item)["properties"]
    _resolve(spec, properties["additionalInfo"])["properties"]["offeringTypeId"]["nullable"] = True
    _resolve(spec, properties["priceDefinition"])["properties"]["reason"]["nullable"] = True


def _user_orders_means_are_numbers(spec: dict[str, Any]) -> None:
    for name in ("TotalItems1", "TotalValue1"):
        properties = spec["components"]["schemas"][name]["properties"]
        properties["Mean"] = {"type": "number"}
        properties["StdDev"] = {"type": "number"}


def _user_order_is_an_order(spec: dict[str, Any]) -> None:
    content = spec["paths"]["/api/oms/user/orders/{orderId}"]["get"]["responses"]["200"]["content"]
    content["application/json"]["schema"] = copy.deepcopy(_response_schema(spec, STANDARD_GET))


def _account_parameter_optional(spec: dict[str, Any]) -> None:
    for path, _, operation in _operations(spec):
        if not path.startswith("/api/order-system/"):
            continue
        for parameter in operation.get("parameters", []):
            resolved = _resolve(spec, parameter)
            if resolved.get("in") == "query" and resolved.get("name") in ("an", "accountName"):
                resolved["required"] = False


_UNPLAYED_CHANGE_PARTS = ("shippingData", "customData", "clientProfileData")


def _unplayed_change_parts_unchecked(spec: dict[str, Any]) -> None:
    def prune(node: Any) -> None:
        node = _resolve(spec, node)
        if isinstance(node, dict):
            for name in _UNPLAYED_CHANGE_PARTS:
                node.get("properties", {}).pop(name, None)
            for value in node.values():
                prune(value)
        elif isinstance(node, list):
            for value in node:
                prune(value)

    for path, _, operation in _operations(spec):
        if path.startswith("/api/order-system/orders/{changeOrderId}") and "requestBody" in operation:
            prune(operation["requestBody"])


def _feed_v2_is_gone(spec: dict[str, Any]) -> None:
    _, verb, path = FEED_V2
    for parameter in spec["paths"][path][verb]["parameters"]:
        if _resolve(spec, parameter).get("name") == "maxLot":
            parameter["schema"] = {"type": "string", "pattern": "^[0-9]+$", "example": "10"}
    spec["paths"][path][verb]["responses"]["410"] = {
        "description": "Feed v2 was discontinued (VTEX, 2019-07-25): use Feed v3",
        "content": {"application/json": {"schema": ERROR_ENVELOPE}},
    }


def _hook_headers_are_a_map(spec: dict[str, Any]) -> None:
    spec["components"]["schemas"]["Headers"] = {
        "title": "Headers",
        "type": "object",
        "additionalProperties": {"type": "string"},
        "example": {"key": "value"},
    }


EXCEPTIONS: tuple[SpecException, ...] = (
    SpecException(
        "both",
        "invoice (both files), PATCH and PUT tracking: requestBody",
        "The request body is not marked required (OpenAPI's default: optional).",
        "There is no invoice or tracking update without one; the sandbox answers 400 to an empty body. "
        "(Cancel and the PII list keep their optional bodies.)",
        "both",
        _bodies_required,
    ),
    SpecException(
        "both",
        "every operation: responses",
        "Most operations document only 200 (the invoice, tracking and GET routes no error at all).",
        "VTEX answers 400 (bad body or query), 401, 403 (License Manager), 404 (unknown order or invoice), "
        "409 (workflow status), 415 and 429 with its error envelope {error: {code, message, exception}}; "
        "its guides and known issues describe them. The corrected files document them with that envelope.",
        "both",
        _add_error_responses,
    ),
    SpecException(
        "both",
        "every operation: header parameters Accept and Content-Type",
        "Both are marked required on every operation, Content-Type even on GET, on start-handling "
        "(no body) and where the body is optional (cancel, PII list).",
        "A request without a body has nothing to type, and VTEX answers JSON whatever Accept says. "
        "Content-Type stays required where a body is (the sandbox answers 415 to a body without it).",
        "both",
        _relax_negotiation_headers,
    ),
    SpecException(
        "standard",
        "GET /api/oms/pvt/orders/{orderId} 200: items[].unitMultiplier",
        "Typed integer, while the file's own example (and the PII file) show 1.0.",
        "A unit multiplier is fractional (0.5 kg); VTEX's answers carry 1.0. Typed number.",
        "both",
        _unit_multiplier_is_a_number,
    ),
    SpecException(
        "standard",
        "GET /api/oms/pvt/orders/{orderId} 200: items[].priceDefinitions",
        "The schema names it priceDefinitions; the file's own example and the PII file name it "
        "priceDefinition.",
        "The example is what VTEX answers; the sandbox answers priceDefinition.",
        "both",
        _price_definition_name,
    ),
    SpecException(
        "pii",
        "GET /api/orders/pvt/document/{orderId} 200: items[].productCategories",
        "Declares a PROPERTY named 'additionalProperties' (of type string) instead of the keyword.",
        "The example shows a map of category id to name ({'1004164': 'Trousers'}); the keyword was meant.",
        "both",
        _product_categories_is_a_map,
    ),
    SpecException(
        "standard",
        "POST /api/oms/pvt/orders/{orderId}/invoice: invoiceNumber",
        "Required but nullable: true.",
        "An invoice needs a number (every later route names it); null is refused.",
        "both",
        _invoice_number_not_null,
    ),
    SpecException(
        "standard",
        "POST /api/oms/pvt/orders/{orderId}/invoice: invoiceValue, issuanceDate, dispatchedDate, "
        "invoiceNumber, items[]",
        "Rules stated in the descriptions only: invoiceValue is cents without separator and > 0; "
        "issuanceDate and dispatchedDate need date AND time; quantity > 0; price >= 0.",
        "Written as patterns and bounds, so schemathesis generates values VTEX's prose allows.",
        "conformance",
        _patterns_from_prose,
    ),
    SpecException(
        "pii",
        "POST /api/orders/pvt/document/{orderId}/invoices: type, issuedDate, invoiceValue, items[]",
        "type has no enum (its description lists Output and Input); issuedDate's YYYY-MM-DD, the positive "
        "value and quantity are in the descriptions only.",
        "Written as an enum, a pattern and bounds, for generation.",
        "conformance",
        _pii_patterns_from_prose,
    ),
    SpecException(
        "standard",
        "PATCH/PUT tracking: trackingNumber, dispatchedDate, deliveredDate, events[].date/description",
        "Formats stated in the descriptions only (deliveredDate 'yyyy-mm-dd hh:mm', event date "
        "yyyy-mm-dd, description at most 5000 characters).",
        "Written as patterns and bounds, for generation.",
        "conformance",
        _tracking_patterns_from_prose,
    ),
    SpecException(
        "standard",
        "PATCH /api/oms/pvt/orders/{orderId}/invoice/{invoiceNumber}: required",
        "Requires trackingNumber, trackingUrl, courier and dispatchedDate.",
        "The sandbox takes a partial body (an absent key keeps its value, an explicit null erases it), "
        "so schemathesis must not expect a 4xx for an absent key; the client is still held to the full "
        "list by the contract check.",
        "conformance",
        _patch_takes_partial_bodies,
    ),
    SpecException(
        "standard",
        "POST /api/orders/feed (commit), POST /api/orders/feed/config, POST /api/orders/expressions/jsonata: "
        "requestBody",
        "The request body is not marked required, while its schema requires handles / filter and queue / "
        "Expression and Document.",
        "There is no commit, configuration or test without one; the sandbox answers 400 to an empty body.",
        "both",
        _feed_bodies_required,
    ),
    SpecException(
        "standard",
        "GET /api/orders/feed/config 200: queue.MessageRetentionPeriodInSeconds",
        "The answer's schema spells it with a capital M, as the request does; the file's own example of the "
        "answer (and VTEX's answers quoted in its community) spell it messageRetentionPeriodInSeconds.",
        "The example is what VTEX answers; the sandbox answers the small m.",
        "both",
        _feed_config_answer_spelling,
    ),
    SpecException(
        "standard",
        "GET /api/orders/feed: maxlot",
        "A string whose example is the Postman variable '{{maxLot}}'; the rule (at most 10) is in the "
        "description only.",
        "Written as a pattern (1 to 10) with a real example, so schemathesis reaches the feed's 200.",
        "conformance",
        _maxlot_from_prose,
    ),
    SpecException(
        "standard",
        "POST /api/orders/expressions/jsonata: example",
        'The example is escaped twice: its Expression is status = \\"canceled\\" (backslashes inside the '
        "text), which is not the JSONata meant, and its Document is not JSON.",
        "Escaped once, it is the test the description means (true).",
        "conformance",
        _jsonata_example_escaped_once,
    ),
    SpecException(
        "standard",
        "POST /api/orders/feed/config: filter.type, filter.status, queue timers",
        "Rules stated in the descriptions (and VTEX's help center) only: type is FromWorkflow or FromOrders; "
        "the statuses come from a listed set; the visibility timeout goes up to 43200 s, the retention up "
        "to 1209600 s. The lower bounds are undocumented: the sandbox takes Amazon SQS's (0 and 60 s).",
        "Written as enums and bounds, so schemathesis generates configurations VTEX's prose allows.",
        "conformance",
        _feed_config_rules_from_prose,
    ),
    SpecException(
        "standard",
        "GET .../orders/order-group/{orderGroup}, PUT and GET /api/order-system/orders/changes/settings",
        "The three operations have no operationId.",
        "Named (GetOrdersByOrderGroup, UpdateOrderModificationsSettings, GetOrderModificationsSettings) so "
        "that a test or a generated client can select them like the others.",
        "both",
        _operation_ids,
    ),
    SpecException(
        "standard",
        "PATCH /api/order-system/orders/{changeOrderId}/changes 202: totals",
        "Typed an array of strings, while the history, detail and preview answers type the same totals "
        "as objects {id, name, value} and the preview's example shows objects.",
        "One change request has one shape in every answer; objects, as the other three say.",
        "both",
        _change_totals_are_objects,
    ),
    SpecException(
        "standard",
        "order modifications (changeOrderId, changeRequestId, bodies), order-group, change summary, the "
        "legacy changes route: examples",
        "The examples name orders, SKUs and requests of VTEX's own stores (changeOrderId has none at all).",
        "Fitted to the sandbox's seed (an order in handling, its SKUs, a request the test creates, the seed's "
        "split purchase), so schemathesis reaches each operation's success answer and checks its schema.",
        "conformance",
        _examples_fit_the_seed,
    ),
    SpecException(
        "standard",
        "GET /api/orders/pvt/document/{orderId}/change-summary 200: original[].additionalInfo.offeringTypeId, "
        "original[].priceDefinition.reason",
        "Not nullable, while GET order's schema types the same item fields nullable (and its examples "
        "show null).",
        "The summary's original items are the order's items; the sandbox answers them as GET order does.",
        "both",
        _change_summary_nulls_as_get_order,
    ),
    SpecException(
        "standard",
        "GET /api/oms/user/orders 200: stats (TotalItems1, TotalValue1): Mean, StdDev",
        "Typed integer.",
        "A mean and a standard deviation of integers are fractional (List orders' schema types the same "
        "statistics as numbers); the sandbox answers the same stats on both lists.",
        "both",
        _user_orders_means_are_numbers,
    ),
    SpecException(
        "standard",
        "order modifications' request bodies: shippingData, customData, clientProfileData",
        "Not a mistake of the file: parts of a modification the sandbox does not play (shipping changes, "
        "custom fields, the client's data); it takes and ignores them.",
        "Left out of the conformance schema, so schemathesis does not expect the sandbox to police "
        "contracts it does not implement; the contract check still holds the provider to them.",
        "conformance",
        _unplayed_change_parts_unchecked,
    ),
    SpecException(
        "standard",
        "order modifications (/api/order-system/...): query parameter an (accountName on PATCH)",
        "Marked required.",
        "The account is the host's (https://{accountName}.vtexcommercestable.com.br); vtexpy 0.0.0b47, a "
        "client in production use, reads a modification history without it, so VTEX serves it without one "
        "and the sandbox does too. The contract check still holds the provider to the file (it sends it).",
        "conformance",
        _account_parameter_optional,
    ),
    SpecException(
        "standard",
        "GET /api/oms/user/orders/{orderId} 200: the Userorderdetails schema",
        "An older copy of GET order's schema: the same fields, without the nullable markers GET order's "
        "schema has for them (cancellationData, taxData, marketplace, merchantName, payment url and "
        "dueDate, logistics ids...), so an order VTEX serves with those nulls would violate it.",
        "A user's order is the order, seen by its customer: the sandbox answers it as GET order does, and "
        "the correction checks it against GET order's (corrected) schema. Applied after GET order's "
        "corrections, which it copies.",
        "both",
        _user_order_is_an_order,
    ),
    SpecException(
        "standard",
        "GET /api/oms/pvt/feed/orders/status (Feed v2, deprecated): responses, maxLot",
        "Documents only a 200, with no schema; maxLot's example is the Postman variable '{{maxLot}}'.",
        "VTEX discontinued Feed v1 and v2 on 2019-07-25 (help center announcement of 2019-06-12); the "
        "sandbox answers 410 Gone naming Feed v3 (see vtex_sandbox/views/deprecated.py).",
        "conformance",
        _feed_v2_is_gone,
    ),
    SpecException(
        "standard",
        "POST /api/order-system/orders/{changeOrderId}/changes/preview: required replace",
        "The preview's schema requires replace, while its description says the preview takes the same body "
        "as the PATCH (Create order modifications), whose schema requires only reason, and whose description "
        "documents add-only and remove-only bodies.",
        "A preview of a removal (the stockout case) is a body without replace; the client is held to the "
        "PATCH's rule (reason required).",
        "contract",
        _preview_takes_the_patch_body,
    ),
    SpecException(
        "standard",
        "POST /api/orders/hook/config: hook.headers (components.schemas.Headers)",
        "The schema turns the example into a rule: an object with one required property named 'key'. The "
        "description and VTEX's hook guide say headers is a map of header names to values VTEX sends with "
        "every notification.",
        "A map of names to strings: the order hook's secret header passes; a header named 'key' is not required.",
        "both",
        _hook_headers_are_a_map,
    ),
)


#: Schemathesis checks left out of the conformance test, with the reason.
EXCLUDED_CHECKS: dict[str, str] = {
    "positive_data_acceptance": (
        "A schema-valid body can still be refused by VTEX's own rules the schema cannot express: a SKU "
        "or itemIndex of another order, an invoice above the order value, a quantity above the ordered "
        "one, an unknown order (404). The sandbox's unit tests cover the accepted bodies."
    ),
    "use_after_free": "Stateful (resources created and deleted); the Orders API deletes nothing.",
    "ensure_resource_availability": "Stateful (a created resource must be readable); not applicable.",
    "object_level_authorization": "Needs two users; the sandbox has one key pair.",
}


def spec_available() -> bool:
    return all((SPEC_DIR / name).is_file() for name in SPEC_FILES.values())


def spec_required() -> bool:
    """CI sets ``VTEX_REQUIRE_SPEC=1``: then a missing file fails instead of skipping."""
    return os.environ.get("VTEX_REQUIRE_SPEC", "") == "1"


def require_spec_or_skip() -> None:
    """Skip (locally) or fail (``VTEX_REQUIRE_SPEC=1``) when the files are absent."""
    import pytest

    if spec_available():
        return
    if spec_required():
        pytest.fail(MISSING_SPEC_REASON.replace("spec checks skipped", "VTEX_REQUIRE_SPEC=1 demands them"))
    pytest.skip(MISSING_SPEC_REASON)


@cache
def _raw(architecture: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SPEC_DIR / SPEC_FILES[architecture]).read_text(encoding="utf-8"))
    return data


@cache
def _corrected(architecture: str, check: str) -> dict[str, Any]:
    spec = copy.deepcopy(_raw(architecture))
    for exception in EXCEPTIONS:
        if exception.spec in (architecture, "both") and exception.applies_to in (check, "both"):
            exception.fix(spec)
    return spec


def corrected_spec(architecture: str, check: str) -> dict[str, Any]:
    """The OpenAPI file of ``architecture`` with the corrections for ``check`` applied (a fresh copy)."""
    if architecture not in SPEC_FILES or check not in ("conformance", "contract"):
        raise ValueError(f"unknown architecture {architecture!r} or check {check!r}")
    return copy.deepcopy(_corrected(architecture, check))
