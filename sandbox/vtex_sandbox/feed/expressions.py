"""JSONata, for FromOrders filters and VTEX's "Test JSONata expression" route.

Why a library: JSONata is a whole language (paths, predicates, functions, lambdas); VTEX evaluates the
filter expressions of its feed with a real JSONata engine, so a hand-written subset would accept what
VTEX refuses and the other way round. ``jsonata-python`` is a pure-Python port of the reference engine
(through jsonata-java), Apache-2.0, without dependencies. It is optional -- the ``sandbox`` extra --
and imported on first use only, so the rest of the sandbox works (and imports cheaply) without it;
a FromOrders filter then answers a 400 that names the extra to install.
"""

from __future__ import annotations

import sys
from typing import Any

from vtex_sandbox.errors import SandboxError, bad_request

INSTALL_HINT = "pip install 'vtex-sandbox[jsonata]' (it brings jsonata-python)"
#: How long one evaluation may run: an order's filter takes well under a millisecond; an endless
#: recursion must not hold the feed's lock (the engine turns tail recursion into an endless loop).
EVALUATION_TIMEOUT_MS = 1000
#: What evaluating a user's expression may raise besides the engine's own errors: a runaway recursion,
#: or a value the engine cannot handle.
_EVALUATION_ERRORS: tuple[type[Exception], ...] = (RecursionError, ArithmeticError, TypeError, ValueError)


def _engine(where: str) -> Any:
    # jsonata-python raises the interpreter's recursion limit to 10000 when it is first imported, for the
    # whole process (the user's test run included); the sandbox puts it back. A runaway recursive
    # expression then fails sooner, as a 400.
    limit = sys.getrecursionlimit()
    try:
        import jsonata
    except ImportError:
        raise bad_request(
            f"{where}: the sandbox evaluates JSONata expressions with the optional package jsonata-python, "
            f"which is not installed. Install the sandbox extra: {INSTALL_HINT}"
        ) from None
    finally:
        sys.setrecursionlimit(limit)
    return jsonata


class Expression:
    """A JSONata expression, checked when it was made. Thread-safe: :meth:`matches` evaluates a fresh
    instance each time (about 0.2 ms), because the engine keeps an evaluation's input and its runaway
    timer in the instance, and counts that timer from when the instance was made."""

    def __init__(self, text: str, engine: Any) -> None:
        self.text = text
        self._engine = engine

    def matches(self, document: Any, where: str, *, of_an_order: bool = True) -> bool:
        """The expression's value on ``document`` as a boolean, by JSONata's own casting rules (``$boolean``:
        an empty string, 0, an empty array or object, and "no value" are false).

        Raises ``SandboxError`` (400) when the engine cannot evaluate it on this document, or gives up
        after :data:`EVALUATION_TIMEOUT_MS` (an endless recursion, a huge range).
        """
        try:
            value = self._engine.Jsonata(self.text, timeout=EVALUATION_TIMEOUT_MS).evaluate(document)
        except (self._engine.JException, *_EVALUATION_ERRORS) as exc:
            raise _cannot_evaluate(where, self.text, exc, of_an_order) from None
        return bool(self._engine.Functions.to_boolean(value))


def compile_expression(text: Any, where: str) -> Expression:
    """Check that ``text`` is JSONata; a 400 naming ``where`` when it is not text or not JSONata."""
    if not isinstance(text, str) or not text.strip():
        raise bad_request(f"{where} must be a non-empty JSONata expression (a string), e.g. 'value > 100'")
    engine = _engine(where)
    try:
        engine.Jsonata(text)
    except (engine.JException, *_EVALUATION_ERRORS) as exc:
        raise bad_request(
            f"{where} is not a valid JSONata expression: {_describe(exc)} -- in {text!r}"
        ) from None
    return Expression(text, engine)


def _cannot_evaluate(where: str, text: str, exc: Exception, of_an_order: bool) -> SandboxError:
    if not of_an_order:
        return bad_request(
            f"{where}: the JSONata expression {text!r} cannot be evaluated on the Document: {_describe(exc)}"
        )
    return bad_request(
        f"{where}: the JSONata expression {text!r} cannot be evaluated on an order: {_describe(exc)}. "
        "JSONata functions start with $ (e.g. $not(...), $count(items)); the fields are those of the order "
        "as GET order shows it (status, value, items...)"
    )


def _describe(exc: Exception) -> str:
    code = getattr(exc, "error", None)
    position = getattr(exc, "location", None)
    detail = str(exc) or type(exc).__name__
    if isinstance(code, str) and isinstance(position, int) and position >= 0:
        return f"{detail} (JSONata error {code} at character {position})"
    if isinstance(code, str):
        return f"{detail} (JSONata error {code})"
    return detail
