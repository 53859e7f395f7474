"""Helpers shared by the S3 semantics tests."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest

from fakes3.context import RequestContext
from fakes3.errors import S3Error
from fakes3.protocol.body import RequestBody

NOW = dt.datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)


def make_ctx(**overrides: Any) -> RequestContext:
    fields: dict[str, Any] = {"request_id": "req", "now": NOW}
    fields.update(overrides)
    return RequestContext(**fields)


def body(data: bytes, trailers: dict[str, str] | None = None) -> RequestBody:
    """A request body; ``trailers`` appear once it has been read to EOF, as over the wire."""
    return RequestBody(_TrailingStream(data, trailers or {}), len(data))


class _TrailingStream:
    """Stands in for the aws-chunked decoder: trailing headers are known only at EOF."""

    def __init__(self, data: bytes, trailers: dict[str, str]) -> None:
        self._data = io.BytesIO(data)
        self._pending = trailers
        self.trailers: dict[str, str] = {}

    def read(self, size: int = -1, /) -> bytes:
        chunk = self._data.read(size)
        if not chunk or self._data.tell() == len(self._data.getbuffer()):
            self.trailers.update(self._pending)
        return chunk


def read_body(result: dict[str, Any]) -> bytes:
    return b"".join(result["Body"])


def error_of(fn: Callable[[], Any]) -> S3Error:
    with pytest.raises(S3Error) as info:
        fn()
    return info.value
