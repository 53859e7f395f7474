"""SigV4 arithmetic: canonical request, string to sign, signing keys, chunk and trailer signatures.

The canonical request is built from what the client sent, by SigV4's rules as botocore applies
them (tests hold the two equal): the signed header names the client listed, with their values
trimmed; the path and query as sent, URI-decoded and re-encoded (every byte but
``A-Za-z0-9-_.~`` percent-encoded, ``/`` kept in paths, query pairs sorted), as AWS does on its
side. S3's path is not normalised; other services' path is normalised and encoded a second time.

Everything here runs on every signed request, so the work that repeats is done once: signing
keys per (secret, date, region, service), and each key's HMAC state.
"""

from __future__ import annotations

import calendar
import functools
import hashlib
import hmac
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_tz
from urllib.parse import quote, unquote_to_bytes, urlsplit

from botocore.auth import EMPTY_SHA256_HASH
from botocore.utils import normalize_url_path

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

    @functools.cached_property
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
    """Hex HMAC-SHA256, from a copy of the key's HMAC (see _keyed): cheaper than ``hmac.new``."""
    mac = _keyed(key).copy()
    mac.update(string_to_sign.encode("utf-8"))
    return mac.hexdigest()


@functools.lru_cache(maxsize=4096)
def _keyed(key: bytes) -> hmac.HMAC:
    """An HMAC with the key absorbed, once per key; it is only ever copied, so threads share it."""
    return hmac.new(key, digestmod=hashlib.sha256)


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


# A path of unreserved characters and '/' only decodes and encodes to itself.
_ALREADY_CANONICAL = re.compile(r"[A-Za-z0-9\-._~/]*")


def canonical_path(raw_path: str) -> str:
    """S3's canonical URI: the path as sent, decoded, then encoded once (not normalised)."""
    if _ALREADY_CANONICAL.fullmatch(raw_path):
        return raw_path
    return quote(unquote_to_bytes(raw_path), safe="/~")


@functools.lru_cache(maxsize=256)
def normalized_path(raw_path: str) -> str:
    """Other services' canonical URI, as botocore's SigV4Auth makes it from the path as sent
    (still percent-encoded): normalised (dot and empty segments removed), then encoded again.
    Cached: a JSON service is only ever sent ``/``."""
    return quote(normalize_url_path(urlsplit("http://fakes3" + raw_path).path), safe="/~")


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
    encoded = sorted((quote(k, safe="~"), quote(v, safe="~")) for k, v in pairs if k != skip)
    return "&".join(f"{k}={v}" for k, v in encoded)


def signed_header_names(text: str) -> tuple[str, ...]:
    """A SignedHeaders list (``host;x-amz-date``) as the canonical request has it: lower case,
    sorted, each name once."""
    return tuple(sorted({name.strip().lower() for name in text.split(";") if name.strip()}))


def canonical_request(method: str, path: str, query: str, headers: Mapping[str, str],
                      signed_headers: tuple[str, ...], payload_hash: str) -> str:
    """``path`` and ``query`` canonical already (canonical_path or normalized_path, and
    canonical_query); ``signed_headers`` as signed_header_names gives them, each looked up in
    ``headers`` by its lower-case name and its value trimmed (whitespace runs made one space)."""
    lines = "\n".join([f"{name}:{' '.join(headers.get(name, '').split())}"
                       for name in signed_headers])
    return (f"{method.upper()}\n{path}\n{query}\n{lines}\n\n{';'.join(signed_headers)}\n"
            f"{payload_hash}")


def string_to_sign(timestamp: str, scope: Scope, canonical: str) -> str:
    return (f"{ALGORITHM}\n{timestamp}\n{scope.text}\n"
            f"{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}")


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
