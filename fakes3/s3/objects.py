"""Object operations: PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects.

Versions, delete markers and version IDs are versioning.py's; tags are tagging.py's.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

from fakes3.context import RequestContext
from fakes3.errors import S3Error
from fakes3.s3 import (
    access,
    acl,
    conditions,
    encryption,
    errors,
    ingest,
    lifecycle,
    names,
    object_lock,
    ranges,
    tagging,
    versioning,
)
from fakes3.s3.blobs import Blob
from fakes3.s3.model import MISSING, NULL_VERSION, Backend, Bucket, Check, ObjectVersion

Params = dict[str, Any]

MAX_METADATA_BYTES = 2048
MAX_DELETE_KEYS = 1000

# GetObject's response-* overrides: request member -> the header member it replaces.
_OVERRIDES = {
    "ResponseContentType": "ContentType",
    "ResponseContentDisposition": "ContentDisposition",
    "ResponseContentEncoding": "ContentEncoding",
    "ResponseContentLanguage": "ContentLanguage",
    "ResponseCacheControl": "CacheControl",
    "ResponseExpires": "Expires",
}
_OVERRIDE_NAMES = frozenset(_OVERRIDES)
# PutObject's members that ask for a storage class, metadata, tags, an ACL or a condition.
_PUT_OPTIONS = frozenset({"StorageClass", "Metadata", "Tagging", "IfMatch", "IfNoneMatch",
                          *acl.ACL_PARAMS})


def put_object(b: Backend, params: Params, ctx: RequestContext) -> Params:
    key = params["Key"]
    names.check_key(key)
    bucket = b.store.bucket(params["Bucket"])
    get = params.get
    grants: acl.Acl
    check: Check | None
    if _PUT_OPTIONS.isdisjoint(params):  # the common PUT: what each check below gives for none
        storage_class, metadata, tags, grants, check = "STANDARD", {}, {}, (), None
    else:
        storage_class = names.check_storage_class(get("StorageClass"))
        metadata = check_metadata(get("Metadata"))
        tags = tagging.from_header(get("Tagging"))
        grants = access.object_acl(bucket, params, ctx)  # x-amz-acl / x-amz-grant-*
        check = conditions.write_check(params, key)
    encrypted = encryption.for_write(bucket, params)
    lock = object_lock.for_write(bucket, params, ctx)
    if lock is not None:  # S3 wants an integrity check on a write that a lock will keep
        ingest.require_integrity(params, ctx)
    got = ingest.receive(b.blobs, params, b.max_put_size)  # outside every lock
    version = ObjectVersion(
        key=key,
        blob=got.blob,
        last_modified=whole_seconds(ctx.now),
        # inlined for the bucket owner's PUT; another account's depends on Object Ownership
        owner=(bucket.owner if ctx.account_id == bucket.account_id
               else access.object_owner(bucket, params, ctx)),
        # The stored representation headers, as content_headers() gives them (inlined: per PUT).
        content_type=get("ContentType") or "binary/octet-stream",
        content_encoding=get("ContentEncoding"),
        content_disposition=get("ContentDisposition"),
        content_language=get("ContentLanguage"),
        cache_control=get("CacheControl"),
        expires=get("Expires"),
        website_redirect_location=get("WebsiteRedirectLocation"),
        metadata=metadata,
        checksum_algorithm=got.checksum_algorithm,
        checksum_value=got.checksum_value,
        storage_class=storage_class,
        tags=tags,
        acl=grants,
        encryption=encrypted,
        object_lock=lock,
    )
    stored = bucket.put(version, check)
    out = {
        "ETag": version.etag,
        "Checksum" + got.checksum_algorithm: got.checksum_value,  # checksums.param_name
        "ChecksumType": version.checksum_type,
        **encryption.headers(encrypted),
    }
    if bucket.lifecycle is not None:
        _add_expiration(out, bucket, stored)
    return versioning.add_version_id(out, bucket, stored)


def _add_expiration(out: Params, bucket: Bucket, version: ObjectVersion) -> None:
    """x-amz-expiration: when a lifecycle rule will expire the current version, and which."""
    expiration = lifecycle.expiration_header(bucket, version)
    if expiration is not None:
        out["Expiration"] = expiration


def whole_seconds(when: dt.datetime) -> dt.datetime:
    """``when.replace(microsecond=0)`` (S3's Last-Modified has whole seconds), twice as fast."""
    if not when.microsecond:
        return when
    if when.fold or type(when) is not dt.datetime:
        return when.replace(microsecond=0)
    return dt.datetime(when.year, when.month, when.day, when.hour, when.minute, when.second, 0,
                       when.tzinfo)


def content_headers(params: Mapping[str, Any]) -> dict[str, Any]:
    """The stored representation headers of a PUT (or of a CopyObject with REPLACE)."""
    return {
        # S3 stores binary/octet-stream when a PUT sends no Content-Type.
        "content_type": params.get("ContentType") or "binary/octet-stream",
        "content_encoding": params.get("ContentEncoding"),
        "content_disposition": params.get("ContentDisposition"),
        "content_language": params.get("ContentLanguage"),
        "cache_control": params.get("CacheControl"),
        "expires": params.get("Expires"),
        "website_redirect_location": params.get("WebsiteRedirectLocation"),
    }


def check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    if not metadata:
        return {}
    meta = {str(k).lower(): str(v) for k, v in metadata.items()}
    size = sum(len(k.encode("utf-8")) + len(v.encode("utf-8")) for k, v in meta.items())
    if size > MAX_METADATA_BYTES:
        raise S3Error(
            "MetadataTooLarge",
            "Your metadata headers exceed the maximum allowed metadata size. User metadata "
            f"(x-amz-meta-* names and values) may total {MAX_METADATA_BYTES} bytes; "
            f"this request has {size}.",
            400,
            fields={"Size": size, "MaxSizeAllowed": MAX_METADATA_BYTES},
        )
    return meta


def get_object(b: Backend, params: Params, ctx: RequestContext) -> Params:
    return _read(b, params, ctx, with_body=True)


def head_object(b: Backend, params: Params, ctx: RequestContext) -> Params:
    return _read(b, params, ctx, with_body=False)


def _read(b: Backend, params: Params, ctx: RequestContext, *, with_body: bool) -> Params:
    key = params["Key"]
    names.check_key(key)
    bucket = b.store.bucket(params["Bucket"])
    get = params.get
    asked = get("VersionId")
    version = read_version(b, bucket, key, asked, versioning.READ if with_body else versioning.HEAD)
    encryption.check_key(version.encryption, params)  # SSE-C: only with the object's key
    conditions.check_read(params, version)
    if with_body and version.storage_class in names.ARCHIVED:
        raise S3Error(
            "InvalidObjectState",
            "The operation is not valid for the object's storage class. Restore the object "
            "before reading it.",
            403,
            fields={"StorageClass": version.storage_class},
        )
    overrides = _overrides(params, ctx)
    blob = version.blob
    size = blob.size
    part = get("PartNumber")
    served = _served_range(params, blob) if part is not None or get("Range") is not None else None
    out = object_headers(version)
    out["ContentLength"] = served.length if served is not None else size
    if part is not None and blob.part_count is not None:
        out["PartsCount"] = blob.part_count  # x-amz-mp-parts-count: multipart objects
    if served is not None:
        out["ContentRange"] = served.content_range(size)
    elif version.checksum_algorithm and get("ChecksumMode") == "ENABLED":
        # A full-object checksum only describes the whole body: never sent with a range.
        out["Checksum" + version.checksum_algorithm] = version.checksum_value  # param_name
        out["ChecksumType"] = version.checksum_type
    if asked is not None or bucket.versioning is not None or version.version_id != NULL_VERSION:
        out["VersionId"] = version.version_id  # versioning.add_version_id, inlined
    if version.tags:
        out["TagCount"] = len(version.tags)  # x-amz-tagging-count: sent only for tagged objects
    if bucket.lifecycle is not None and asked is None:
        _add_expiration(out, bucket, version)
    if overrides:
        out.update(overrides)
    if with_body:
        start, end = (served.start, served.end) if served is not None else (0, size - 1)
        out["Body"] = blob.iter_range(start, end)
    return out


def read_version(b: Backend, bucket: Bucket, key: str, asked: str | None, method: str) -> ObjectVersion:
    """The version a read serves: the one asked for, else the current one as fault injection
    shows it (a stale or torn read), refused as ``versioning.lookup`` refuses it."""
    hook = b.store.read_hook
    view = hook(bucket.name, key) if hook is not None and asked is None else None
    if view is MISSING:
        raise errors.no_such_key(key)
    if isinstance(view, ObjectVersion):
        return view
    return versioning.lookup(bucket, key, asked, method)


def _served_range(params: Mapping[str, Any], blob: Blob) -> ranges.ByteRange | None:
    part = params.get("PartNumber")
    if part is None:
        return ranges.resolve(params.get("Range"), blob.size)
    if params.get("Range") is not None:
        raise errors.invalid_request(
            "Cannot specify both Range header and partNumber query parameter. Send one of them."
        )
    number = int(part)
    if not 1 <= number <= 10_000:
        raise errors.invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive", "partNumber", part
        )
    count = blob.part_count or 1  # a multipart object's parts; any other object is one part
    if number > count:
        raise S3Error(
            "InvalidPartNumber",
            f"The requested partnumber is not satisfiable. This object has {count} "
            f"part{'s' if count != 1 else ''}.",
            416,
            fields={"PartNumberRequested": part, "ActualPartCount": count},
        )
    first, last = blob.part_bounds(number)
    return ranges.ByteRange(first, last) if last >= first else None


