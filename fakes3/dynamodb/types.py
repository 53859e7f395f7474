"""DynamoDB attribute values: validation, normalization, size, ordering and equality.

Values are DynamoDB's wire dicts (``{"S": "x"}``, ``{"N": "1.5"}``, ``{"B": b"..."}`` with the
bytes already base64-decoded, ``{"M": {...}}``, ``{"SS": [...]}``, ...). Nothing here mutates its
input: validation returns new, normalized values (numbers as DynamoDB returns them).
"""

from __future__ import annotations

import base64
import decimal
import functools
import re
from collections.abc import Iterable
from typing import Any

from fakes3.dynamodb.errors import validation

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

TYPES = ("S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS")
SCALAR_TYPES = ("S", "N", "B")
MAX_ITEM_SIZE = 400 * 1024
MAX_DEPTH = 32

# 38 digits is DynamoDB's precision; arithmetic runs wider so that an over-long result is
# reported (as DynamoDB does) instead of silently rounded.
NUMBER_CONTEXT = decimal.Context(prec=38, Emax=999_999, Emin=-999_999, traps=[decimal.InvalidOperation])
WIDE_CONTEXT = decimal.Context(prec=400, Emax=999_999, Emin=-999_999, traps=[decimal.InvalidOperation])
_NUMBER_RE = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")

_INVALID = "One or more parameter values were invalid: "
EMPTY_VALUE = "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
MANY_TYPES = ("Supplied AttributeValue has more than one datatypes set, "
              "must contain exactly one of the supported datatypes")
NOT_NUMERIC = "The parameter cannot be converted to a numeric value"
TOO_PRECISE = "Attempting to store more than 38 significant digits in a Number"
OVERFLOW = "Number overflow. Attempting to store a number with magnitude larger than supported range"
UNDERFLOW = "Number underflow. Attempting to store a number with magnitude smaller than supported range"
NESTING = ("Nesting Levels have exceeded supported limits: "
           "Attributes in the item have nested levels beyond supported limit")
ITEM_TOO_LARGE = "Item size has exceeded the maximum allowed size"


class _Invalid(Exception):
    """A validation failure before ``where`` decides how the message is worded."""


# ---------------------------------------------------------------------------------------------
# numbers


def parse_number(text: Any) -> decimal.Decimal:
    """Parse a wire number, enforcing DynamoDB's precision and range; raise ``_Invalid``."""
    if not isinstance(text, str) or not text:
        raise _Invalid(NOT_NUMERIC)
    if not _NUMBER_RE.fullmatch(text):
        raise _Invalid(f"{NOT_NUMERIC}: {text}")
    return check_number(decimal.Decimal(text))


def check_number(value: decimal.Decimal) -> decimal.Decimal:
    """Enforce 38 significant digits and the 1E-130 .. 9.99..E+125 magnitude range."""
    if not value:
        return decimal.Decimal(0)
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    coefficient = "".join(map(str, digits)).lstrip("0").rstrip("0")
    if len(coefficient) > 38:
        raise _Invalid(TOO_PRECISE)
    adjusted = value.adjusted()
    if adjusted > 125:
        raise _Invalid(OVERFLOW)
    if adjusted < -130:
        raise _Invalid(UNDERFLOW)
    return value


def format_number(value: decimal.Decimal) -> str:
    """DynamoDB's canonical text: plain notation, no exponent, no trailing zeros, no ``-0``."""
    if not value:
        return "0"
    return format(value.normalize(NUMBER_CONTEXT), "f")


def normalize_number(text: Any) -> str:
    try:
        return format_number(parse_number(text))
    except _Invalid as e:
        raise validation(str(e)) from None


def number_value(av: AttributeValue) -> decimal.Decimal:
    return decimal.Decimal(av["N"])


def number_result(value: decimal.Decimal) -> AttributeValue:
    """Wrap an arithmetic result, raising DynamoDB's errors when it does not fit."""
    try:
        return {"N": format_number(check_number(value))}
    except _Invalid as e:
        raise validation(str(e)) from None


def add_numbers(a: AttributeValue, b: AttributeValue, subtract: bool = False) -> AttributeValue:
    x, y = number_value(a), number_value(b)
    return number_result(WIDE_CONTEXT.subtract(x, y) if subtract else WIDE_CONTEXT.add(x, y))


# ---------------------------------------------------------------------------------------------
# validation


def type_of(av: AttributeValue) -> str:
    """The type key of a (valid) value."""
    return next(iter(av))


