"""Input guards for what arrives over RPC: use them in every service's schemas and argument checks.

An RPC input reaches a database that has opinions: PostgreSQL cannot store NUL in text, a BIGINT
column stops at 2**63-1 (SQLite raises ``OverflowError`` past it), a ``Numeric(12, 2)`` column
has 12 digits, and ``Decimal.quantize`` raises ``decimal.InvalidOperation`` past 28 digits. People
type numbers with a Chinese input method in full-width digits (``１３０９８３…``): stored as typed,
the same resident ID would be two people. These guards turn all of that into ``InvalidInput``
naming the field, before anything is written, the same on PostgreSQL and SQLite.

marshmallow fields (use them instead of ``fields.String`` / ``Integer`` / ``Decimal`` / ``Date``):

* ``Text(max_length=..., min_length=0, multiline=False)``: stripped; control characters (NUL,
  ``\\x07``..., lone surrogates; tab and newlines only when ``multiline``) refused; length bounded.
* ``Code(...)``: a ``Text`` that is NFKC-normalised first (full-width digits and letters to ASCII),
  optionally upper-cased: resident IDs, phone numbers, codes that must compare equal.
* ``Id()``: a positive whole number that fits a BIGINT (1 to 2**63-1).
* ``Integer(minimum, maximum)``: a whole number in range (2.5 is refused, not truncated).
* ``Decimal(max_digits, places)``: fits a ``Numeric(max_digits, places)`` column: NaN and
  Infinity refused, at most ``places`` decimal places (never rounded) and ``max_digits - places``
  digits before the point, checked on the digits (no ``quantize``, no ``InvalidOperation``).
* ``Date()``: ISO ``YYYY-MM-DD`` (full-width digits accepted), or a ``date``.

Plain guards for RPC arguments that are not a schema (each raises ``InvalidInput({field: [...]})``
and returns the clean value): ``positive_id``, ``whole_number``, ``text``, ``optional_text``,
``choice``, ``flag``, ``a_date``; ``normalise_digits`` and ``control_characters`` underneath.

A new service gets these checks for free by building its schemas from these fields; the shared
input fuzz suite (``tests/contracts/test_rpc_inputs.py``) checks every RPC of every registered
service against the inputs above.
"""
from __future__ import annotations

import math
import unicodedata
from datetime import date, datetime
from decimal import Decimal as _Decimal

from marshmallow import fields

from shared.errors import InvalidInput

MAX_ID = 2 ** 63 - 1           # BIGINT; SQLite's INTEGER is 64-bit signed too
DEFAULT_MAX_TEXT = 1000
_LINE_BREAKS = "\t\n\r"


# -- text ---------------------------------------------------------------------------------------

def normalise_digits(value: str) -> str:
    """``value`` in NFKC, with every other Unicode decimal digit (Arabic-Indic, Devanagari...)
    made ASCII: ``"１３８-１２３４"`` -> ``"138-1234"``. Apply it to identifiers, phone numbers,
    dates and numbers, not to names (NFKC would also rewrite full-width punctuation in them)."""
    text = unicodedata.normalize("NFKC", value)
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(c)) if not c.isascii() and c.isdecimal() else c
                   for c in text)


def control_characters(value: str, multiline: bool = False) -> list[str]:
    """The control characters of ``value`` as ``U+XXXX`` (empty when there are none): C0/C1
    controls (NUL included), lone surrogates and the noncharacters U+FFFE/U+FFFF; tab, newline and
    carriage return are allowed when ``multiline``."""
    found = []
    for c in value:
        if c.isprintable() or c == " ":
            continue
        if multiline and c in _LINE_BREAKS:
            continue
        category = unicodedata.category(c)
        if category in ("Cc", "Cs") or c in "\ufffe\uffff":
            code = f"U+{ord(c):04X}"
            if code not in found:
                found.append(code)
    return found


def _control_reason(found):
    return f"must not contain control characters (found {', '.join(found[:3])})"


def text(value, field, max_length=DEFAULT_MAX_TEXT, min_length=1, multiline=False,
         normalise=False) -> str:
    """A required string argument: stripped, ``min_length`` to ``max_length`` characters, no
    control characters; NFKC-normalised when ``normalise``."""
    if not isinstance(value, str):
        raise InvalidInput({field: ["must be text"]})
    found = control_characters(value, multiline)
    if found:
        raise InvalidInput({field: [_control_reason(found)]})
    value = (normalise_digits(value) if normalise else value).strip()
    if len(value) < min_length:
        raise InvalidInput({field: ["is required" if min_length == 1 and not value else
                                    f"must be at least {min_length} characters"]})
    if len(value) > max_length:
        raise InvalidInput({field: [f"must be at most {max_length} characters"]})
    return value


def optional_text(value, field, max_length=DEFAULT_MAX_TEXT, multiline=False) -> str | None:
    """``text`` that may be None or blank (both give None)."""
    if value is None:
        return None
    cleaned = text(value, field, max_length, min_length=0, multiline=multiline)
    return cleaned or None


def choice(value, field, choices) -> str:
    """One of ``choices`` (strings)."""
    if not isinstance(value, str) or value not in choices:
        raise InvalidInput({field: [f"must be one of {', '.join(map(str, choices))}"]})
    return value


# -- numbers ------------------------------------------------------------------------------------

