"""Scalar values on the wire: headers, query strings and XML text, by botocore shape type."""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import functools
import json
from collections.abc import Callable
from typing import Any

from botocore.model import Shape

from fakes3.errors import S3Error

ISO8601 = "%Y-%m-%dT%H:%M:%S.000Z"


def format_timestamp(value: dt.datetime, fmt: str) -> str:
    if fmt == "rfc822":
        return http_date(value)
    value = value.astimezone(dt.UTC)
    if fmt == "unixTimestamp":
        return str(int(value.timestamp()))
    return value.strftime(ISO8601)


_http_dates: dict[dt.datetime, str] = {}


def http_date(value: dt.datetime) -> str:
    """``Tue, 03 Mar 2026 12:00:00 GMT`` (Last-Modified on every GET and HEAD). Remembered per
    value: S3 stamps objects to the second, so many share one, and a client reads the same
    objects again."""
    text = _http_dates.get(value)
    if text is None:
        text = email.utils.format_datetime(value.astimezone(dt.UTC), usegmt=True)
        if len(_http_dates) >= 4096:
            _http_dates.clear()
        _http_dates[value] = text
    return text


def parse_timestamp(text: str) -> dt.datetime:
    text = text.strip()
    try:
        if text[:1].isdigit() and "T" not in text and "-" not in text:
            return dt.datetime.fromtimestamp(float(text), dt.UTC)
        if "," in text or "GMT" in text:
            return email.utils.parsedate_to_datetime(text).astimezone(dt.UTC)
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    except (ValueError, TypeError, IndexError) as exc:
        raise ValueError(f"not a timestamp: {text!r}") from exc


def from_text(shape: Shape, text: str, member_name: str) -> Any:
    """Parse one scalar sent by the client; a malformed value is InvalidArgument, as on S3."""
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
        if kind == "boolean":
            lowered = text.strip().lower()
            if lowered not in ("true", "false"):
                raise ValueError(text)
            return lowered == "true"
        if kind == "timestamp":
            return parse_timestamp(text)
        if kind == "blob":
            return base64.b64decode(text)
        if kind == "list":
            return [from_text(shape.member, part.strip(), member_name) for part in text.split(",")]
        if kind == "string" and shape.serialization.get("jsonvalue"):
            return json.loads(base64.b64decode(text))
    except (ValueError, TypeError) as exc:
        raise S3Error(
            "InvalidArgument",
            f"{member_name} has an invalid value {text!r}: expected a {kind}.",
            fields={"ArgumentName": member_name, "ArgumentValue": text},
        ) from exc
    return text


def is_plain_text(shape: Shape) -> bool:
    """Whether ``from_text`` hands this shape's text back as it is (plain strings)."""
    return shape.type_name == "string" and not shape.serialization.get("jsonvalue")


def text_formatter(shape: Shape, timestamp_format: str) -> Callable[[Any], str]:
    """``to_text`` for one shape, chosen once: for most members (strings, numbers) it is ``str``."""
    kind = shape.type_name
    if kind in ("integer", "long", "float", "double") or is_plain_text(shape):
        return str
    if kind == "timestamp" and shape.serialization.get("timestampFormat", timestamp_format) == "rfc822":
        return _rfc822_text
    return functools.partial(to_text, shape, timestamp_format=timestamp_format)


def _rfc822_text(value: Any) -> str:
    return http_date(value) if isinstance(value, dt.datetime) else str(value)


def to_text(shape: Shape, value: Any, timestamp_format: str) -> str:
    """Format one scalar for a header or XML text."""
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        if isinstance(value, dt.datetime):
            return format_timestamp(value, shape.serialization.get("timestampFormat", timestamp_format))
        return str(value)
    if kind == "blob":
        return base64.b64encode(value).decode() if isinstance(value, bytes) else str(value)
    if kind == "list":
        return ",".join(to_text(shape.member, v, timestamp_format) for v in value)
    if kind == "string" and shape.serialization.get("jsonvalue"):
        return base64.b64encode(json.dumps(value).encode()).decode()
    return str(value)
