"""Blob storage: object bodies, written once while streaming, immutable afterwards.

A body stays in memory while it is at most ``spill_threshold`` bytes, and spills to a file in
the blob directory as soon as it grows past that. A file lives exactly as long as the ``Blob``
that owns it (``weakref.finalize`` unlinks it): an overwritten or deleted object's file stays
readable for a GET that is still streaming it, because that GET holds the blob. ``reset`` and
``close`` remove every file at once; a reader that already opened its file keeps reading (POSIX
keeps an unlinked file's data while a descriptor is open).

A *durable* store (a data dir, see persistence.py) puts every body in a file, whatever its size:
written to a ``tmp-`` file in the blob directory, fsync'd, then renamed to a unique name (and the
directory fsync'd), so a file with a final name is always complete. Its files outlive ``close``
and the process; a blob's file is still unlinked when the blob dies while the store is open
(its metadata, which the model holds it for, is gone by then).

Reading a range of a body that lives in a file gives a ``RangeBody``: an iterator of byte chunks
like any other, which can also hand fakes3's HTTP server the ``FileSpan``s it is made of, so that
a large GET is sent straight out of the file (see fakes3.http_server).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import tempfile
import threading
import weakref
from bisect import bisect_right
from collections.abc import Generator, Iterable, Iterator, Sequence
from types import TracebackType
from typing import IO

from fakes3 import checksums

CHUNK = 1 << 20
_PREFIX = "fakes3-blob-"
TEMP_PREFIX = "tmp-"  # a durable body being written; never referenced by metadata


class Blob:
    """An immutable body: its size, MD5 and checksums, and a way to stream any byte range."""

    __slots__ = ("size", "md5", "_checksums", "_data", "_path", "__weakref__")

    def __init__(
        self,
        *,
        size: int,
        md5: bytes,
        checksums: dict[str, str],
        data: bytes | None = None,
        path: str | None = None,
    ) -> None:
        self.size = size
        self.md5 = md5  # raw 16-byte digest
        self._checksums = checksums
        self._data = data
        self._path = path

    @property
    def path(self) -> str | None:
        """The file holding the body, or None while it lives in memory."""
        return self._path

    @property
    def etag(self) -> str:
        return f'"{self.md5.hex()}"'

    def checksum(self, algorithm: str) -> str:
        """The base64 checksum; computed by re-reading the body if it was not computed on write
        (only when a trailer names an algorithm the request did not announce)."""
        value = self._checksums.get(algorithm)
        if value is None:
            value = checksums.compute(algorithm, self.iter_range(0, self.size - 1))
            self._checksums[algorithm] = value
        return value

    def iter_range(
        self, start: int = 0, end: int | None = None, chunk: int = CHUNK
    ) -> Iterator[bytes]:
        """Stream bytes ``start..end`` inclusive (``end`` None: to the end)."""
        last = self.size - 1 if end is None else min(end, self.size - 1)
        if last < start:
            return iter(())
        if self._data is not None:
            return _memory_chunks(self._data, start, last, chunk)
        return RangeBody(self._pieces(start, last, chunk), chunk)

    def _pieces(self, start: int, last: int, chunk: int) -> Iterator[Piece]:
        """Bytes ``start..last`` (both within the body) as in-memory chunks and file spans."""
        if self._data is not None:
            return _memory_chunks(self._data, start, last, chunk)
        assert self._path is not None
        # Open now, not on first next(): once open, deleting or resetting cannot break the read.
        handle = open(self._path, "rb")  # noqa: SIM115 - closed by the generator
        return self._file_pieces(handle, start, last)

    def read(self) -> bytes:
        """The whole body; for tests and small internal uses only."""
        return b"".join(self.iter_range())

    def known_checksums(self) -> dict[str, str]:
        """The checksums computed so far (base64, by algorithm)."""
        return dict(self._checksums)

    @property
    def part_count(self) -> int | None:
        """How many parts a multipart object's body has; None for a body stored in one piece."""
        return None

    def part_bounds(self, number: int) -> tuple[int, int]:
        """First and last offset of part ``number`` (1-based); a one-piece body is part 1."""
        return 0, self.size - 1

    def _file_pieces(self, handle: IO[bytes], start: int, last: int) -> Iterator[Piece]:
        # A generator method: it holds ``self``, so the file outlives every reader; the handle is
        # closed once the reader moves past the span, or closes the body.
        with handle:
            yield FileSpan(handle, start, last - start + 1, self._path)


