"""ListObjectVersions: every version and delete marker, by key in UTF-8 binary order, newest first.

Like listing.py, a page costs O(page * log n) under the bucket lock: it bisects into the bucket's
SortedList of keys that have any version and jumps over each common prefix. A page holds at most
MaxKeys entries, versions, delete markers and common prefixes together. NextKeyMarker and
NextVersionIdMarker name the last entry returned; the next page starts after it (key-marker alone:
after every version of that key). A version-id-marker the key no longer has still positions the
page: fakes3's version IDs carry their creation order (version_ids.py).

S3's document is one sequence of <Version> and <DeleteMarker> elements in that order (the API
reference's example response: a key's delete marker sits between versions), while botocore's
shape has two lists; the result gives both lists and, for the serializer, the sequence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fakes3.context import RequestContext
from fakes3.protocol import restxml
from fakes3.s3 import errors, listing, version_ids, versioning
from fakes3.s3.model import NULL_VERSION, Backend, Bucket, ObjectVersion

Params = dict[str, Any]


@dataclass
class Page:
    entries: list[tuple[ObjectVersion, bool]] = field(default_factory=list)  # (version, IsLatest)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    last_key: str | None = None
    last_version: str | None = None  # None when the page ended with a common prefix


def list_object_versions(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    prefix = params.get("Prefix") or ""
    delimiter = params.get("Delimiter") or ""
    key_marker = params.get("KeyMarker") or ""
    version_marker = _version_marker(bucket, key_marker, params.get("VersionIdMarker"))
    requested, max_keys = listing.max_keys_param(params)
    enc = listing.encoder(params)
    page = _page(bucket, prefix, delimiter, key_marker, version_marker, max_keys)
    out: Params = {
        "IsTruncated": page.truncated,
        "KeyMarker": enc(key_marker),
        "VersionIdMarker": version_marker or "",
        "Name": bucket.name,
        "Prefix": enc(prefix),
        "MaxKeys": requested,
    }
    if page.truncated and page.last_key is not None:
        out["NextKeyMarker"] = enc(page.last_key)
        if page.last_version is not None:
            out["NextVersionIdMarker"] = page.last_version
    if delimiter:
        out["Delimiter"] = enc(delimiter)
    _add_entries(out, page.entries, enc)
    if page.prefixes:
        out["CommonPrefixes"] = [{"Prefix": enc(p)} for p in page.prefixes]
    if params.get("EncodingType"):
        out["EncodingType"] = "url"
    return out


def _add_entries(out: Params, entries: list[tuple[ObjectVersion, bool]],
                 enc: Callable[[str], str]) -> None:
    """Versions and DeleteMarkers, boto3's two lists, and the one sequence S3's document has:
    <Version> and <DeleteMarker> elements interleaved in listing order (the API reference's
    example response), which the serializer writes from ``restxml.INTERLEAVED``."""
    sequence: list[tuple[str, Params]] = []
    versions: list[Params] = []
    markers: list[Params] = []
    for v, latest in entries:
        if v.delete_marker:
            entry = _marker(v, latest, enc)
            markers.append(entry)
            sequence.append(("DeleteMarkers", entry))
        else:
            entry = _version(v, latest, enc)
            versions.append(entry)
            sequence.append(("Versions", entry))
    if versions:
        out["Versions"] = versions
    if markers:
        out["DeleteMarkers"] = markers
    if versions and markers:  # one kind alone is already in listing order
        out[restxml.INTERLEAVED] = sequence


def _version_marker(bucket: Bucket, key_marker: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not key_marker:
        raise errors.invalid_argument(
            "A version-id marker cannot be specified without a key marker.",
            "version-id-marker", value)
    if value == "":
        raise errors.invalid_argument("A version-id marker cannot be empty.", "version-id-marker", "")
    versioning.check_version_id(bucket, value, "version-id-marker")
    return value


def _version(v: ObjectVersion, latest: bool, enc: Callable[[str], str]) -> Params:
    entry: Params = {"ETag": v.etag}
    if v.checksum_algorithm:
        entry["ChecksumAlgorithm"] = [v.checksum_algorithm]
        entry["ChecksumType"] = v.checksum_type
    entry.update({
        "Size": v.size,
        "StorageClass": v.storage_class,
        "Key": enc(v.key),
        "VersionId": v.version_id,
        "IsLatest": latest,
        "LastModified": v.last_modified,
        "Owner": v.owner.to_dict(),
    })
    return entry


def _marker(v: ObjectVersion, latest: bool, enc: Callable[[str], str]) -> Params:
    return {"Owner": v.owner.to_dict(), "Key": enc(v.key), "VersionId": v.version_id,
            "IsLatest": latest, "LastModified": v.last_modified}


def _newest_first(versions: list[ObjectVersion], after: str | None) -> Iterator[ObjectVersion]:
    """A key's versions, newest first; with ``after``, only those older than that version."""
    ordered = list(reversed(versions))
    if after is None:
        yield from ordered
        return
    index = next((i for i, v in enumerate(ordered) if v.version_id == after), None)
    if index is not None:
        yield from ordered[index + 1:]
        return
    # The marker's version is gone: continue with the versions created before it.
    seq = version_ids.decode(after) if after != NULL_VERSION else None
    if seq is not None:
        yield from (v for v in ordered if v.seq < seq)


def _page(bucket: Bucket, prefix: str, delimiter: str, key_marker: str, version_marker: str | None,
          max_keys: int) -> Page:
    page = Page()
    if max_keys == 0:
        return page  # S3 answers max-keys=0 with an empty, untruncated page
    count = 0
    with bucket.lock:  # one consistent snapshot of the page
        keys = bucket.all_keys
        if version_marker is not None and key_marker >= prefix:
            start = keys.bisect_left(key_marker)  # resume inside the marker's key
        elif key_marker >= prefix:
            start = keys.bisect_right(key_marker)
        else:
            start = keys.bisect_left(prefix)
        for key, common in listing.roll_up(keys, start, prefix, delimiter):
            if common is not None:
                if common <= key_marker:
                    continue  # a prefix at or before the marker was already returned
                if count >= max_keys:
                    page.truncated = True
                    break
                page.prefixes.append(common)
                page.last_key, page.last_version = common, None
                count += 1
                continue
            versions = bucket.versions_of(key)
            latest = versions[-1] if versions else None
            after = version_marker if key == key_marker else None
            for version in _newest_first(versions, after):
                if count >= max_keys:
                    page.truncated = True
                    return page
                page.entries.append((version, version is latest))
                page.last_key, page.last_version = key, version.version_id
                count += 1
    return page