_OPTIONAL_HEADERS = (
    ("content_encoding", "ContentEncoding"),
    ("content_disposition", "ContentDisposition"),
    ("content_language", "ContentLanguage"),
    ("cache_control", "CacheControl"),
    ("expires", "Expires"),
    ("website_redirect_location", "WebsiteRedirectLocation"),
)


def object_headers(version: ObjectVersion) -> Params:
    """The headers GET and HEAD share (no length, range or checksum)."""
    out: Params = {
        "AcceptRanges": "bytes",
        "LastModified": version.last_modified,
        "ETag": version.etag,
        "ContentType": version.content_type,
        "Metadata": dict(version.metadata) if version.metadata else {},
        **encryption.headers(version.encryption),
    }
    if version.object_lock is not None:
        out.update(object_lock.headers(version.object_lock))
    for attr, name in _OPTIONAL_HEADERS:  # each only when set
        value = getattr(version, attr)
        if value is not None:
            out[name] = value
    if version.storage_class != "STANDARD":  # S3 omits the header for STANDARD
        out["StorageClass"] = version.storage_class
    return out


def _overrides(params: Mapping[str, Any], ctx: RequestContext) -> Params:
    if _OVERRIDE_NAMES.isdisjoint(params):  # the common case: no response-* parameter at all
        return {}
    given = {header: params[name] for name, header in _OVERRIDES.items()
             if params.get(name) is not None}
    if given and ctx.account_id == "anonymous":
        raise errors.invalid_request(
            "Request specific response headers cannot be used for anonymous GET requests. "
            "Sign the request to use response-* overrides."
        )
    return given