class CompositeBlob(Blob):
    """A body made of byte ranges of other blobs, read in place: a multipart object's parts, or the
    range an UploadPartCopy took. Nothing is copied: holding the segments keeps their files alive,
    and reading a range streams the segments it spans one after the other. A reader opens each
    segment when it reaches it, so a ``reset`` while it streams may cut it short."""

    __slots__ = ("_segments", "_starts", "_multipart")

    def __init__(
        self,
        segments: Sequence[tuple[Blob, int, int]],  # (blob, offset in it, length)
        *,
        md5: bytes,
        checksums: dict[str, str] | None = None,
        multipart: bool = False,
    ) -> None:
        starts: list[int] = []
        total = 0
        for _, _, length in segments:
            starts.append(total)
            total += length
        super().__init__(size=total, md5=md5, checksums=dict(checksums or {}))
        self._segments = tuple(segments)
        self._starts = starts
        # A multipart object: ``md5`` is the MD5 of its parts' MD5s and each segment is a part.
        self._multipart = multipart

    @property
    def etag(self) -> str:
        if self._multipart:
            return f'"{self.md5.hex()}-{len(self._segments)}"'
        return super().etag

    @property
    def part_count(self) -> int | None:
        return len(self._segments) if self._multipart else None

    @property
    def segments(self) -> tuple[tuple[Blob, int, int], ...]:
        """(blob, offset in it, length) for each piece, in order."""
        return self._segments

    @property
    def multipart(self) -> bool:
        return self._multipart

    def part_bounds(self, number: int) -> tuple[int, int]:
        if not self._multipart:
            return super().part_bounds(number)
        start = self._starts[number - 1]
        return start, start + self._segments[number - 1][2] - 1

    def iter_range(
        self, start: int = 0, end: int | None = None, chunk: int = CHUNK
    ) -> Iterator[bytes]:
        last = self.size - 1 if end is None else min(end, self.size - 1)
        if last < start:
            return iter(())
        return RangeBody(self._pieces(start, last, chunk), chunk)

    def _pieces(self, start: int, last: int, chunk: int) -> Iterator[Piece]:
        index = bisect_right(self._starts, start) - 1
        first = self._piece(index, start, last, chunk)  # opened now, like a one-piece blob
        return self._chain(first, index + 1, last, chunk)

    def _piece(self, index: int, start: int, last: int, chunk: int) -> Iterator[Piece]:
        blob, offset, length = self._segments[index]
        base = self._starts[index]
        stop = min(last, base + length - 1)
        return blob._pieces(offset + start - base, offset + stop - base, chunk)

    def _chain(self, first: Iterator[Piece], index: int, last: int, chunk: int) -> Iterator[Piece]:
        # A generator method: it holds ``self``, so every segment outlives the reader.
        yield from first
        while index < len(self._segments) and self._starts[index] <= last:
            yield from self._piece(index, self._starts[index], last, chunk)
            index += 1


class FileSpan:
    """``length`` bytes of an open file from ``offset``: a piece of a response body that a server
    can send without reading it into Python (fakes3's maps the file). The file belongs to the
    ``RangeBody`` that yielded the span: it stays open until the body moves past it or closes."""

    __slots__ = ("file", "offset", "length", "_path")

    def __init__(self, file: IO[bytes], offset: int, length: int, path: str | None = None) -> None:
        self.file = file
        self.offset = offset
        self.length = length
        self._path = path

    def chunks(self, chunk: int = CHUNK) -> Iterator[bytes]:
        """The span's bytes, read ``chunk`` at a time."""
        file = self.file
        file.seek(self.offset)
        remaining = self.length
        while remaining > 0:
            data = file.read(min(chunk, remaining))
            if not data:
                raise OSError(f"blob file {self._path} ended {remaining} bytes early")
            remaining -= len(data)
            yield data


