"""Checks on a request body that can only finish once the body has been read.

Bodies are streamed, so the verifier cannot hash them up front. It hands the protocol layer a
``PayloadCheck`` instead: ``wrap`` puts a hashing reader around the raw body (x-amz-content-sha256
with a hex digest is checked when the last declared byte is read, before the read returns, so a
handler that stores the body sees the error before it commits anything), and ``chunk`` is called
with every aws-chunked chunk (the signature chain of STREAMING-AWS4-HMAC-SHA256-PAYLOAD, and the
trailer signature of its -TRAILER variant, checked as each chunk arrives).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from fakes3.auth import errors
from fakes3.auth.sigv4 import Scope, chunk_string_to_sign, same_signature, sign, trailer_string_to_sign
from fakes3.protocol.body import Readable

TRAILER_SIGNATURE = "x-amz-trailer-signature"


class PayloadCheck:
    """Does nothing; subclasses check what their request promised."""

    def wrap(self, stream: Readable, length: int | None) -> Readable:
        """The raw body (aws-chunked framing included) as the protocol layer should read it."""
        return stream

    def chunk(self, signature: str | None, data: bytes, trailers: Mapping[str, str]) -> None:
        """One aws-chunked chunk; the final one has empty data, and trailers complete by then."""


class Sha256Check(PayloadCheck):
    """x-amz-content-sha256 holds the body's SHA-256 in hex."""

    def __init__(self, expected: str) -> None:
        self.expected = expected.lower()

    def wrap(self, stream: Readable, length: int | None) -> Readable:
        return _HashingReader(stream, length, self.expected)


class _HashingReader:
    def __init__(self, raw: Readable, length: int | None, expected: str) -> None:
        self._raw = raw
        self._length = length
        self._expected = expected
        self._hash = hashlib.sha256()
        self._seen = 0
        self._checked = False

    def read(self, size: int = -1, /) -> bytes:
        if self._checked:
            return b""
        data = self._raw.read(size)
        self._hash.update(data)
        self._seen += len(data)
        at_end = (not data and size != 0) or (self._length is not None and self._seen >= self._length)
        if at_end:
            self._checked = True
            computed = self._hash.hexdigest()
            if computed != self._expected:
                raise errors.content_sha256_mismatch(self._expected, computed)
        return data


class ChunkSignatureCheck(PayloadCheck):
    """STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]: each chunk signs its data and the previous
    signature, starting from the request's own signature (the seed)."""

    def __init__(self, key: bytes, timestamp: str, scope: Scope, seed: str, *, trailer: bool) -> None:
        self._key = key
        self._timestamp = timestamp
        self._scope = scope
        self._previous = seed
        self._trailer = trailer

    def chunk(self, signature: str | None, data: bytes, trailers: Mapping[str, str]) -> None:
        string_to_sign = chunk_string_to_sign(self._timestamp, self._scope, self._previous, data)
        self._expect(signature or "", string_to_sign)
        self._previous = signature or ""
        if data or not self._trailer:
            return
        signed = {k: v for k, v in trailers.items() if k != TRAILER_SIGNATURE}
        string_to_sign = trailer_string_to_sign(self._timestamp, self._scope, self._previous, signed)
        self._expect(trailers.get(TRAILER_SIGNATURE, ""), string_to_sign)

    def _expect(self, provided: str, string_to_sign: str) -> None:
        if not same_signature(sign(self._key, string_to_sign), provided):
            raise errors.signature_mismatch(self._scope.access_key, string_to_sign, provided)