def delete_object(b: Backend, params: Params, ctx: RequestContext) -> Params:
    key = params["Key"]
    names.check_key(key)
    bucket = b.store.bucket(params["Bucket"])
    check = conditions.delete_check(params.get("IfMatch"), params.get("IfMatchLastModifiedTime"),
                                    params.get("IfMatchSize"), key)
    # Deleting a missing key or version is a success (204), as in S3.
    return versioning.delete(bucket, key, params.get("VersionId"), check, ctx,
                             object_lock.guard(bucket, params, ctx))


def delete_objects(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    ingest.require_integrity(params, ctx)
    delete = params.get("Delete") or {}
    objects = delete.get("Objects") or []
    if not objects:
        raise errors.malformed_xml("A Delete request must name at least one Object.")
    if len(objects) > MAX_DELETE_KEYS:
        raise errors.malformed_xml(
            f"A Delete request may name at most {MAX_DELETE_KEYS} objects; this one names "
            f"{len(objects)}. Split it into several requests."
        )
    quiet = bool(delete.get("Quiet"))
    protect = object_lock.guard(bucket, params, ctx)
    deleted: list[Params] = []
    failed: list[Params] = []
    for ident in objects:
        key = ident.get("Key", "")
        version_id = ident.get("VersionId")
        try:
            names.check_key(key)
            check = conditions.delete_check(ident.get("ETag"), ident.get("LastModifiedTime"),
                                            ident.get("Size"), key)
            # S3 reports a version ID of a format it never issues as a version that does not exist.
            versioning.check_version_id(bucket, version_id,
                                        malformed=functools.partial(errors.no_such_version, key))
            result = versioning.delete(bucket, key, version_id, check, ctx, protect)
        except S3Error as err:
            entry = {"Key": key, "Code": err.code, "Message": err.message}
            if version_id is not None:
                entry["VersionId"] = version_id
            failed.append(entry)
            continue
        if not quiet:  # Quiet mode reports only the failures
            deleted.append(versioning.deleted_entry(key, version_id, result))
    out: Params = {}
    if deleted:
        out["Deleted"] = deleted
    if failed:
        out["Errors"] = failed
    return out