Piece = bytes | FileSpan


class RangeBody:
    """A byte range of a blob as a response body (WSGI: an iterable of bytes with ``close``).

    Iterating it reads the bytes ``chunk`` at a time, as any WSGI server or the socketless path
    does. fakes3's HTTP server asks for ``pieces()`` instead: the same bytes as in-memory chunks
    and ``FileSpan``s, which it sends out of a memory map of the file, never reading them into
    Python. Either way the body is read once; ``close`` closes whatever file is still open."""

    __slots__ = ("_pieces", "_chunk", "_chunks", "_taken")

    def __init__(self, pieces: Iterator[Piece], chunk: int = CHUNK) -> None:
        self._pieces = pieces
        self._chunk = chunk
        self._chunks: Generator[bytes, None, None] | None = None
        self._taken = False

    def pieces(self) -> Iterator[Piece]:
        """The body as bytes and ``FileSpan``s (a span's file stays open until the next piece)."""
        if self._taken or self._chunks is not None:
            raise RuntimeError("the body is already being read")
        self._taken = True
        return self._pieces

    def __iter__(self) -> RangeBody:
        return self

    def __next__(self) -> bytes:
        if self._chunks is None:
            if self._taken:
                raise RuntimeError("the body's pieces are being read")
            self._chunks = self._read()
        return next(self._chunks)

    def _read(self) -> Generator[bytes, None, None]:
        chunk = self._chunk
        for piece in self._pieces:
            if isinstance(piece, FileSpan):
                yield from piece.chunks(chunk)
            else:
                yield piece

    def close(self) -> None:
        if self._chunks is not None:
            self._chunks.close()
        close = getattr(self._pieces, "close", None)
        if close is not None:
            close()


def _memory_chunks(data: bytes, start: int, last: int, chunk: int) -> Iterator[bytes]:
    if start == 0 and last == len(data) - 1 and len(data) <= chunk:
        yield data  # the common small GET: no copy
        return
    view = memoryview(data)
    for pos in range(start, last + 1, chunk):
        yield bytes(view[pos : min(pos + chunk, last + 1)])


class BlobWriter:
    """Write a body chunk by chunk, hashing as it goes (one pass); ``finish`` yields the Blob."""

    def __init__(self, store: BlobStore, algorithms: Iterable[str]) -> None:
        self._store = store
        self._md5 = hashlib.md5()
        self._hashers = {alg: checksums.new_hasher(alg) for alg in set(algorithms)}
        self._chunks: list[bytes] = []
        self._size = 0
        self._file: IO[bytes] | None = None
        self._path: str | None = None
        self._done = False

    @property
    def size(self) -> int:
        return self._size

    def write(self, data: bytes) -> None:
        if not data:
            return
        self._md5.update(data)
        for h in self._hashers.values():
            h.update(data)
        self._size += len(data)
        if self._file is not None:
            self._file.write(data)
            return
        self._chunks.append(bytes(data))
        if self._size > self._store.spill_threshold:
            self._spill()

    def _spill(self) -> None:
        durable = self._store.durable
        fd, path = tempfile.mkstemp(prefix=TEMP_PREFIX if durable else _PREFIX,
                                    dir=self._store.directory)
        if not durable:  # a durable body's file is tracked once it has its final name
            self._store._track(path)
        self._path = path
        self._file = os.fdopen(fd, "wb")
        for part in self._chunks:
            self._file.write(part)
        self._chunks = []

    def finish(self) -> Blob:
        digests = {alg: checksums.encode(h.digest()) for alg, h in self._hashers.items()}
        md5 = self._md5.digest()
        if self._store.durable:
            return self._finish_durable(md5, digests)
        self._done = True
        if self._file is None:
            return Blob(size=self._size, md5=md5, checksums=digests, data=b"".join(self._chunks))
        self._file.close()
        assert self._path is not None
        blob = Blob(size=self._size, md5=md5, checksums=digests, path=self._path)
        weakref.finalize(blob, self._store._release, self._path)
        return blob

    def _finish_durable(self, md5: bytes, digests: dict[str, str]) -> Blob:
        # Small bodies are written now, and stay cached in memory; a spilled one is on disk already.
        data = b"".join(self._chunks) if self._file is None else None
        if data is not None:
            self._chunks = []
            self._spill()
            assert self._file is not None
            self._file.write(data)
        assert self._file is not None and self._path is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        path = self._store._install(self._path)  # raises: __exit__ aborts, removing the temp file
        self._done = True
        return self._store._own(Blob(size=self._size, md5=md5, checksums=digests, data=data,
                                     path=path))

    def abort(self) -> None:
        """Drop a body that will never be stored (bad digest, client gone, ...)."""
        self._done = True
        self._chunks = []
        if self._file is not None:
            self._file.close()
        if self._path is not None:
            self._store._release(self._path)

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None and not self._done:
            self.abort()


