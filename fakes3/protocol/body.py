"""The request body as a handler sees it: a read-only stream, already de-chunked.

``aws-chunked`` uploads (boto3, s3fs and the AWS CLI send them) may carry checksums in trailing
headers, which are known only once the body has been read to the end: ``trailers`` holds them then.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any, Protocol


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class LineReadable(Readable, Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


class ReadStream(io.RawIOBase):
    """A read-only stream whose subclasses define only ``read``; ``readinto`` (and through it
    io's ``readline``, ``readlines`` and iteration) follow from it."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class RequestBody(ReadStream):
    def __init__(self, stream: Readable, length: int | None, *, framed: bool = False) -> None:
        self._stream = stream
        # A framed stream (aws-chunked) ends itself, and must be read to its end for its trailers;
        # otherwise the declared length bounds what is read. None: read to EOF.
        self._remaining = None if framed else length
        self.length = length

    @property
    def trailers(self) -> dict[str, str]:
        return getattr(self._stream, "trailers", {})

    @property
    def consumed(self) -> bool:
        return self._remaining == 0

    def read(self, size: int | None = -1) -> bytes:
        if self._remaining is not None:
            if self._remaining <= 0:
                return b""
            if size is None or size < 0 or size > self._remaining:
                size = self._remaining
        data = self._stream.read(-1 if size is None else size)
        if self._remaining is not None:
            self._remaining -= len(data)
        return data

    def iter_chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        while chunk := self.read(size):
            yield chunk

    @classmethod
    def from_bytes(cls, data: bytes) -> RequestBody:
        return cls(io.BytesIO(data), len(data))