def validate_value(av: Any, where: str = "Item") -> AttributeValue:
    """Validate one attribute value and return it normalized.

    ``where`` names the value's origin; an ExpressionAttributeValues key (``":v"``) gets DynamoDB's
    ``ExpressionAttributeValues contains invalid value: ... for key :v`` wording, anything else the
    plain message.
    """
    try:
        return _normalize(av, 0)
    except _Invalid as e:
        if where.startswith(":"):
            message = f"ExpressionAttributeValues contains invalid value: {e} for key {where}"
            raise validation(message) from None
        raise validation(str(e)) from None


def validate_item(item: Any, where: str = "Item") -> Item:
    if not isinstance(item, dict):
        raise validation(f"{where} must be a map of attribute names to values")
    return {name: validate_value(value, where) for name, value in item.items()}


def _canonical_integer(text: str) -> bool:
    """Whether ``text`` is an integer exactly as ``format_number`` writes it (and within range)."""
    digits = text[1:] if text[:1] == "-" else text
    return (0 < len(digits) <= 38 and digits.isascii() and digits.isdigit()
            and (digits[0] != "0" or text == "0"))


def _normalize(av: Any, depth: int) -> AttributeValue:
    if depth > MAX_DEPTH:
        raise _Invalid(NESTING)
    if type(av) is dict and len(av) == 1:  # the usual value: one type, well formed
        for kind, raw in av.items():
            if kind == "S" and type(raw) is str:
                return {"S": raw}
            if kind == "N" and type(raw) is str and _canonical_integer(raw):
                return {"N": raw}
            if kind == "M" and type(raw) is dict:
                return {"M": {str(k): _normalize(v, depth + 1) for k, v in raw.items()}}
            if kind == "L" and type(raw) is list:
                return {"L": [_normalize(v, depth + 1) for v in raw]}
            if kind == "BOOL" and (raw is True or raw is False):
                return {"BOOL": raw}
    return _normalize_any(av, depth)


def _normalize_any(av: Any, depth: int) -> AttributeValue:
    """``_normalize`` for every value (the shortcuts above only take well-formed common ones)."""
    if not isinstance(av, dict):
        raise _Invalid(EMPTY_VALUE)
    keys = [k for k, v in av.items() if k in TYPES and v is not None]
    if not keys:
        raise _Invalid(EMPTY_VALUE)
    if len(keys) > 1:
        raise _Invalid(MANY_TYPES)
    kind = keys[0]
    raw = av[kind]
    if kind == "S":
        if not isinstance(raw, str):
            raise _Invalid(EMPTY_VALUE)
        return {"S": raw}
    if kind == "N":
        return {"N": format_number(parse_number(raw))}
    if kind == "B":
        return {"B": _bytes(raw)}
    if kind == "BOOL":
        if not isinstance(raw, bool):
            raise _Invalid(EMPTY_VALUE)
        return {"BOOL": raw}
    if kind == "NULL":
        if raw is not True:
            raise _Invalid(_INVALID + "Null attribute value types must have the value of true")
        return {"NULL": True}
    if kind == "M":
        if not isinstance(raw, dict):
            raise _Invalid(EMPTY_VALUE)
        return {"M": {str(k): _normalize(v, depth + 1) for k, v in raw.items()}}
    if kind == "L":
        if not isinstance(raw, list | tuple):
            raise _Invalid(EMPTY_VALUE)
        return {"L": [_normalize(v, depth + 1) for v in raw]}
    return {kind: _normalize_set(kind, raw)}


def _bytes(raw: Any) -> bytes:
    if isinstance(raw, bytes | bytearray | memoryview):
        return bytes(raw)
    raise _Invalid(EMPTY_VALUE)


def _normalize_set(kind: str, raw: Any) -> list[Any]:
    if not isinstance(raw, list | tuple):
        raise _Invalid(EMPTY_VALUE)
    if not raw:
        label = {"SS": "An string set  may not be empty", "NS": "An number set  may not be empty",
                 "BS": "Binary sets should not be empty"}[kind]
        raise _Invalid(_INVALID + label)
    members: list[Any]
    if kind == "SS":
        if not all(isinstance(m, str) for m in raw):
            raise _Invalid(EMPTY_VALUE)
        members = list(raw)
    elif kind == "NS":
        members = [format_number(parse_number(m)) for m in raw]
    else:
        members = [_bytes(m) for m in raw]
    if len(set(members)) != len(members):
        if kind == "NS":
            raise _Invalid("Input collection contains duplicates")
        if kind == "SS":
            raise _Invalid(f"{_INVALID}Input collection [{', '.join(raw)}] contains duplicates.")
        shown = ", ".join(base64.b64encode(m).decode() for m in members)
        raise _Invalid(f"{_INVALID}Input collection [{shown}]of type BS contains duplicates.")
    return members


