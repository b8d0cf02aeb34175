"""What every request body model shares: camelCase on the wire, unknown keys refused, errors that name
the field and the fix, and parsing from whatever a DAG hands over (model, dict, JSON text).

Why our own contract instead of sending whatever the DAG built: VTEX answers many mistakes with a 200
and breaks later (an invoice number with a space breaks every tracking update; ``"24.99"`` is read as
2,499 reais), so each rule fails early, before any request, naming the field.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from airflow_provider_vtex.exceptions import MAX_PROBLEMS_SHOWN, VtexPayloadError
from airflow_provider_vtex.models.types import (
    MAX_PAYLOAD_CHARS,
    SHOWN_KEY_CHARS,
    DuplicateKeyError,
    TooDeepError,
    loads_json,
    too_deep,
)

PayloadT = TypeVar("PayloadT", bound="VtexPayload")


class VtexPayload(BaseModel):
    """Base of every request body: camelCase on the wire (snake_case accepted), unknown keys refused."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        extra="forbid",
    )

    #: Human name used in error messages ("invoice", "tracking"...).
    payload_name: ClassVar[str] = "payload"
    #: What to tell a user who left out a required field, by wire name.
    required_hints: ClassVar[dict[str, str]] = {}
    #: Keys that belong to another VTEX route's contract, with the message that says where they belong.
    foreign_keys: ClassVar[dict[str, str]] = {}

    @classmethod
    def parse(cls: type[PayloadT], value: Any) -> PayloadT:
        """Build the model from an instance of it, a mapping or a JSON object string.

        Raises :class:`VtexPayloadError` listing every problem with its field path.
        """
        if isinstance(value, cls):
            return value
        data = as_mapping(value, cls.payload_name, cls.__name__)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise VtexPayloadError(cls.payload_name, describe(exc, cls)) from None

    def to_wire(self) -> dict[str, Any]:
        """The JSON body VTEX receives: camelCase keys, only the fields the author set."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude_none=True)


def as_mapping(value: Any, what: str, model_name: str) -> Mapping[str, Any]:
    """A payload given as a mapping, a JSON object text or another model, as a mapping."""
    if isinstance(value, bytes | bytearray):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str) and len(value) > MAX_PAYLOAD_CHARS:
        raise VtexPayloadError(
            what,
            [
                (
                    "(payload)",
                    f"is {len(value):,} characters of JSON, more than any VTEX payload needs (at most "
                    f"{MAX_PAYLOAD_CHARS:,}): check what produced it; send large documents by URL "
                    "(invoiceUrl), not embedded",
                )
            ],
        )
    if isinstance(value, str):
        try:
            # NaN/Infinity become floats here, so the field that holds one is named by its own rule.
            value = loads_json(value)
        except DuplicateKeyError as exc:
            raise VtexPayloadError(what, [(exc.key, str(exc))]) from None
        except TooDeepError as exc:
            raise VtexPayloadError(what, [(exc.path, str(exc))]) from None
        except json.JSONDecodeError as exc:
            reason = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
            raise VtexPayloadError(
                what,
                [("(payload)", f"is a string but not valid JSON ({reason}); pass a dict or a JSON object")],
            ) from None
    if isinstance(value, BaseModel):
        value = value.model_dump(by_alias=True, exclude_unset=True)
    path = too_deep(value) if isinstance(value, Mapping) else None
    if path is not None:
        raise VtexPayloadError(what, [(path, str(TooDeepError(path)))])
    if not isinstance(value, Mapping):
        raise VtexPayloadError(
            what,
            [
                (
                    "(payload)",
                    f"must be a dict, a JSON object string or a {model_name} instance; got {type(value).__name__}",
                )
            ],
        )
    return value


def describe(exc: ValidationError, model: type[VtexPayload]) -> list[tuple[str, str]]:
    """Turn pydantic's errors into ``(field path, message that says the fix)`` pairs."""
    problems: list[tuple[str, str]] = []
    for index, error in enumerate(exc.errors(include_url=False)):
        loc = [str(part) for part in error["loc"]]
        # A key is named by its start when long (a 10 MB unknown key must not make a 10 MB message).
        field = (
            ".".join(p if len(p) <= SHOWN_KEY_CHARS else f"{p[:SHOWN_KEY_CHARS]}…" for p in loc)
            or "(payload)"
        )
        kind = error["type"]
        if index >= MAX_PROBLEMS_SHOWN:  # counted, not shown: no need to word it (nor to guess a key)
            problems.append((field, kind))
            continue
        holder = _model_at(model, loc)
        if kind == "missing":
            message = "is required; " + holder.required_hints.get(loc[-1], "add it to the payload")
        elif kind == "extra_forbidden":
            message = holder.foreign_keys.get(loc[-1]) or _unknown_key(loc[-1], holder)
        elif kind in ("value_error", "assertion_error"):
            message = str(error["ctx"]["error"]) if "ctx" in error else error["msg"]
        else:
            message = f"{error['msg'][:1].lower()}{error['msg'][1:]}; got {_shown(error.get('input'))}"
        problems.append((field, message))
    return problems


def _unknown_key(key: str, holder: type[VtexPayload]) -> str:
    known = [field.alias or name for name, field in holder.model_fields.items()]
    # No field name is longer than 40 characters: a longer key resembles none (and comparing a 10 MB key
    # would take seconds).
    guess = difflib.get_close_matches(key, known, n=1) if len(key) <= 100 else []
    hint = f"did you mean '{guess[0]}'?" if guess else "allowed: " + ", ".join(sorted(known))
    return f"is not a field VTEX accepts here; {hint}"


def _shown(value: Any) -> str:
    """A value for an error message: short, and NaN/Infinity named as such."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} (not a number VTEX accepts)"
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _model_at(model: type[VtexPayload], loc: list[str]) -> type[VtexPayload]:
    """The (possibly nested) model that holds the field at ``loc``, e.g. InvoiceItem for items.0.price."""
    current = model
    for part in loc[:-1]:
        if part.isdigit():
            continue
        field = next((f for name, f in current.model_fields.items() if part in (name, f.alias)), None)
        nested = nested_model(field.annotation) if field else None
        if nested is None:
            break
        current = nested
    return current


def nested_model(annotation: Any) -> type[VtexPayload] | None:
    """The payload model inside an annotation such as ``list[InvoiceItem]`` or ``InvoiceItem | None``."""
    if isinstance(annotation, type) and issubclass(annotation, VtexPayload):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        nested = nested_model(arg)
        if nested is not None:
            return nested
    return None
