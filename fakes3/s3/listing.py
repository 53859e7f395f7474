"""ListObjects (v1) and ListObjectsV2: pages of keys and common prefixes in UTF-8 binary order.

A page costs O(page * log n): it starts with a bisect into the bucket's SortedList of live keys
and jumps over each common prefix with another bisect, so a delimiter that rolls up a million
keys costs one step, not a million. Python's str order is code point order, which for valid
UTF-8 is byte order: the order S3 lists in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sortedcontainers import SortedList

from fakes3.context import RequestContext
from fakes3.s3 import errors, tokens
from fakes3.s3.model import Backend, Bucket, ObjectVersion

Params = dict[str, Any]

MAX_KEYS = 1000
_MAX_CHAR = 0x10FFFF


@dataclass
class Page:
    contents: list[ObjectVersion]
    prefixes: list[str]
    truncated: bool
    last: str | None  # the last key or common prefix returned: where the next page starts


def list_objects(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    prefix = params.get("Prefix") or ""
    delimiter = params.get("Delimiter") or ""
    marker = params.get("Marker") or ""
    requested, max_keys = max_keys_param(params)
    enc = encoder(params)
    page = _page(bucket, prefix, delimiter, marker, max_keys)
    out: Params = {
        "IsTruncated": page.truncated,
        "Marker": enc(marker),
        "Name": bucket.name,
        # botocore does not URL-decode v1's Prefix, so it is returned as sent.
        "Prefix": prefix,
        "MaxKeys": requested,
    }
    if delimiter:
        out["Delimiter"] = enc(delimiter)
    # S3 sends NextMarker only with a delimiter; without one the last key is the next marker.
    if page.truncated and delimiter and page.last is not None:
        out["NextMarker"] = enc(page.last)
    _add_entries(out, page, enc, with_owner=True)
    if params.get("EncodingType"):
        out["EncodingType"] = "url"
    return out


def list_objects_v2(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    prefix = params.get("Prefix") or ""
    delimiter = params.get("Delimiter") or ""
    start_after = params.get("StartAfter") or ""
    requested, max_keys = max_keys_param(params)
    enc = encoder(params)
    scope = f"ListObjectsV2/{bucket.name}"
    token = params.get("ContinuationToken")
    after = tokens.decode(scope, token) if token is not None else start_after
    page = _page(bucket, prefix, delimiter, after, max_keys)
    out: Params = {
        "IsTruncated": page.truncated,
        "Name": bucket.name,
        "Prefix": enc(prefix),
        "MaxKeys": requested,
        "KeyCount": len(page.contents) + len(page.prefixes),
    }
    if delimiter:
        out["Delimiter"] = enc(delimiter)
    _add_entries(out, page, enc, with_owner=bool(params.get("FetchOwner")))
    if params.get("EncodingType"):
        out["EncodingType"] = "url"
    if token is not None:
        out["ContinuationToken"] = token
    if page.truncated and page.last is not None:
        out["NextContinuationToken"] = tokens.encode(scope, page.last)
    if params.get("StartAfter") is not None:
        out["StartAfter"] = enc(start_after)
    return out


def _add_entries(out: Params, page: Page, enc: Callable[[str], str], *, with_owner: bool) -> None:
    if page.contents:
        out["Contents"] = [_entry(v, enc, with_owner) for v in page.contents]
    if page.prefixes:
        out["CommonPrefixes"] = [{"Prefix": enc(p)} for p in page.prefixes]


def _entry(version: ObjectVersion, enc: Callable[[str], str], with_owner: bool) -> Params:
    entry: Params = {
        "Key": enc(version.key),
        "LastModified": version.last_modified,
        "ETag": version.etag,
    }
    if version.checksum_algorithm:
        entry["ChecksumAlgorithm"] = [version.checksum_algorithm]
        entry["ChecksumType"] = version.checksum_type
    entry["Size"] = version.size
    entry["StorageClass"] = version.storage_class
    if with_owner:
        entry["Owner"] = version.owner.to_dict()
    return entry


def max_keys_param(params: Mapping[str, Any]) -> tuple[int, int]:
    """(the MaxKeys to echo, the number of entries to return at most)."""
    value = params.get("MaxKeys")
    if value is None:
        return MAX_KEYS, MAX_KEYS
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if number < 0:
        raise errors.invalid_argument(
            "Provided max-keys not an integer or within integer range. Use 0 to 1000.",
            "max-keys",
            value,
        )
    return number, min(number, MAX_KEYS)


def encoder(params: Mapping[str, Any]) -> Callable[[str], str]:
    encoding = params.get("EncodingType")
    if encoding is None:
        return lambda s: s
    if encoding != "url":
        raise errors.invalid_argument(
            "Invalid Encoding Method specified in Request. The only encoding-type is url.",
            "encoding-type",
            encoding,
        )
    # botocore decodes with unquote_plus, so '+' must travel as %2B (quote does that).
    return lambda s: quote(s, safe="/")


def successor(prefix: str) -> str | None:
    """The least string greater than every string that starts with ``prefix``."""
    chars = list(prefix)
    while chars:
        last = ord(chars.pop())
        if last < _MAX_CHAR:
            return "".join(chars) + chr(last + 1)
    return None


def _same(entry: Any) -> Any:
    return entry


def roll_up(entries: SortedList, start: int, prefix: str, delimiter: str, *,
            key_of: Callable[[Any], str] = _same,
            first_of: Callable[[str], Any] = _same) -> Iterator[tuple[Any, str | None]]:
    """Walk the sorted ``entries`` from index ``start`` while their keys start with ``prefix``.

    Yields ``(entry, None)`` for an entry listed on its own, and ``(entry, common)`` for the first
    entry under a common prefix that ``delimiter`` rolls up; the walk then resumes past every entry
    under that prefix with one bisect. ``key_of`` is an entry's key; ``first_of(key)`` sorts at
    or before every entry with that key (entries are keys unless told otherwise).
    """
    i = start
    while i < len(entries):
        entry = entries[i]
        key = key_of(entry)
        if not key.startswith(prefix):
            return  # sorted: past the prefix, nothing further can match
        cut = key.find(delimiter, len(prefix)) if delimiter else -1
        if cut < 0:
            yield entry, None
            i += 1
            continue
        common = key[: cut + len(delimiter)]
        yield entry, common
        nxt = successor(common)
        if nxt is None:
            return
        i = entries.bisect_left(first_of(nxt))


def _page(bucket: Bucket, prefix: str, delimiter: str, after: str, max_keys: int) -> Page:
    contents: list[str] = []
    prefixes: list[str] = []
    last: str | None = None
    truncated = False
    if max_keys == 0:
        return Page([], [], False, None)  # S3 answers max-keys=0 with an empty, untruncated page
    with bucket.lock:  # one consistent snapshot of the page; O(page * log n) under the lock
        keys = bucket.keys
        start = keys.bisect_right(after) if after >= prefix else keys.bisect_left(prefix)
        for key, common in roll_up(keys, start, prefix, delimiter):
            if common is not None and common <= after:
                continue  # a prefix at or before the marker was already returned
            if len(contents) + len(prefixes) >= max_keys:
                truncated = True
                break
            if common is None:
                contents.append(key)
                last = key
            else:
                prefixes.append(common)
                last = common
        versions = bucket.versions_at(contents)
    return Page(versions, prefixes, truncated, last)
