"""SigV4 arithmetic: canonical request, string to sign, signing keys, chunk and trailer signatures.

The canonical request is assembled by botocore's own signer (``S3SigV4Auth`` for S3, whose path
is not normalised; ``SigV4Auth`` for other services), fed with what the client sent: the signed
header names it listed, and the path and query it sent, URI-decoded and re-encoded by SigV4's
rules (every byte but ``A-Za-z0-9-_.~`` percent-encoded, ``/`` kept in paths, query pairs sorted),
as AWS does on its side. Signing keys are derived once per (secret, date, region, service).
"""

from __future__ import annotations

import calendar
import functools
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_tz
from typing import Any
from urllib.parse import quote, unquote_to_bytes

from botocore.auth import EMPTY_SHA256_HASH, S3SigV4Auth, SigV4Auth

ALGORITHM = "AWS4-HMAC-SHA256"
CHUNK_ALGORITHM = "AWS4-HMAC-SHA256-PAYLOAD"
TRAILER_ALGORITHM = "AWS4-HMAC-SHA256-TRAILER"

@dataclass(frozen=True)
class Scope:
    """``AKID/20130524/us-east-1/s3/aws4_request``, split."""

    access_key: str
    date: str
    region: str
    service: str

    @classmethod
    def parse(cls, text: str) -> Scope | None:
        # The access key may not contain '/', so the last four parts are always the scope.
        parts = text.split("/")
        if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts[1:4]):
            return None
        return cls(*parts[:4])

    @property
    def text(self) -> str:
        """The credential scope in the string to sign (no access key)."""
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


@functools.lru_cache(maxsize=4096)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def sign(key: bytes, string_to_sign: str) -> str:
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def parse_amz_date(text: str) -> float | None:
    """Epoch seconds of ``20130524T000000Z`` (x-amz-date) or an RFC 1123 Date; None if neither."""
    if len(text) == 16 and text[8] == "T" and text[15] == "Z" and text[:8].isdigit() \
            and text[9:15].isdigit():
        try:
            return float(calendar.timegm((int(text[:4]), int(text[4:6]), int(text[6:8]),
                                          int(text[9:11]), int(text[11:13]), int(text[13:15]))))
        except (ValueError, OverflowError):
            return None
    parsed = parsedate_tz(text)
    if parsed is None:
        return None
    offset = parsed[9] or 0
    return float(calendar.timegm(parsed[:6] + (0, 0, 0))) - offset


def amz_timestamp(when: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(when))


def _encode(raw: bytes, safe: str) -> str:
    return quote(raw, safe=safe)


def canonical_path(raw_path: str) -> str:
    """S3's canonical URI: the path as sent, decoded, then encoded once (not normalised)."""
    return _encode(unquote_to_bytes(raw_path), "/~")


def query_pairs(raw_query: str) -> list[tuple[bytes, bytes]]:
    pairs = []
    for item in raw_query.split("&"):
        if not item:
            continue
        key, _, value = item.partition("=")
        pairs.append((unquote_to_bytes(key.replace("+", " ")),
                      unquote_to_bytes(value.replace("+", " "))))
    return pairs


def canonical_query(pairs: Iterable[tuple[bytes, bytes]], exclude: str | None = None) -> str:
    """Sorted ``key=value`` pairs, each URI-encoded; ``exclude`` (X-Amz-Signature) left out."""
    skip = exclude.encode() if exclude else None
    encoded = sorted((_encode(k, "~"), _encode(v, "~")) for k, v in pairs if k != skip)
    return "&".join(f"{k}={v}" for k, v in encoded)


class _HeaderMap(dict[str, str]):
    """The signed headers, lowercase name -> value, in the shape botocore's signer reads."""

    def get_all(self, name: str) -> list[str]:
        return [self[name]]


class _Request:
    """Just what botocore's ``canonical_request`` reads from an AWSRequest."""

    def __init__(self, method: str, path: str, headers: _HeaderMap, payload_hash: str,
                 timestamp: str) -> None:
        self.method = method
        self.url = "http://fakes3" + path
        self.params: dict[str, str] = {}
        self.headers = {"X-Amz-Content-SHA256": payload_hash}
        self.signed = headers
        self.context: dict[str, Any] = {"timestamp": timestamp}


class _Verifying:
    """Mixin: a botocore signer that takes the client's choices instead of making its own."""

    query: str

    def headers_to_sign(self, request: _Request) -> _HeaderMap:  # botocore's hook
        return request.signed

    def canonical_query_string(self, request: _Request) -> str:  # botocore's hook
        return self.query


class _S3Canonical(_Verifying, S3SigV4Auth):
    pass


class _GenericCanonical(_Verifying, SigV4Auth):
    pass


def canonical_request_and_string_to_sign(
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    signed_headers: Iterable[str],
    payload_hash: str,
    timestamp: str,
    scope: Scope,
) -> tuple[str, str]:
    """``path`` is canonical for S3 (see canonical_path) and as sent for other services, whose
    path botocore normalises and encodes a second time, as SigV4 wants."""
    signed = _HeaderMap((name, headers.get(name, "")) for name in signed_headers)
    signer_class = _S3Canonical if scope.service == "s3" else _GenericCanonical
    signer = signer_class(None, scope.service, scope.region)
    signer.query = query
    request: Any = _Request(method, path, signed, payload_hash, timestamp)
    canonical = signer.canonical_request(request)
    return canonical, signer.string_to_sign(request, canonical)


def chunk_string_to_sign(timestamp: str, scope: Scope, previous: str, data: bytes) -> str:
    return "\n".join((CHUNK_ALGORITHM, timestamp, scope.text, previous, EMPTY_SHA256_HASH,
                      hashlib.sha256(data).hexdigest()))


def trailer_string_to_sign(timestamp: str, scope: Scope, previous: str,
                           trailers: Mapping[str, str]) -> str:
    canonical = "".join(f"{name}:{trailers[name].strip()}\n" for name in sorted(trailers))
    return "\n".join((TRAILER_ALGORITHM, timestamp, scope.text, previous,
                      hashlib.sha256(canonical.encode("utf-8")).hexdigest()))


def same_signature(expected: str, provided: str) -> bool:
    """Constant-time comparison that tolerates any text in ``provided``."""
    return hmac.compare_digest(expected.encode(), provided.encode("utf-8", "replace"))
