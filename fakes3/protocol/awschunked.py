"""``aws-chunked`` request bodies: the framing S3 clients use to stream uploads.

Each chunk is ``<hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n``; a zero-size chunk ends the
data and may be followed by trailing headers (``x-amz-checksum-crc32:<b64>``, and
``x-amz-trailer-signature`` for signed trailers), then an empty line. The decoder is a stream
that holds one chunk at a time (clients send 8 KiB to 1 MiB chunks; more than MAX_CHUNK is
refused), so a chunk can be handed whole to a signature check.
"""

from __future__ import annotations

from collections.abc import Callable

from fakes3.errors import S3Error
from fakes3.protocol.body import LineReadable, ReadStream

MAX_CHUNK = 16 * 1024 * 1024
MAX_LINE = 4096

# Called with (chunk signature or None, chunk data) for every chunk, the final empty one included,
# so SigV4 can verify the chain of chunk signatures.
ChunkObserver = Callable[[str | None, bytes], None]


def incomplete_body() -> S3Error:
    return S3Error(
        "IncompleteBody",
        "The request body ended before its aws-chunked framing did: "
        "send every chunk and the final zero-length chunk.",
    )


class AwsChunkedReader(ReadStream):
    def __init__(self, raw: LineReadable, observer: ChunkObserver | None = None) -> None:
        self._raw = raw
        self._observer = observer
        self._chunk = memoryview(b"")
        self._done = False
        self.trailers: dict[str, str] = {}

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(1 << 20), b""))
        while not self._chunk:
            if self._done:
                return b""
            self._next_chunk()
        data, self._chunk = self._chunk[:size], self._chunk[size:]
        return bytes(data)

    def _next_chunk(self) -> None:
        size_text, _, extension = self._line().partition(";")
        try:
            size = int(size_text.strip(), 16)
        except ValueError as exc:
            raise S3Error(
                "InvalidChunkSizeError",
                f"Invalid chunk size {size_text.strip()!r} in the aws-chunked body.",
            ) from exc
        if size > MAX_CHUNK:
            raise S3Error(
                "InvalidChunkSizeError",
                f"aws-chunked chunks may be at most {MAX_CHUNK} bytes; this one is {size}.",
            )
        name, _, value = extension.partition("=")
        signature = value.strip() if name.strip() == "chunk-signature" else None
        if size == 0:
            self._done = True
            self._read_trailers()
            data = b""
        else:
            data = self._read_exact(size)
            if self._line() != "":
                raise incomplete_body()
        if self._observer:
            self._observer(signature, data)
        self._chunk = memoryview(data)

    def _read_exact(self, n: int) -> bytes:
        parts = []
        while n:
            data = self._raw.read(n)
            if not data:
                raise incomplete_body()
            parts.append(data)
            n -= len(data)
        return b"".join(parts)

    def _line(self) -> str:
        line = self._raw.readline(MAX_LINE)
        if not line.endswith(b"\n"):
            raise incomplete_body()
        return line.rstrip(b"\r\n").decode("latin-1")

    def _read_trailers(self) -> None:
        while True:
            line = self._raw.readline(MAX_LINE)
            text = line.rstrip(b"\r\n").decode("latin-1")
            if not text:
                return  # the empty line that ends the trailers, or the end of the body
            name, _, value = text.partition(":")
            self.trailers[name.strip().lower()] = value.strip()
