"""ListParts and ListMultipartUploads.

ListMultipartUploads lists in-progress uploads by key, then by initiation time within a key
(S3's order); KeyMarker / UploadIdMarker resume after an upload, and Delimiter rolls keys up into
CommonPrefixes that count toward MaxUploads, as ListObjects does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fakes3 import checksums
from fakes3.context import RequestContext
from fakes3.s3 import errors, names
from fakes3.s3.model import Backend
from fakes3.s3.multipart_state import Upload, Uploads, uploads_of

Params = dict[str, Any]

MAX_PAGE = 1000
_MAX_CHAR = 0x10FFFF


def list_parts(b: Backend, params: Params, ctx: RequestContext) -> Params:
    key = params["Key"]
    names.check_key(key)
    bucket = b.store.bucket(params["Bucket"])
    upload = uploads_of(bucket).get(params["UploadId"], key)
    requested, limit = _limit(params.get("MaxParts"), "max-parts")
    marker = _integer(params.get("PartNumberMarker"), "part-number-marker")
    after = [p for p in upload.sorted_parts() if p.number > marker]
    page = after[:limit]
    truncated = len(after) > len(page)
    mode = upload.mode
    parts = []
    for part in page:
        entry: Params = {"PartNumber": part.number, "LastModified": part.last_modified,
                         "ETag": part.etag, "Size": part.size}
        if mode.named:
            entry[checksums.param_name(mode.algorithm)] = part.checksums[mode.algorithm]
        parts.append(entry)
    out: Params = {
        "Bucket": bucket.name,
        "Key": key,
        "UploadId": upload.upload_id,
        "PartNumberMarker": marker,
        "NextPartNumberMarker": page[-1].number if page else 0,
        "MaxParts": requested,
        "IsTruncated": truncated,
        "Initiator": upload.owner.to_dict(),
        "Owner": upload.owner.to_dict(),
        "StorageClass": upload.storage_class,
    }
    if parts:
        out["Parts"] = parts
    if mode.named:
        out["ChecksumAlgorithm"] = mode.algorithm
        out["ChecksumType"] = mode.type
    return out


def list_multipart_uploads(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    prefix = params.get("Prefix") or ""
    delimiter = params.get("Delimiter") or ""
    key_marker = params.get("KeyMarker") or ""
    # S3 ignores the upload-id-marker without a key-marker.
    id_marker = (params.get("UploadIdMarker") or "") if key_marker else ""
    requested, limit = _limit(params.get("MaxUploads"), "max-uploads")
    enc = _encoder(params.get("EncodingType"))
    uploads, prefixes, truncated = _page(uploads_of(bucket), prefix, delimiter, key_marker,
                                         id_marker, limit)
    out: Params = {
        "Bucket": bucket.name,
        "KeyMarker": enc(key_marker),
        "UploadIdMarker": id_marker,
        "MaxUploads": requested,
        "IsTruncated": truncated,
    }
    if params.get("Prefix") is not None:
        out["Prefix"] = enc(prefix)
    if delimiter:
        out["Delimiter"] = enc(delimiter)
    last_upload = uploads[-1] if uploads else None
    last_prefix = prefixes[-1] if prefixes else None
    if last_prefix is not None and (last_upload is None or last_prefix > last_upload.key):
        out["NextKeyMarker"] = enc(last_prefix)  # a rolled-up prefix ended the page
    elif last_upload is not None:
        out["NextKeyMarker"] = enc(last_upload.key)
        out["NextUploadIdMarker"] = last_upload.upload_id
    if uploads:
        out["Uploads"] = [_upload_entry(u, enc) for u in uploads]
    if prefixes:
        out["CommonPrefixes"] = [{"Prefix": enc(p)} for p in prefixes]
    if params.get("EncodingType"):
        out["EncodingType"] = "url"
    return out


def _upload_entry(upload: Upload, enc: Callable[[str], str]) -> Params:
    entry: Params = {
        "UploadId": upload.upload_id,
        "Key": enc(upload.key),
        "Initiated": upload.initiated,
        "StorageClass": upload.storage_class,
        "Owner": upload.owner.to_dict(),
        "Initiator": upload.owner.to_dict(),
    }
    if upload.mode.named:
        entry["ChecksumAlgorithm"] = upload.mode.algorithm
        entry["ChecksumType"] = upload.mode.type
    return entry


def _page(
    registry: Uploads, prefix: str, delimiter: str, key_marker: str, id_marker: str, limit: int
) -> tuple[list[Upload], list[str], bool]:
    uploads: list[Upload] = []
    prefixes: list[str] = []
    if limit == 0:
        return uploads, prefixes, False
    with registry.lock:  # one consistent snapshot of the page
        order = registry.order
        if not key_marker:
            i = order.bisect_left((prefix, ""))
        elif id_marker:
            i = order.bisect_right((key_marker, id_marker))
        else:
            i = order.bisect_left((key_marker + "\x00", ""))  # every key after the marker
        i = max(i, order.bisect_left((prefix, "")))
        while i < len(order):
            key, upload_id = order[i]
            if not key.startswith(prefix):
                break  # sorted: past the prefix, nothing further can match
            cut = key.find(delimiter, len(prefix)) if delimiter else -1
            if cut >= 0:
                common = key[: cut + len(delimiter)]
                if common > key_marker:  # a prefix at or before the marker was already listed
                    if len(uploads) + len(prefixes) >= limit:
                        return uploads, prefixes, True
                    prefixes.append(common)
                nxt = _successor(common)
                if nxt is None:
                    break
                i = order.bisect_left((nxt, ""))
                continue
            if len(uploads) + len(prefixes) >= limit:
                return uploads, prefixes, True
            uploads.append(registry.lookup(upload_id))
            i += 1
    return uploads, prefixes, False


def _successor(prefix: str) -> str | None:
    """The least string greater than every string that starts with ``prefix``."""
    chars = list(prefix)
    while chars:
        last = ord(chars.pop())
        if last < _MAX_CHAR:
            return "".join(chars) + chr(last + 1)
    return None


def _integer(value: Any, argument: str) -> int:
    if value is None:
        return 0
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if number < 0:
        raise errors.invalid_argument(
            f"Argument {argument} must be an integer between 0 and 2147483647", argument, value
        )
    return number


def _limit(value: Any, argument: str) -> tuple[int, int]:
    """(the value to echo, the number of entries to return at most)."""
    if value is None:
        return MAX_PAGE, MAX_PAGE
    number = _integer(value, argument)
    return number, min(number, MAX_PAGE)


def _encoder(encoding: str | None) -> Callable[[str], str]:
    if encoding is None:
        return lambda s: s
    if encoding != "url":
        raise errors.invalid_argument(
            "Invalid Encoding Method specified in Request. The only encoding-type is url.",
            "encoding-type",
            encoding,
        )
    return lambda s: quote(s, safe="/")