class BlobStore:
    """Creates blobs and owns their files; ``reset`` and ``close`` remove them all (``durable``:
    ``reset`` does, ``close`` keeps them for the next start)."""

    def __init__(self, *, spill_threshold: int = 1 << 20, blob_dir: str | None = None,
                 durable: bool = False) -> None:
        if durable and blob_dir is None:
            raise ValueError("a durable BlobStore needs a blob_dir")
        self.spill_threshold = spill_threshold
        self.durable = durable
        self._given_dir = blob_dir
        self._private_dir: str | None = None
        self._lock = threading.Lock()
        self._files: set[str] = set()
        self._closed = False

    @property
    def directory(self) -> str:
        if self._given_dir is not None:
            os.makedirs(self._given_dir, exist_ok=True)
            return self._given_dir
        with self._lock:
            if self._private_dir is None:  # created on first spill: most tests never spill
                self._private_dir = tempfile.mkdtemp(prefix="fakes3-blobs-")
            return self._private_dir

    def writer(self, algorithms: Iterable[str] = ()) -> BlobWriter:
        return BlobWriter(self, algorithms)

    def from_bytes(self, data: bytes, algorithms: Iterable[str] = ()) -> Blob:
        with self.writer(algorithms) as w:
            w.write(data)
            return w.finish()

    def discard(self, blob: Blob) -> None:
        """Remove a blob's file now: it failed validation and was never visible to anyone."""
        if blob.path is not None:
            self._release(blob.path)

    def files(self) -> list[str]:
        """Paths of the blob files alive now (for tests and diagnostics)."""
        with self._lock:
            return sorted(self._files)

    def adopt(self, name: str, *, size: int, md5: bytes, checksums: dict[str, str]) -> Blob:
        """The blob of a file already in a durable store's directory (read back at start-up)."""
        return self._own(Blob(size=size, md5=md5, checksums=checksums,
                              path=os.path.join(self.directory, name)))

    def _own(self, blob: Blob) -> Blob:
        """Track a durable blob's file and unlink it when the blob dies (not at exit)."""
        assert blob.path is not None
        self._track(blob.path)
        weakref.finalize(blob, self._release, blob.path).atexit = False
        return blob

    def _install(self, temp: str) -> str:
        """Rename a complete, fsync'd temp file to its final, unique name, durably."""
        directory = os.path.dirname(temp)
        path = os.path.join(directory, secrets.token_hex(16))
        os.rename(temp, path)
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)  # the rename itself survives a power cut
        finally:
            os.close(fd)
        return path

    def _track(self, path: str) -> None:
        with self._lock:
            self._files.add(path)

    def _release(self, path: str) -> None:
        with self._lock:
            self._files.discard(path)
            if self.durable and self._closed:
                return  # closed: the files belong to the data dir, for the next start
        with contextlib.suppress(FileNotFoundError):  # already removed by reset()
            os.unlink(path)

    def reset(self) -> None:
        with self._lock:
            paths, self._files = self._files, set()
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def close(self) -> None:
        if self.durable:
            with self._lock:
                self._closed = True  # keep every file, even as the blobs that own them die
                self._files = set()
            return
        self.reset()
        with self._lock:
            private, self._private_dir = self._private_dir, None
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)
