"""The JSON 1.0 protocol (DynamoDB), both directions, driven by botocore's shapes.

Bodies only (``json_http`` carries them over HTTP): blobs travel as base64, timestamps as epoch
seconds. Errors are ``{"__type": "<namespace>#<Name>", "message": ...}`` plus the error shape's
other members.

``parse_request`` checks what the service's request validator checks: JSON types
(SerializationException), then required members, lengths, ranges, enums and patterns
(ValidationException, "N validation errors detected: ..."). Nothing here knows an operation.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Mapping
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


def parse_request(op: OperationModel, body: bytes) -> dict[str, Any]:
    """The dict ``client.<operation>(**params)`` took, from the request body."""
    shape = op.input_shape
    text = body.strip()
    if not text:
        data: Any = {}
    else:
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise serialization_error("Start of structure or map found where not expected." if
                                      text[:1] != b"{" else f"Malformed JSON: {exc}") from exc
    if shape is None:
        return {}
    if not isinstance(data, dict):
        raise serialization_error("Start of structure or map found where not expected."
                                  if not isinstance(data, list) else "Start of list found where not expected")
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
        return dt.datetime.fromtimestamp(value, dt.UTC)
    return value


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
        if pattern and not _compiled(pattern).fullmatch(value):
            _problem(problems, value, path, f"Member must satisfy regular expression pattern: {pattern}")
    elif kind == "list":
        for i, item in enumerate(value, 1):
            _validate(shape.member, item, f"{path}.{i}.member", problems)
    elif kind == "map":
        for key, item in value.items():
            _validate(shape.value, item, f"{path}.{key}.member", problems)


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    compiled = _PATTERNS.get(pattern)
    if compiled is None:
        compiled = _PATTERNS[pattern] = re.compile(pattern, re.DOTALL)
    return compiled


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


def serialize_response(op: OperationModel, result: Mapping[str, Any]) -> bytes:
    shape = op.output_shape
    data = to_json(shape, result) if shape is not None else {}
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


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
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _error_shape(model: ServiceModel, code: str) -> StructureShape | None:
    for shape in model.error_shapes:
        if shape.name == code:
            return shape
    return None
