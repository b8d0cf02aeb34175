"""Keeping the AppKey and AppToken out of every message, log line, result and XCom, in every form a
server may echo them.

A server (or a proxy, a gateway's error page, a debugging middleware) may quote the request's headers
back, and not always literally. The forms recognised here, for each secret:

* raw, in any mixture of upper and lower case (a server that upper-cases header values; Airflow's own
  secrets masker matches the exact case only, so it cannot be relied on for these);
* split by white space or line breaks between any two characters (a wrapped line: ``\\n``, ``\\r\\n``,
  spaces, tabs), raw or escaped as below;
* percent-encoded, any subset of characters, upper- or lower-case hex (``urllib.parse.quote`` with or
  without safe characters, ``quote_plus``), and percent-encoded twice (``%252F``);
* JSON-escaped: ``\\/`` for ``/``, ``\\"`` and ``\\\\``, and ``\\uXXXX`` for any character (Go's encoder,
  for one, writes ``<``, ``>`` and ``&`` that way);
* Python-``repr``-escaped (``\\'``, doubled backslashes: a JSON error whose ``message`` is an object
  reaches a message as the ``repr`` of a dict), and escaped more than once;
* HTML-escaped: ``&amp;``, ``&lt;``, ``&gt;``, ``&quot;``, ``&#39;``, and numeric ``&#NN;``/``&#xHH;``
  references (a gateway's HTML error page);
* any mixture of the above within one echo (each character of the secret is matched in any of its
  forms);
* base64 (standard and URL-safe, with or without padding) of each secret and of ``key:token``: the
  form of an HTTP Basic ``Authorization`` header a proxy may build from them and echo.

Two uses: :class:`Scrubber` replaces them at the source, wherever the clients turn an answer into a
result, a message or a request error (:meth:`Scrubber.excerpt` also bounds a quote of an answer);
:func:`secret_forms` lists concrete forms for Airflow's secrets masker, which matches literal strings
only (the mixtures, case changes and splits are caught at the source). Nothing here imports Airflow.
"""

from __future__ import annotations

import base64
import bisect
import html
import json
import re
from itertools import permutations
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

from airflow_provider_vtex.exceptions import BODY_EXCERPT_CHARS, excerpt

if TYPE_CHECKING:
    from collections.abc import Iterable

