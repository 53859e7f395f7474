"""The JSON 1.0 protocol (DynamoDB), both directions, driven by botocore's shapes.

Bodies only (``json_http`` carries them over HTTP): blobs travel as base64, timestamps as epoch
seconds. Errors are ``{"__type": "<namespace>#<Name>", "message": ...}`` plus the error shape's
other members.

``parse_request`` checks what the service's request validator checks: JSON types
(SerializationException), then required members, lengths, ranges, enums and patterns
(ValidationException, "N validation errors detected: ..."), including a JSON null as a list
element or map value ("Member must not be null" at that element). The models' patterns are Java
regular expressions; they are translated for Python's ``re``. Nothing here knows an operation.

Both directions are compiled once per shape. A request is first converted by a per-shape plan that
only handles well-formed input (and checks each constraint without wording it); anything else —
a type mismatch, a violated constraint, a null where a value belongs — falls back to the generic
shape walk (``_from_json`` then ``_validate``), which words every error. A response is written
as JSON text member by member; items (maps of AttributeValues) that are ``CachedItem``s keep their
JSON text, so a Query re-reading stored items does not encode them again.
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
import json
import math
import re
from collections.abc import Callable, Mapping
from json.encoder import encode_basestring
from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

from fakes3.errors import AWSError

CORAL_SERVICE = "com.amazon.coral.service"
CORAL_VALIDATE = "com.amazon.coral.validate"
MAX_VALIDATION_ERRORS = 10


class JsonError(AWSError):
    """An error in the JSON wire shape: ``type`` is the full ``namespace#Name``."""

    def __init__(self, name: str, message: str, status: int = 400, *, namespace: str = CORAL_SERVICE,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(name, message, status)
        self.type = f"{namespace}#{name}"
        self.extra: dict[str, Any] = dict(extra or {})


def serialization_error(message: str) -> JsonError:
    return JsonError("SerializationException", message)


# ---------------------------------------------------------------------------------------------
# Requests


_decode = json.JSONDecoder().decode


def parse_request(op: OperationModel, body: bytes) -> dict[str, Any]:
    """The dict ``client.<operation>(**params)`` took, from the request body."""
    shape = op.input_shape
    text = body.strip()
    if not text:
        data: Any = {}
    else:
        try:
            # UTF-8 (what json.loads would detect for a body opening with "{" then a non-NUL byte)
            # straight to the decoder; anything else through json.loads' own detection.
            data = (_decode(text.decode("utf-8", "surrogatepass"))
                    if text[:1] == b"{" and text[1:2] != b"\x00" else json.loads(text))
        except (ValueError, UnicodeDecodeError) as exc:
            raise serialization_error("Start of structure or map found where not expected." if
                                      text[:1] != b"{" else f"Malformed JSON: {exc}") from exc
    if shape is None:
        return {}
    if not isinstance(data, dict):
        raise serialization_error("Start of structure or map found where not expected."
                                  if not isinstance(data, list) else "Start of list found where not expected")
    plan = _PLANS.get(op)
    if plan is None:
        plan = _PLANS[op] = _plan(shape, {})
    try:
        params: dict[str, Any] | None = plan(data)
    except Exception:  # not plain well-formed input: the generic walk words the error
        params = None
    return params if params is not None else _parse_generic(shape, data)


def _parse_generic(shape: Shape, data: dict[str, Any]) -> dict[str, Any]:
    """The reference conversion and validation: every error, worded as the service words it."""
    params = _from_json(shape, data)
    problems: list[str] = []
    _validate(shape, params, "", problems)
    if problems:
        count = len(problems)
        detected = f"{count} validation error{'s' if count > 1 else ''} detected: "
        raise JsonError("ValidationException", detected + "; ".join(problems), namespace=CORAL_VALIDATE)
    return params


def _java_class(value: Any) -> str:
    if isinstance(value, bool):
        return "java.lang.Boolean"
    if isinstance(value, float):
        return "java.lang.Double"
    if isinstance(value, int):
        return "java.lang.Integer" if -2**31 <= value < 2**31 else "java.lang.Long"
    return "java.lang.String"


def _wrong_container(value: Any) -> JsonError | None:
    if isinstance(value, dict):
        return serialization_error("Start of structure or map found where not expected.")
    if isinstance(value, list):
        return serialization_error("Start of list found where not expected")
    return None


def _from_json(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if value is None:
        return None
    if kind == "structure":
        if not isinstance(value, dict):
            raise _wrong_container(value) or serialization_error("Expected null")
        assert isinstance(shape, StructureShape)
        out = {}
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            if wire in value and value[wire] is not None:
                out[name] = _from_json(member, value[wire])
        return out  # members the model does not know are ignored, as the service does
    if kind == "list":
        if not isinstance(value, list):
            if isinstance(value, dict):
                raise serialization_error("Start of structure or map found where not expected.")
            raise serialization_error("Expected list or null")
        return [_from_json(shape.member, v) for v in value]
    if kind == "map":
        if not isinstance(value, dict):
            if isinstance(value, list):
                raise serialization_error("Start of list found where not expected")
            raise serialization_error("Expected map or null")
        return {k: _from_json(shape.value, v) for k, v in value.items()}
    problem = _wrong_container(value)
    if problem:
        raise problem
    if kind == "string":
        if not isinstance(value, str):
            raise serialization_error(f"class {_java_class(value)} can not be converted to an String")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise serialization_error(f"class {_java_class(value)} can not be converted to an Boolean")
        return value
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise serialization_error(f"class {_java_class(value)} can not be converted to an "
                                      f"{'Integer' if kind == 'integer' else 'Long'}")
        _check_finite(value)
        return int(value)
    if kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise serialization_error(f"class {_java_class(value)} can not be converted to an Double")
        return float(value)
    if kind == "blob":
        if not isinstance(value, str):
            raise serialization_error(f"class {_java_class(value)} can not be converted to a Blob")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise serialization_error(f"'{value}' can not be converted to a Blob: {exc}") from exc
    if kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise serialization_error(f"class {_java_class(value)} can not be converted to a Timestamp")
        _check_finite(value)
        try:
            return dt.datetime.fromtimestamp(value, dt.UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise serialization_error(f"'{value}' can not be converted to a Timestamp") from exc
    return value


def _check_finite(value: int | float) -> None:
    """NaN and Infinity, which Python's json reads but JSON has not (the service's parser refuses
    the token): a SerializationException, not a crash converting them."""
    if isinstance(value, float) and not math.isfinite(value):
        token = "NaN" if math.isnan(value) else "-Infinity" if value < 0 else "Infinity"
        raise serialization_error(f"Non-standard token '{token}': not a JSON number")


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bytes):
        return f"java.nio.HeapByteBuffer[pos=0 lim={len(value)} cap={len(value)}]"
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_shown(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _problem(problems: list[str], value: Any, path: str, constraint: str) -> None:
    if len(problems) < MAX_VALIDATION_ERRORS:
        shown = "null" if value is None else f"'{_shown(value)}'"
        problems.append(f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}")


def _validate(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    """Constraints of one value (already of the right JSON type) and, recursively, its members."""
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        required = set(shape.required_members)
        for name, member in shape.members.items():
            child = f"{path}.{_lower_first(name)}" if path else _lower_first(name)
            item = value.get(name)
            if item is None:
                if name in required:
                    _problem(problems, None, child, "Member must not be null")
                continue
            _validate(member, item, child, problems)
        return
    if kind in ("string", "list", "map", "blob"):
        size = len(value)
        if "min" in meta and size < meta["min"]:
            _problem(problems, value, path, f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and size > meta["max"]:
            _problem(problems, value, path, f"Member must have length less than or equal to {meta['max']}")
    elif kind in ("integer", "long", "double", "float"):
        if "min" in meta and value < meta["min"]:
            _problem(problems, value, path, f"Member must have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            _problem(problems, value, path, f"Member must have value less than or equal to {meta['max']}")
    if kind == "string":
        enum = getattr(shape, "enum", None)
        if enum and value not in enum:
            _problem(problems, value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]")
        pattern = meta.get("pattern")
        if pattern:
            matcher = _compiled(pattern)
            if matcher is not None and not matcher.fullmatch(value):
                _problem(problems, value, path, f"Member must satisfy regular expression pattern: {pattern}")
    elif kind == "list":
        for i, item in enumerate(value, 1):
            _validate_element(shape.member, item, f"{path}.{i}.member", problems)
    elif kind == "map":
        for key, item in value.items():
            _validate_element(shape.value, item, f"{path}.{key}.member", problems)


def _validate_element(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    """A list element or map value: JSON null is no value there (the SDKs never send one), so it
    is worded like a missing required member, naming where it is."""
    if value is None:
        _problem(problems, None, path, "Member must not be null")
    else:
        _validate(shape, value, path, problems)


# Java's POSIX classes (\p{Name}), US-ASCII as Java has them without UNICODE_CHARACTER_CLASS, as the
# inside of a Python character class.
_JAVA_POSIX_CLASSES = {
    "Lower": "a-z", "Upper": "A-Z", "ASCII": "\\x00-\\x7F", "Alpha": "a-zA-Z", "Digit": "0-9",
    "Alnum": "a-zA-Z0-9", "Punct": "!-/:-@\\[-`{-~", "Graph": "!-~", "Print": "\\x20-\\x7E",
    "Blank": " \\t", "Cntrl": "\\x00-\\x1F\\x7F", "XDigit": "0-9a-fA-F", "Space": " \\t\\n\\x0B\\f\\r",
}
_JAVA_TOKEN = re.compile(r"\\([pP])\{(\w+)\}"  # a POSIX class
                         r"|\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"  # surrogates
                         r"|\\.|\[|\]|[^\\\[\]]+", re.DOTALL)


def _python_pattern(java: str) -> str:
    """A Java regular expression (the models' dialect) as Python's ``re`` reads it: POSIX classes
    spelled out, and UTF-16 surrogate pairs (which Java reads as one code point) as that code point."""
    out: list[str] = []
    depth = 0  # > 0 inside a character class
    for token in _JAVA_TOKEN.finditer(java):
        text = token.group()
        kind, name, high, low = token.groups()
        if name is not None and name in _JAVA_POSIX_CLASSES and not (depth and kind == "P"):
            members = _JAVA_POSIX_CLASSES[name]
            text = members if depth else f"[{'^' if kind == 'P' else ''}{members}]"
        elif high is not None:
            text = f"\\U{0x10000 + ((int(high, 16) - 0xD800) << 10) + int(low, 16) - 0xDC00:08X}"
        elif text == "[":
            depth += 1
        elif text == "]" and depth:
            depth -= 1
        out.append(text)
    return "".join(out)


_PATTERNS: dict[str, re.Pattern[str] | None] = {}


def _compiled(pattern: str) -> re.Pattern[str] | None:
    """The model's pattern, compiled as Java reads it (\\w, \\d and \\s are ASCII there); None for
    one that still cannot be read, which is then not checked (better than failing every request)."""
    if pattern in _PATTERNS:
        return _PATTERNS[pattern]
    try:
        compiled: re.Pattern[str] | None = re.compile(_python_pattern(pattern), re.DOTALL | re.ASCII)
    except re.error:
        compiled = None
    _PATTERNS[pattern] = compiled
    return compiled


# ---------------------------------------------------------------------------------------------
# Request plans: well-formed input converted without the shape walk


class _Refused(Exception):
    """A plan met input it does not handle (the generic walk then answers)."""


Plan = Callable[[Any], Any]
_PLANS: dict[OperationModel, Plan] = {}


def _refuse(*_: Any) -> Any:
    raise _Refused


def _plan(shape: Shape, memo: dict[str, Plan]) -> Plan:
    """A function from a JSON value to what ``_from_json`` makes of it, for values ``_validate``
    would find no fault with; it raises on anything else. ``memo`` ties recursive shapes."""
    cached = memo.get(shape.name)
    if cached is not None:
        return cached
    kind = shape.type_name
    meta = shape.metadata
    lo = meta.get("min")
    hi = meta.get("max")
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        return _structure_plan(shape, memo)
    if kind in ("list", "map"):
        cell: list[Plan] = [_refuse]

        def recursive(value: Any) -> Any:
            return cell[0](value)

        memo[shape.name] = recursive
        inner = _plan(shape.member if kind == "list" else shape.value, memo)
        plan = _list_plan(inner, lo, hi) if kind == "list" else _map_plan(inner, lo, hi)
        cell[0] = memo[shape.name] = plan
        return plan
    if kind == "string":
        plan = _string_plan(lo, hi, frozenset(getattr(shape, "enum", None) or ()), meta.get("pattern"))
    elif kind == "boolean":
        plan = _boolean_plan
    elif kind in ("integer", "long"):
        plan = _number_plan(int, lo, hi)
    elif kind in ("double", "float"):
        plan = _number_plan(float, lo, hi)
    elif kind == "blob":
        plan = _blob_plan(lo, hi)
    else:  # timestamps and anything rarer: the generic walk
        plan = _refuse
    memo[shape.name] = plan
    return plan


def _structure_plan(shape: StructureShape, memo: dict[str, Plan]) -> Plan:
    members: list[tuple[str, str, Plan]] = []  # (wire name, member name, plan), in shape order
    by_wire: dict[str, tuple[str, Plan]] = {}
    required = tuple(shape.members[name].serialization.get("name", name)
                     for name in shape.required_members if name in shape.members)

    def plan(value: Any) -> Any:
        if type(value) is not dict:
            raise _Refused
        if len(value) == 1 and not required:  # an AttributeValue: one member
            for wire, item in value.items():
                found = by_wire.get(wire)
                if found is None or item is None:
                    return {}
                return {found[0]: found[1](item)}
        for wire in required:
            if value.get(wire) is None:
                raise _Refused
        out = {}
        for wire, name, member_plan in members:
            if wire in value:
                item = value[wire]
                if item is not None:
                    out[name] = member_plan(item)
        return out

    memo[shape.name] = plan
    for name, member in shape.members.items():
        wire = member.serialization.get("name", name)
        member_plan = _plan(member, memo)
        members.append((wire, name, member_plan))
        by_wire.setdefault(wire, (name, member_plan))
    return plan


def _boolean_plan(value: Any) -> Any:
    if value is True or value is False:
        return value
    raise _Refused


def _blob_plan(lo: int | None, hi: int | None) -> Plan:
    def plan(value: Any) -> Any:
        if type(value) is not str:
            raise _Refused
        decoded = base64.b64decode(value, validate=True)
        if (lo is not None and len(decoded) < lo) or (hi is not None and len(decoded) > hi):
            raise _Refused
        return decoded
    return plan


def _list_plan(inner: Plan, lo: int | None, hi: int | None) -> Plan:
    def plan(value: Any) -> Any:
        if type(value) is not list or (lo is not None and len(value) < lo) or (
                hi is not None and len(value) > hi):
            raise _Refused
        return [inner(item) for item in value]
    return plan


def _map_plan(inner: Plan, lo: int | None, hi: int | None) -> Plan:
    def plan(value: Any) -> Any:
        if type(value) is not dict or (lo is not None and len(value) < lo) or (
                hi is not None and len(value) > hi):
            raise _Refused
        return {key: inner(item) for key, item in value.items()}
    return plan


def _string_plan(lo: int | None, hi: int | None, enum: frozenset[str], pattern: str | None) -> Plan:
    if lo is None and hi is None and not enum and pattern is None:
        def free(value: Any) -> Any:
            if type(value) is str:
                return value
            raise _Refused
        return free
    low = lo if lo is not None else 0
    high = hi if hi is not None else float("inf")
    compiled = _compiled(pattern) if pattern else None
    matcher = compiled.fullmatch if compiled is not None else None

    def plan(value: Any) -> Any:
        if type(value) is not str or not low <= len(value) <= high or (enum and value not in enum) or (
                matcher is not None and not matcher(value)):
            raise _Refused
        return value
    return plan


def _number_plan(kind: type, lo: Any, hi: Any) -> Plan:
    def plan(value: Any) -> Any:
        if type(value) is not int and (kind is int or type(value) is not float):
            raise _Refused  # integers given as floats: the generic walk converts them
        number = kind(value)
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            raise _Refused
        return number
    return plan


# ---------------------------------------------------------------------------------------------
# Responses


def _attribute_value_json(value: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB's AttributeValue without the shape walk (a Query's items are nearly all of its
    response): only binaries need encoding, maps and lists recurse."""
    out: dict[str, Any] = {}
    for kind, item in value.items():
        if kind == "M":
            out[kind] = {k: _attribute_value_json(v) for k, v in item.items()}
        elif kind == "L":
            out[kind] = [_attribute_value_json(v) for v in item]
        elif kind == "B":
            out[kind] = base64.b64encode(item).decode()
        elif kind == "BS":
            out[kind] = [base64.b64encode(v).decode() for v in item]
        elif item is not None:
            out[kind] = item
    return out


def to_json(shape: Shape, value: Any) -> Any:
    """One value as JSON data, by its shape: members the shape does not name are dropped."""
    kind = shape.type_name
    if kind == "structure" and shape.name == "AttributeValue":
        return _attribute_value_json(value)
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        out = {}
        for name, member in shape.members.items():
            item = value.get(name)
            if item is not None:
                out[member.serialization.get("name", name)] = to_json(member, item)
        return out
    if kind == "list":
        return [to_json(shape.member, v) for v in value]
    if kind == "map":
        if shape.value.name == "AttributeValue":  # an item: skip a call per attribute
            return {k: _attribute_value_json(v) for k, v in value.items()}
        return {k: to_json(shape.value, v) for k, v in value.items()}
    if kind == "blob":
        return base64.b64encode(value if isinstance(value, bytes | bytearray) else
                                str(value).encode()).decode()
    if kind == "timestamp":
        if isinstance(value, dt.datetime):
            return round(value.timestamp(), 3)
        return value
    if kind in ("double", "float"):
        return float(value)
    return value


class CachedItem(dict[str, Any]):
    """An item (a map of AttributeValues) that keeps its JSON text once it has been written.

    For stored items, which are never changed (a write stores a new one): the dict methods that
    change an item drop the text, and a copy is a plain dict, but the values themselves are shared
    with the text and must never change.
    """

    __slots__ = ("_json",)
    _json: str | None

    def wire_json(self) -> str:
        """The item as the JSON protocol writes it (computed once)."""
        try:
            text: str | None = self._json
        except AttributeError:
            text = None
        if text is None:
            text = self._json = _dumps({k: _attribute_value_json(v) for k, v in self.items()})
        return text

    def __setitem__(self, key: str, value: Any) -> None:
        self._json = None
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self._json = None
        super().__delitem__(key)

    def __ior__(self, other: Any) -> CachedItem:  # type: ignore[override,misc]
        self._json = None
        return super().__ior__(other)

    def clear(self) -> None:
        self._json = None
        super().clear()

    def pop(self, *args: Any) -> Any:
        self._json = None
        return super().pop(*args)

    def popitem(self) -> tuple[str, Any]:
        self._json = None
        return super().popitem()

    def setdefault(self, *args: Any) -> Any:
        self._json = None
        return super().setdefault(*args)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._json = None
        super().update(*args, **kwargs)

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v, memo) for k, v in self.items()}

    def __reduce__(self) -> tuple[Any, ...]:
        return dict, (dict(self),)


_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

Encoder = Callable[[Any], str]
_ENCODERS: dict[OperationModel, Encoder] = {}


def _item_json(item: Mapping[str, Any]) -> str:
    if type(item) is CachedItem:
        return item.wire_json()
    return _dumps({k: _attribute_value_json(v) for k, v in item.items()})


def _items_json(items: Any) -> str:
    """A list of items (a Query's page): stored items' texts joined, when they all have one."""
    try:
        return "[" + ",".join([item._json for item in items]) + "]"
    except (AttributeError, TypeError):  # not a stored item, or its text not written yet
        pass
    texts = []
    for item in items:
        try:
            text = item._json if type(item) is CachedItem else None
        except AttributeError:
            text = None
        texts.append(text if text is not None else _item_json(item))
    return "[" + ",".join(texts) + "]"


def _holds_items(shape: Shape, seen: set[str]) -> bool:
    """Whether values of ``shape`` can contain AttributeValues."""
    if shape.name == "AttributeValue":
        return True
    if shape.name in seen:
        return False
    seen.add(shape.name)
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        return any(_holds_items(member, seen) for member in shape.members.values())
    if kind == "list":
        return _holds_items(shape.member, seen)
    if kind == "map":
        return _holds_items(shape.value, seen)
    return False


def _scalar_encoder(shape: Shape) -> Encoder:
    """``_dumps(to_json(shape, value))``, with shortcuts for the common scalars."""
    kind = shape.type_name

    def encode_plain(value: Any) -> str:
        return _dumps(to_json(shape, value))

    if kind == "string":
        def encode_string(value: Any) -> str:
            return encode_basestring(value) if type(value) is str else encode_plain(value)
        return encode_string
    if kind in ("integer", "long"):
        def encode_integer(value: Any) -> str:
            return int.__repr__(value) if type(value) is int else encode_plain(value)
        return encode_integer
    if kind == "boolean":
        def encode_boolean(value: Any) -> str:
            if value is True:
                return "true"
            return "false" if value is False else encode_plain(value)
        return encode_boolean
    return encode_plain


def _encoder(shape: Shape, memo: dict[str, Encoder]) -> Encoder:
    """A function from a value to the JSON text of ``to_json(shape, value)``, as ``_dumps`` writes
    it; the parts holding items are written piece by piece so that ``CachedItem``s keep theirs."""
    cached = memo.get(shape.name)
    if cached is not None:
        return cached
    kind = shape.type_name
    if kind == "structure" and shape.name == "AttributeValue":
        def encode_value(value: Any) -> str:
            return _dumps(_attribute_value_json(value))
        memo[shape.name] = encode_value
        return encode_value
    if kind == "map" and shape.value.name == "AttributeValue":
        memo[shape.name] = _item_json
        return _item_json
    if not _holds_items(shape, set()):
        plain = _scalar_encoder(shape)
        memo[shape.name] = plain
        return plain
    cell: list[Encoder] = []

    def recursive(value: Any) -> str:
        return cell[0](value)

    memo[shape.name] = recursive
    encode: Encoder
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        members = [(name, encode_basestring(member.serialization.get("name", name)) + ":",
                    _encoder(member, memo)) for name, member in shape.members.items()]

        def encode_structure(value: Any) -> str:
            parts = []
            for name, prefix, encode_member in members:
                item = value.get(name)
                if item is not None:
                    parts.append(prefix + encode_member(item))
            return "{" + ",".join(parts) + "}"
        encode = encode_structure
    elif kind == "list" and shape.member.type_name == "map" and shape.member.value.name == "AttributeValue":
        encode = _items_json
    elif kind == "list":
        encode_element = _encoder(shape.member, memo)

        def encode_list(value: Any) -> str:
            return "[" + ",".join([encode_element(v) for v in value]) + "]"
        encode = encode_list
    else:
        encode_entry = _encoder(shape.value, memo)

        def encode_map(value: Any) -> str:
            entries = [encode_basestring(k) + ":" + encode_entry(v) for k, v in value.items()]
            return "{" + ",".join(entries) + "}"
        encode = encode_map
    cell.append(encode)
    memo[shape.name] = encode
    return encode


def serialize_response(op: OperationModel, result: Mapping[str, Any]) -> bytes:
    shape = op.output_shape
    if shape is None:
        return b"{}"
    encode = _ENCODERS.get(op)
    if encode is None:
        encode = _ENCODERS[op] = _encoder(shape, {})
    try:
        text = encode(result)
    except Exception:  # something the plain walk handles (or words as it always has)
        text = _dumps(to_json(shape, result))
    return text.encode("utf-8")


def serialize_error(model: ServiceModel, err: AWSError) -> bytes:
    error_type = getattr(err, "type", None) or f"{CORAL_SERVICE}#{err.code}"
    body: dict[str, Any] = {"__type": error_type}
    extra: dict[str, Any] = getattr(err, "extra", {}) or {}
    shape = _error_shape(model, err.code)
    message_key = "message"
    if shape is not None and "Message" in shape.members:
        message_key = "Message"
    body[message_key] = err.message
    if extra:
        body.update(to_json(shape, extra) if shape is not None else extra)
        body.pop("message" if message_key == "Message" else "Message", None)
        body[message_key] = err.message
    return _dumps(body).encode("utf-8")


_ERROR_SHAPES: dict[tuple[ServiceModel, str], StructureShape | None] = {}


def _error_shape(model: ServiceModel, code: str) -> StructureShape | None:
    key = (model, code)
    if key not in _ERROR_SHAPES:
        _ERROR_SHAPES[key] = next((shape for shape in model.error_shapes if shape.name == code), None)
    return _ERROR_SHAPES[key]
