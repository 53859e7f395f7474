"""ListParts and ListMultipartUploads.

ListMultipartUploads lists in-progress uploads by key, then by initiation time within a key
(S3's order); KeyMarker / UploadIdMarker resume after an upload, and Delimiter rolls keys up into
CommonPrefixes that count toward MaxUploads, as ListObjects does.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any

from fakes3 import checksums
from fakes3.context import RequestContext
from fakes3.s3 import errors, lifecycle, listing, names
from fakes3.s3.model import Backend
from fakes3.s3.multipart_state import Upload, Uploads, uploads_of

Params = dict[str, Any]

MAX_PAGE = 1000


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
        **lifecycle.abort_date(bucket, key, upload.initiated),
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
    enc = listing.encoder(params)
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
        for (_, upload_id), common in listing.roll_up(order, i, prefix, delimiter, key_of=itemgetter(0),
                                                      first_of=lambda key: (key, "")):
            if common is not None and common <= key_marker:
                continue  # a prefix at or before the marker was already listed
            if len(uploads) + len(prefixes) >= limit:
                return uploads, prefixes, True
            if common is None:
                uploads.append(registry.lookup(upload_id))
            else:
                prefixes.append(common)
    return uploads, prefixes, False


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

