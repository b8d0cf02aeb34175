"""Keeping the AppKey and AppToken out of every message, in every form a server may echo them.

A server (or a proxy, a gateway's error page, a debugging middleware) may quote the request's headers
back, and not always literally. The forms recognised here, for each secret:

* raw;
* percent-encoded, any subset of characters, upper- or lower-case hex (``urllib.parse.quote`` with or
  without safe characters, ``quote_plus``), and percent-encoded twice (``%252F``);
* JSON-escaped: ``\\/`` for ``/``, ``\\"`` and ``\\\\``, and ``\\uXXXX`` for any character (Go's encoder,
  for one, writes ``<``, ``>`` and ``&`` that way);
* HTML-escaped: ``&amp;``, ``&lt;``, ``&gt;``, ``&quot;``, ``&#39;``, and numeric ``&#NN;``/``&#xHH;``
  references (a gateway's HTML error page);
* any mixture of the above within one echo (each character of the secret is matched in any of its
  forms);
* base64 (standard and URL-safe, with or without padding) of each secret and of ``key:token``: the
  form of an HTTP Basic ``Authorization`` header a proxy may build from them and echo.

Two uses: :class:`Scrubber` replaces them at the source, wherever the clients quote an answer or a
request error; :func:`secret_forms` lists concrete forms for Airflow's secrets masker, which matches
literal strings only (the mixtures are caught at the source). Nothing here imports Airflow.
"""

from __future__ import annotations

import base64
import html
import json
import re
from itertools import permutations
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus

if TYPE_CHECKING:
    from collections.abc import Iterable

REDACTED = "***"
_NAMED_ENTITIES = {"&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "(?:#39|apos)"}


def _hex(number: int, width: int) -> str:
    """``number`` as hex digits of either case, as a regex (``2F`` -> ``2[fF]``)."""
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in f"{number:0{width}x}")


def _char_pattern(char: str) -> str:
    """Every form one character of a secret may take in an echo."""
    code = ord(char)
    forms = [
        f"%(?:25)?{_hex(code, 2)}",  # percent-encoded, once or twice
        rf"\\u{_hex(code, 4)}",  # JSON \uXXXX
        f"&#0*{code};",  # HTML decimal reference
        f"&#[xX]0*{_hex(code, 1 if code < 16 else 2)};",  # HTML hex reference
    ]
    if char in '/"\\':
        forms.append(re.escape("\\" + char))  # JSON's \/ \" \\
    if char in _NAMED_ENTITIES:
        forms.append(f"&{_NAMED_ENTITIES[char]};")
    # The character itself last: alternatives are tried in order, and at the end of a secret the first
    # that fits wins, so '%' must not stop short of its '%25'.
    forms.append(re.escape(char))
    return f"(?:{'|'.join(forms)})"


def _base64_forms(value: str) -> set[str]:
    raw = value.encode()
    forms = set()
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        forms.add(encoded)
        forms.add(encoded.rstrip("="))
    return forms


def secret_forms(secrets: Iterable[str]) -> set[str]:
    """Concrete encodings of each secret (and base64 of ``a:b`` for each ordered pair), for a masker
    that matches literal strings: raw, ``quote`` (no safe characters, and the default ``/``),
    ``quote_plus``, ``json.dumps`` without quotes (also with ``\\/``, and all-``\\uXXXX``), HTML-escaped, base64."""
    values = [s for s in secrets if s]
    forms: set[str] = set()
    for secret in values:
        json_text = json.dumps(secret)[1:-1]
        forms |= {
            secret,
            quote(secret, safe=""),
            quote(secret),
            quote_plus(secret),
            quote_plus(secret, safe="/"),
            json_text,
            json_text.replace("/", "\\/"),
            "".join(f"\\u{ord(c):04x}" for c in secret),
            html.escape(secret),
            *_base64_forms(secret),
        }
    for first, second in permutations(values, 2):
        forms |= _base64_forms(f"{first}:{second}")
    return {form for form in forms if form}


class Scrubber:
    """Replaces the connection's secrets, in any of the forms above, wherever a message quotes VTEX's
    answer or a request error."""

    def __init__(self, secrets: Iterable[str]) -> None:
        values = tuple(sorted((s for s in secrets if s), key=len, reverse=True))
        self.secrets = values
        literal = sorted({form for form in secret_forms(values) if form not in values}, key=len, reverse=True)
        alternatives = ["".join(_char_pattern(c) for c in secret) for secret in values]
        alternatives += [re.escape(form) for form in literal]
        self._pattern = re.compile("|".join(alternatives)) if alternatives else None

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(REDACTED, text)
