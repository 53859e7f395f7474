"""Object checksums: the algorithms S3 accepts, computed incrementally in one pass over a body.

Every value is what S3 puts on the wire: base64 of the big-endian digest. CRCs come from
``awscrt.checksums`` (the C implementation the AWS SDKs use), the SHA family and MD5 from hashlib.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from awscrt import checksums as crt

from fakes3.errors import S3Error

# S3's default when a PUT names no checksum (since December 2024 S3 computes and stores one).
DEFAULT_ALGORITHM = "CRC64NVME"


class Hasher(Protocol):
    def update(self, data: bytes | memoryview) -> None: ...

    def digest(self) -> bytes: ...


class _Crc:
    def __init__(self, fn: Any, width: int) -> None:
        self._fn = fn
        self._width = width
        self._value = 0

    def update(self, data: bytes | memoryview) -> None:
        self._value = self._fn(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(self._width, "big")


class _Hashlib:
    def __init__(self, name: str) -> None:
        self._h = hashlib.new(name)

    def update(self, data: bytes | memoryview) -> None:
        self._h.update(data)

    def digest(self) -> bytes:
        return self._h.digest()


class _XXHash:
    def __init__(self, factory: Any) -> None:
        self._h = factory()

    def update(self, data: bytes | memoryview) -> None:
        self._h.update(bytes(data) if isinstance(data, memoryview) else data)

    def digest(self) -> bytes:
        return bytes(self._h.finalize())


def _xx(name: str) -> Any:
    # XXHash arrived in later awscrt releases; without it those algorithms are simply unsupported.
    cls = getattr(crt, "XXHash", None)
    return getattr(cls, name, None) if cls is not None else None


# algorithm -> (factory, digest size in bytes)
_FACTORIES: dict[str, tuple[Any, int]] = {
    "CRC32": (lambda: _Crc(crt.crc32, 4), 4),
    "CRC32C": (lambda: _Crc(crt.crc32c, 4), 4),
    "CRC64NVME": (lambda: _Crc(crt.crc64nvme, 8), 8),
    "SHA1": (lambda: _Hashlib("sha1"), 20),
    "SHA256": (lambda: _Hashlib("sha256"), 32),
    "SHA512": (lambda: _Hashlib("sha512"), 64),
    "MD5": (lambda: _Hashlib("md5"), 16),
}
for _alg, _fn, _size in (
    ("XXHASH64", "new_xxhash64", 8),
    ("XXHASH3", "new_xxhash3_64", 8),
    ("XXHASH128", "new_xxhash3_128", 16),
):
    if (_factory := _xx(_fn)) is not None:
        _FACTORIES[_alg] = (lambda f=_factory: _XXHash(f), _size)

ALGORITHMS: frozenset[str] = frozenset(_FACTORIES)


def new_hasher(algorithm: str) -> Hasher:
    factory: Any = _FACTORIES[algorithm][0]
    hasher: Hasher = factory()
    return hasher


def encode(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def compute(algorithm: str, chunks: Iterable[bytes]) -> str:
    h = new_hasher(algorithm)
    for chunk in chunks:
        h.update(chunk)
    return encode(h.digest())


def param_name(algorithm: str) -> str:
    """The boto3 member carrying a value: ``ChecksumCRC32``, ``ChecksumCRC64NVME``, ..."""
    return "Checksum" + algorithm


def header_name(algorithm: str) -> str:
    return "x-amz-checksum-" + algorithm.lower()


@dataclass(frozen=True)
class ChecksumRequest:
    """What a request asked for: the algorithm to store and, if sent up front, its value."""

    algorithm: str
    expected: str | None  # base64 value from a header; a trailer may still supply one
    named: bool  # the client named an algorithm (False: S3's default was chosen)


# (algorithm, its boto3 member), sorted: looked up on every upload.
_PARAM_NAMES = tuple((alg, param_name(alg)) for alg in sorted(ALGORITHMS))


def requested(params: Mapping[str, Any]) -> ChecksumRequest:
    """Validate the checksum parameters of an upload before its body is read."""
    sdk = params.get("ChecksumAlgorithm")
    if sdk is not None:
        sdk = str(sdk).upper()
        if sdk not in ALGORITHMS:
            raise S3Error(
                "InvalidRequest",
                "Value for x-amz-sdk-checksum-algorithm header is invalid. "
                f"Use one of {', '.join(sorted(ALGORITHMS))}.",
            )
    sent = [(alg, params[name]) for alg, name in _PARAM_NAMES if params.get(name) is not None]
    if len(sent) > 1:
        raise S3Error(
            "InvalidRequest",
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
        )
    if sent:
        alg, value = sent[0]
        check_value(alg, value)
        if sdk is not None and sdk != alg:
            raise S3Error(
                "BadDigest",
                f"The x-amz-sdk-checksum-algorithm you specified ({sdk}) does not match the "
                f"checksum header you sent ({header_name(alg)}); send the checksum of the "
                "algorithm you named.",
            )
        return ChecksumRequest(alg, value, True)
    if sdk is not None:
        return ChecksumRequest(sdk, None, True)
    return ChecksumRequest(DEFAULT_ALGORITHM, None, False)


def check_value(algorithm: str, value: str) -> None:
    """A checksum value must be base64 of exactly the algorithm's digest size."""
    size = _FACTORIES[algorithm][1]
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != size:
        raise S3Error(
            "InvalidRequest",
            f"Value for {header_name(algorithm)} header is invalid. It must be the base64 "
            f"encoding of the {size}-byte {algorithm} digest.",
        )


def trailer_value(trailers: Mapping[str, str]) -> tuple[str, str] | None:
    """The (algorithm, value) an aws-chunked upload sent in its trailing headers, if any."""
    for name, value in trailers.items():
        lowered = name.lower()
        if lowered.startswith("x-amz-checksum-"):
            alg = lowered[len("x-amz-checksum-"):].upper()
            if alg not in ALGORITHMS:
                raise S3Error(
                    "InvalidRequest",
                    f"The trailing header {lowered} names an unsupported checksum algorithm.",
                )
            check_value(alg, value.strip())
            return alg, value.strip()
    return None


def mismatch(algorithm: str) -> S3Error:
    return S3Error(
        "BadDigest", f"The {algorithm} you specified did not match the calculated checksum."
    )


def parse_content_md5(value: str) -> bytes:
    """The 16-byte digest a Content-MD5 header carries, or InvalidDigest."""
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 16:
        raise S3Error(
            "InvalidDigest",
            "The Content-MD5 you specified was invalid. It must be the base64 encoding of the "
            "16-byte MD5 digest of the body.",
            fields={"Content-MD5": value},
        )
    return raw


def md5_mismatch(sent: bytes, calculated: bytes) -> S3Error:
    return S3Error(
        "BadDigest",
        "The Content-MD5 you specified did not match what we received.",
        fields={"ExpectedDigest": sent.hex(), "CalculatedDigest": encode(calculated)},
    )