def whole_number(value, field, minimum=None, maximum=MAX_ID) -> int:
    """An ``int`` (not a bool, not a float, not a string) within ``minimum``..``maximum``."""
    low = -MAX_ID - 1 if minimum is None else minimum
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= maximum:
        if minimum is None:
            reason = f"must be a whole number up to {maximum}"
        else:
            reason = f"must be a whole number from {minimum} to {maximum}"
        raise InvalidInput({field: [reason]})
    return value


def positive_id(value, field) -> int:
    """An id: a whole number from 1 to 2**63-1."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise InvalidInput({field: ["must be a positive whole number (an id)"]})
    return value


def flag(value, field) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput({field: ["must be true or false"]})
    return value


def decimal_problem(value: _Decimal, max_digits: int, places: int) -> str | None:
    """Why ``value`` does not fit a ``Numeric(max_digits, places)`` column (None: it does).
    Never raises: works on the digits, not with context arithmetic."""
    if not value.is_finite():
        return "must be a finite number"
    sign, digits, exponent = value.as_tuple()
    digits = list(digits)
    while exponent < -places and len(digits) > 1 and digits[-1] == 0:
        digits.pop()
        exponent += 1
    if exponent < -places and any(digits):
        return f"at most {places} decimal places"
    whole = len(digits) + exponent if any(digits) else 0
    if whole > max_digits - places:
        return f"at most {max_digits - places} digits before the decimal point"
    return None


# -- dates --------------------------------------------------------------------------------------

def parse_date(value) -> date | None:
    """A ``date`` from a ``date`` or an ISO ``YYYY-MM-DD`` string (full-width digits accepted);
    None when it is neither."""
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or len(value) > 40 or control_characters(value):
        return None
    cleaned = normalise_digits(value).strip()
    if len(cleaned) != 10 or cleaned[4] != "-" or cleaned[7] != "-":
        return None
    try:
        return date.fromisoformat(cleaned)
    except ValueError:
        return None


def a_date(value, field) -> date:
    found = parse_date(value)
    if found is None:
        raise InvalidInput({field: ["must be a date like 2026-11-26"]})
    return found


# -- marshmallow fields -------------------------------------------------------------------------

class Text(fields.String):
    """A string: control characters refused, surrounding whitespace removed, length bounded."""

    default_error_messages = {
        "control": "must not contain control characters (found {found})",
        "too_short": "must be at least {min} characters",
        "too_long": "must be at most {max} characters",
    }

    def __init__(self, *args, max_length=None, min_length=None, multiline=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_length = max_length
        self.min_length = min_length
        self.multiline = multiline

    def _clean(self, value: str) -> str:
        return value

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        found = control_characters(value, self.multiline)
        if found:
            raise self.make_error("control", found=", ".join(found[:3]))
        value = self._clean(value).strip()
        if self.min_length is not None and len(value) < self.min_length:
            raise self.make_error("too_short", min=self.min_length)
        if self.max_length is not None and len(value) > self.max_length:
            raise self.make_error("too_long", max=self.max_length)
        return value


class Code(Text):
    """A ``Text`` compared as typed: NFKC-normalised (full-width digits and letters to ASCII)
    and, with ``upper=True``, upper-cased. For resident IDs, phone numbers, codes."""

    def __init__(self, *args, upper=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.upper = upper

    def _clean(self, value):
        value = normalise_digits(value)
        return value.upper() if self.upper else value


class Integer(fields.Integer):
    """A whole number from ``minimum`` to ``maximum`` (default: anything a BIGINT holds);
    2.5 is refused instead of truncated, full-width digit strings are read as digits."""

    default_error_messages = {"range": "must be a whole number from {min} to {max}"}

    def __init__(self, *args, minimum=-MAX_ID - 1, maximum=MAX_ID, **kwargs):
        super().__init__(*args, **kwargs)
        self.minimum, self.maximum = minimum, maximum

    def _validated(self, value):
        if isinstance(value, (float, _Decimal)) and not (
                (value.is_finite() if isinstance(value, _Decimal) else math.isfinite(value))
                and value == int(value)):
            raise self.make_error("invalid", input=value)
        if isinstance(value, str):
            if len(value) > 40:
                raise self.make_error("invalid", input=value)
            value = normalise_digits(value)
        number = super()._validated(value)
        if not self.minimum <= number <= self.maximum:
            raise self.make_error("range", min=self.minimum, max=self.maximum)
        return number


class Id(Integer):
    """An id: a whole number from 1 to 2**63-1."""

    default_error_messages = {"range": "must be a positive id"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, minimum=1, maximum=MAX_ID, **kwargs)


class Decimal(fields.Decimal):
    """A number for a ``Numeric(max_digits, places)`` column, refused (never rounded) when it
    does not fit; bound it further with ``validate=validate.Range(...)``."""

    default_error_messages = {"fit": "{reason}"}

    def __init__(self, max_digits, places, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_digits, self.decimal_places = max_digits, places

    def _validated(self, value):
        if isinstance(value, str):
            if len(value) > 60:
                raise self.make_error("invalid")
            value = normalise_digits(value).strip()
        if isinstance(value, float) and not math.isfinite(value):
            raise self.make_error("special")
        number = super()._validated(value)
        problem = decimal_problem(number, self.max_digits, self.decimal_places)
        if problem:
            raise self.make_error("fit", reason=problem)
        return number


class Date(fields.Date):
    """An ISO date ``YYYY-MM-DD`` (full-width digits accepted) or a ``date``."""

    def _deserialize(self, value, attr, data, **kwargs):
        found = parse_date(value)
        if found is None:
            raise self.make_error("invalid")
        return found