# ---------------------------------------------------------------------------------------------
# size


@functools.lru_cache(maxsize=4096)
def _number_size(text: str) -> int:
    """Bytes DynamoDB charges for a number: base-100 digit pairs + 1 (+1 if negative), max 21."""
    value = decimal.Decimal(text)
    if not value:
        return 1
    plain = format(value.copy_abs(), "f")
    whole, _, fraction = plain.partition(".")
    whole = whole.lstrip("0")
    if len(whole) % 2:
        whole = "0" + whole
    if len(fraction) % 2:
        fraction += "0"
    pairs = [(whole + fraction)[i:i + 2] for i in range(0, len(whole) + len(fraction), 2)]
    while pairs and pairs[0] == "00":
        pairs.pop(0)
    while pairs and pairs[-1] == "00":
        pairs.pop()
    size = len(pairs) + 1 + (1 if value < 0 else 0)
    return min(size, 21)


def _utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def value_size(av: AttributeValue) -> int:
    kind, raw = next(iter(av.items()))
    if kind == "S":
        return len(raw) if raw.isascii() else len(raw.encode("utf-8"))
    if kind == "N":
        return _number_size(raw)
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(_utf8_size(s) for s in raw)
    if kind == "NS":
        return sum(_number_size(n) for n in raw)
    if kind == "BS":
        return sum(len(b) for b in raw)
    if kind == "M":
        return 3 + sum(_utf8_size(k) + value_size(v) + 1 for k, v in raw.items())
    return 3 + sum(value_size(v) + 1 for v in raw)


def item_size(item: Item) -> int:
    """The item's size as DynamoDB computes it (names in UTF-8 plus value sizes)."""
    size = 0
    for name, av in item.items():
        size += (len(name) if name.isascii() else len(name.encode("utf-8"))) + value_size(av)
    return size


def check_item_size(item: Item, message: str = ITEM_TOO_LARGE) -> int:
    """The item's size; ValidationException ``message`` when it is over the limit."""
    size = item_size(item)
    if size > MAX_ITEM_SIZE:
        raise validation(message)
    return size


# ---------------------------------------------------------------------------------------------
# ordering and equality


def compare(a: AttributeValue, b: AttributeValue) -> int:
    """Order two values of the same scalar type: S by UTF-8 bytes, N numerically, B bytewise."""
    kind = type_of(a)
    if kind != type_of(b) or kind not in SCALAR_TYPES:
        raise TypeError(f"cannot order {type_of(a)} and {type_of(b)}")
    x: Any
    y: Any
    if kind == "N":
        x, y = number_value(a), number_value(b)
    elif kind == "S":
        # Code point order is UTF-8 byte order.
        x, y = a["S"], b["S"]
    else:
        x, y = bytes(a["B"]), bytes(b["B"])
    return (x > y) - (x < y)


def _set_key(kind: str, members: Iterable[Any]) -> frozenset[Any]:
    if kind == "NS":
        return frozenset(decimal.Decimal(m) for m in members)
    return frozenset(bytes(m) if kind == "BS" else m for m in members)


def values_equal(a: AttributeValue | None, b: AttributeValue | None) -> bool:
    """Deep equality: sets as sets, numbers numerically."""
    if a is None or b is None:
        return a is b
    kind = type_of(a)
    if kind != type_of(b):
        return False
    x, y = a[kind], b[kind]
    if kind == "N":
        return bool(decimal.Decimal(x) == decimal.Decimal(y))
    if kind == "B":
        return bytes(x) == bytes(y)
    if kind in ("SS", "NS", "BS"):
        return _set_key(kind, x) == _set_key(kind, y)
    if kind == "L":
        return len(x) == len(y) and all(values_equal(p, q) for p, q in zip(x, y, strict=True))
    if kind == "M":
        return x.keys() == y.keys() and all(values_equal(x[k], y[k]) for k in x)
    return bool(x == y)


def hashable(av: AttributeValue) -> tuple[str, Any]:
    """A hashable form of a scalar key value (numbers canonical)."""
    kind = type_of(av)
    raw = av[kind]
    if kind == "N":
        return ("N", format_number(decimal.Decimal(raw)))
    if kind == "B":
        return ("B", bytes(raw))
    return (kind, raw)


def key_of(item: Item, key_schema: list[dict[str, Any]]) -> tuple[tuple[str, Any], ...]:
    """A hashable key from the item's key attributes, HASH first then RANGE."""
    ordered = sorted(key_schema, key=lambda k: 0 if k.get("KeyType") == "HASH" else 1)
    return tuple(hashable(item[k["AttributeName"]]) for k in ordered)
