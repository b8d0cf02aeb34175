"""Checks shared by every route's contract: JSON types as VTEX means them."""

from __future__ import annotations

from typing import TypeGuard


def is_int(value: object) -> TypeGuard[int]:
    """A JSON integer (``true``/``false`` are not numbers, whatever Python thinks)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_text(value: object) -> bool:
    """A string with something in it besides blanks."""
    return isinstance(value, str) and value.strip() != ""