REDACTED = "***"
_NAMED_ENTITIES = {"&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "(?:#39|apos)"}
#: White space and line breaks that may split an echoed secret: raw, percent-encoded (``%0A``) or an
#: HTML reference (``&#10;``). An echo is also searched for with these taken out (runs of at most
#: :data:`_MAX_GAP` characters, so that a match has a known greatest length, :attr:`Scrubber.reach`).
_WHITE = r"[ \t\r\n\f\v]|%(?:25)?(?:0[9aAdD]|20)|&#0{0,3}(?:9|1[03]|32);|&#[xX]0{0,3}(?:9|[aAdD]|20);"
#: Line breaks escaped by JSON or ``repr`` (once or more: :func:`_escaped_backslashes`), and
#: ``quote_plus``'s ``+``: each tried in a search of its own, since a secret may hold ``\\n`` or ``+``.
_ESCAPED_WHITE = r"\\+[nrtNRT]|\\+[uU]00(?:0[9aAdD]|20)"
#: ``(gap pattern, a character without which the text holds none of its extra units, the escaping level
#: of the line breaks taken out: their own backslashes, 1 for ``\\n``, 2 for ``\\\\n``..., None for any:
#: a secret's own ``\\n`` is told from a line break escaped as often only by trying each)``.
_GAP_UNITS: tuple[tuple[re.Pattern[str], str, int | None], ...] = (
    (re.compile(_WHITE), "", None),
    (re.compile(rf"{_WHITE}|\+"), "+", None),
    *((re.compile(rf"{_WHITE}|{_ESCAPED_WHITE}"), "\\", level) for level in (1, 2, 4, None)),
    (re.compile(rf"{_WHITE}|{_ESCAPED_WHITE}|\+"), "\\", None),
)
_MAX_GAP = 4 * 14
#: Escapes that the quick test (:meth:`Scrubber.may_hold`) decodes before comparing letters and digits.
_ESCAPE = re.compile(
    r"%(?:25)?([0-9a-fA-F]{2})|\\+(?:[uU]([0-9a-fA-F]{4})|[nrtfvNRTFV])"
    r"|&(?:#0*([0-9]{1,7})|#[xX]0*([0-9a-fA-F]{1,6})|amp|lt|gt|quot|apos);"
)
#: How many escapings deep the quick test looks (JSON inside percent-encoding inside HTML...).
_MAX_ESCAPE_LEVELS = 4
#: Deletes every ASCII character but letters and digits (``str.translate``: far faster than a regex).
_NOT_ALNUM = {code: None for code in range(128) if not chr(code).isalnum()}
#: Letters and digits of an echo that a neighbouring escape may swallow (``%7`` before ``ab...``), left
#: out of the quick test at the start and the end of a secret.
_EDGE_START, _EDGE_END = 4, 2
#: The fewest letters and digits the quick test compares; a secret with fewer is always scrubbed in full.
_QUICK_MIN = 4


def _decoded(match: re.Match[str]) -> str:
    hex_code = match.group(1) or match.group(2) or match.group(4)
    code = int(hex_code, 16) if hex_code else int(match.group(3)) if match.group(3) else None
    return chr(code) if code is not None and code <= 0x10FFFF else ""


def _letters_and_digits(text: str) -> str:
    """``text`` with its escapes decoded, lower-cased, and everything but letters and digits dropped:
    what every form of a secret listed above has in common with the secret itself. Escapes are decoded
    until none is left (at most ``_MAX_ESCAPE_LEVELS`` passes), since one escaping may hide another: a
    JSON ``\\r`` percent-encoded is ``%5Cr``, whose first pass leaves ``\\r``, an escape again."""
    decoded = text
    for _ in range(_MAX_ESCAPE_LEVELS):
        if not ("%" in decoded or "\\" in decoded or "&" in decoded):
            break
        decoded, found = _ESCAPE.subn(_decoded, decoded)
        if not found:
            break
    return decoded.lower().encode("ascii", "ignore").decode("ascii").translate(_NOT_ALNUM)


#: The longest text one character of a secret (``\\\\\\\\\\\\\\\\u0041``), with the gap after it, may become here.
_MAX_CHAR_FORM = 14 + 4 * 9


def _hex(number: int, width: int) -> str:
    """``number`` as hex digits of either case, as a regex (``2F`` -> ``2[fF]``)."""
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in f"{number:0{width}x}")


def _char_pattern(char: str) -> str:
    """Every form one character of a secret may take in an echo, in either case for a letter."""
    code = ord(char)
    if char.isascii() and char.isalpha():
        # Upper and lower case differ by 0x20: one hex digit 4/6 (or 5/7) apart, the other the same.
        lower, upper = ord(char.lower()), ord(char.upper())
        high, low = f"[{upper >> 4}{lower >> 4}]", _hex(lower & 0xF, 1)
        return (
            f"(?:%(?:25)?{high}{low}|\\\\{{1,8}}u00{high}{low}|&#0{{0,3}}(?:{upper}|{lower});"
            f"|&#[xX]0{{0,3}}{high}{low};|[{char.lower()}{char.upper()}])"
        )
    forms = [
        f"%(?:25)?{_hex(code, 2)}",  # percent-encoded, once or twice
        rf"\\{{1,8}}u{_hex(code, 4)}",  # JSON \uXXXX (escaped again: \\uXXXX)
        f"&#0{{0,3}}{code};",  # HTML decimal reference
        f"&#[xX]0{{0,3}}{_hex(code, 1 if code < 16 else 2)};",  # HTML hex reference
    ]
    if char in "/\"'\\":
        forms.append(rf"\\{{1,8}}{re.escape(char)}")  # JSON's \/ \" \\, repr's \' and \\, escaped again
    if char in _NAMED_ENTITIES:
        forms.append(f"&{_NAMED_ENTITIES[char]};")
    # The character itself last: alternatives are tried in order, and at the end of a secret the first
    # that fits wins, so '%' must not stop short of its '%25'.
    forms.append(re.escape(char))
    return f"(?:{'|'.join(forms)})"


def _secret_pattern(secret: str) -> str:
    """A secret in any of its forms (white space between its characters is :data:`_GAP_RUN`'s)."""
    return "".join(_char_pattern(c) for c in secret)


def _escaped_backslashes(gap: str) -> int:
    """How many of the backslashes a gap starts with are escaped backslashes, not its own.

    An escaped line break is one backslash and ``n`` in JSON or ``repr``, two when escaped again, and
    so on, while a backslash of the secret itself is two, four...: so of ``m`` backslashes before the
    ``n``, the line break's own are the lowest power of two that divides ``m`` (``m & -m``)."""
    count = len(gap) - len(gap.lstrip("\\"))
    return count - (count & -count) if count else 0


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


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
    """Replaces the connection's secrets, in any of the forms above, wherever a message, a result or an
    XCom quotes VTEX's answer or a request error."""

    def __init__(self, secrets: Iterable[str]) -> None:
        values = tuple(sorted((s for s in secrets if s), key=len, reverse=True))
        self.secrets = values
        literal = sorted({form for form in secret_forms(values) if form not in values}, key=len, reverse=True)
        alternatives = [_secret_pattern(secret) for secret in values]
        alternatives += [re.escape(form) for form in literal]
        self._pattern = re.compile("|".join(alternatives)) if alternatives else None
        self._base64 = tuple(sorted(f for secret in values for f in _base64_forms(secret))) + tuple(
            sorted(f for a, b in permutations(values, 2) for f in _base64_forms(f"{a}:{b}"))
        )
        cores = [_letters_and_digits(secret)[_EDGE_START:-_EDGE_END] for secret in values]
        #: None: some secret is too short for the quick test, so every text is scrubbed in full.
        self._cores = tuple(cores) if all(len(core) >= _QUICK_MIN for core in cores) else None
        #: The longest text one echo of a secret may span here: how far past a cut a match may reach.
        self.reach = max(
            [len(secret) * _MAX_CHAR_FORM for secret in values] + [len(form) for form in literal], default=0
        )

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._redact(text, self._spans(text))

    def _spans(self, text: str) -> list[tuple[int, int]]:
        """Where ``text`` holds a secret in some form, whole or split by short runs of white space."""
        assert self._pattern is not None
        spans = [match.span() for match in self._pattern.finditer(text)]
        for gaps, needs, level in _GAP_UNITS:
            if needs in text:
                spans += self._split_spans(text, gaps, level)
        return _merged(spans)

    def _split_spans(self, text: str, gaps: re.Pattern[str], level: int | None) -> list[tuple[int, int]]:
        """The search over ``text`` with its short runs of ``gaps`` taken out, each match mapped back.

        Each run is taken out unit by unit, so that an escaped line break's own backslashes are told from
        a secret's (:func:`_escaped_backslashes`) wherever it stands in a run."""
        assert self._pattern is not None
        starts, joined_starts, pieces, position, length = [], [], [], 0, 0
        run_end, run_length = -1, 0
        for gap in gaps.finditer(text):
            escaped = _escaped_backslashes(gap.group())
            own = len(gap.group()) - len(gap.group().lstrip("\\")) - escaped
            if level is not None and own and own != level:
                continue
            start = gap.start() + escaped
            run_length = (run_length if gap.start() == run_end else 0) + gap.end() - start
            run_end = gap.end()
            if run_length > _MAX_GAP:  # a long run of white space: not within one echo
                continue
            starts.append(position)
            joined_starts.append(length)
            pieces.append(text[position:start])
            length += start - position
            position = gap.end()
        if not pieces:
            return []
        starts.append(position)
        joined_starts.append(length)
        pieces.append(text[position:])

        def where(index: int) -> int:
            piece = bisect.bisect_right(joined_starts, index) - 1
            return starts[piece] + index - joined_starts[piece]

        return [
            (where(match.start()), where(match.end() - 1) + 1)
            for match in self._pattern.finditer("".join(pieces))
        ]

    @staticmethod
    def _redact(text: str, spans: list[tuple[int, int]]) -> str:
        pieces, position = [], 0
        for start, end in spans:
            pieces += [text[position:start], REDACTED]
            position = end
        pieces.append(text[position:])
        return "".join(pieces)

    def excerpt(self, text: str, limit: int = BODY_EXCERPT_CHARS) -> str:
        """A bounded, one-line quote of ``text`` with the secrets scrubbed, whatever its size.

        Scrubbing a whole body (megabytes, from a broken gateway) only to quote its start would cost
        time for nothing, and cutting before scrubbing could cut an echo in two and let its first half
        through. So only the start is scrubbed, and the quote ends before any echo the cut could have
        split (one that starts within :attr:`reach` of the cut).
        """
        flat = " ".join(text.split())
        if self._pattern is None or len(flat) <= limit + 2 * self.reach:
            return excerpt(self(flat), limit)
        end = limit + self.reach  # every echo starting before here ends before limit + 2 * reach
        head = flat[: limit + 2 * self.reach]
        spans = [(start, stop) for start, stop in self._spans(head) if start < end]
        cut = max([end, *(stop for _, stop in spans)])
        return excerpt(self._redact(head[:cut], spans) + " …", limit)

    def may_hold(self, text: str) -> bool:
        """A quick test, a few times faster than scrubbing: False only when ``text`` holds no form of any
        secret. Used on successful answers, which are large and almost never hold one."""
        if self._pattern is None:
            return False
        if self._cores is None:
            return True
        if any(form in text for form in self._base64):
            return True
        letters = _letters_and_digits(text)
        return any(core in letters for core in self._cores)

    def value(self, value: Any, *, raw: str | None = None) -> Any:
        """``value`` (a JSON answer: dicts, lists, strings, numbers) with every string scrubbed, keys
        included: what a result or an XCom may hold of VTEX's answer. With ``raw`` (the text ``value``
        was parsed from), nothing is walked unless :meth:`may_hold` says the text may hold a secret."""
        if self._pattern is None or (raw is not None and not self.may_hold(raw)):
            return value
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {self.value(key): self.value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        return value
