"""CopyObject: a new version that shares the source's immutable blob (no bytes are copied).

The source may name a version (``?versionId=``, checked as versioning.py describes); the new version
gets the destination bucket's versioning, and its tags are the source's (TaggingDirective COPY, the
default) or the request's ``x-amz-tagging`` (REPLACE). The source's ACL is never copied: the copy
gets the ACL the request gives (x-amz-acl or x-amz-grant-*), else ``private`` (S3 API reference,
CopyObject's x-amz-acl: "the ACL metadata is not preserved and is set to private by default").
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote

from fakes3 import checksums
from fakes3.context import RequestContext
from fakes3.errors import S3Error
from fakes3.s3 import (
    access,
    conditions,
    encryption,
    errors,
    names,
    object_lock,
    objects,
    tagging,
    versioning,
)
from fakes3.s3.model import NULL_VERSION, Backend, Bucket, ObjectVersion

Params = dict[str, Any]

MAX_COPY_SOURCE = 5 * 1024**3  # S3's single-request copy limit; larger needs UploadPartCopy
_SELF_COPY = (
    "This copy request is illegal because it is trying to copy an object to itself without "
    "changing the object's metadata, storage class, website redirect location or encryption "
    "attributes."
)


def parse_copy_source(value: Any) -> tuple[str, str, str | None]:
    """(bucket, key, version id) from ``bucket/key[?versionId=...]`` (URL-encoded) or a dict."""
    if isinstance(value, dict):
        bucket, key, version = value.get("Bucket"), value.get("Key"), value.get("VersionId")
    else:
        text = str(value)
        path, _, query = text.partition("?")
        version = None
        if query:
            found = parse_qs(query, keep_blank_values=True).get("versionId")
            version = found[0] if found else None
        bucket, _, key = unquote(path).lstrip("/").partition("/")
    if not bucket or not key:
        raise errors.invalid_argument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            "x-amz-copy-source",
            value,
        )
    return bucket, key, version


def copy_object(b: Backend, params: Params, ctx: RequestContext) -> Params:
    key = params["Key"]
    names.check_key(key)
    dest = b.store.bucket(params["Bucket"])
    src_bucket_name, src_key, src_version = parse_copy_source(params["CopySource"])
    names.check_key(src_key)
    directive = _directive(params, "MetadataDirective", "metadata")
    storage_class = names.check_storage_class(params.get("StorageClass"))
    tags_directive = _directive(params, "TaggingDirective", "tagging")
    # COPY (the default) keeps the source's tags and ignores x-amz-tagging.
    new_tags = tagging.from_header(params.get("Tagging")) if tags_directive == "REPLACE" else {}
    grants = access.object_acl(dest, params, ctx)  # as PutObject's: checked before the source
    src_bucket = b.store.bucket(src_bucket_name)
    source = versioning.lookup(src_bucket, src_key, src_version, versioning.COPY,
                               "x-amz-copy-source", _unknown_source_version)
    encryption.check_key(source.encryption, params, encryption.COPY_SOURCE_CUSTOMER)
    conditions.check_read(params, source, copy=True)
    _check_source(source)
    same_object = (src_bucket_name == dest.name and src_key == key
                   and src_version in (None, NULL_VERSION))
    if same_object and not _changes_something(params, directive, source):
        raise errors.invalid_request(_SELF_COPY)
    check = conditions.write_check(params, key)
    # The copy is encrypted as the request or the destination bucket says, not as its source.
    encrypted = encryption.for_write(dest, params)
    lock = object_lock.for_write(dest, params, ctx)  # the request's or the bucket's, never the source's

    headers, metadata = _representation(params, directive, source)
    algorithm, value = _checksum(params, source)
    version = ObjectVersion(
        key=key,
        blob=source.blob,
        last_modified=ctx.now.replace(microsecond=0),
        owner=access.object_owner(dest, params, ctx),
        metadata=metadata,
        checksum_algorithm=algorithm,
        checksum_value=value,
        storage_class=storage_class,
        tags=dict(source.tags) if tags_directive == "COPY" else new_tags,
        acl=grants,
        encryption=encrypted,
        object_lock=lock,
        **headers,
    )
    stored = dest.put(version, check)
    result: Params = {"ETag": version.etag, "LastModified": version.last_modified}
    if algorithm is not None:
        result["ChecksumType"] = version.checksum_type
        result[checksums.param_name(algorithm)] = value
    out: Params = {"CopyObjectResult": result, **encryption.headers(encrypted)}
    copied_version_id(out, src_bucket, source, src_version)
    return versioning.add_version_id(out, dest, stored)


def _directive(params: Params, member: str, what: str) -> str:
    """MetadataDirective / TaggingDirective: COPY (the default) or REPLACE."""
    value = params.get(member) or "COPY"
    if value not in ("COPY", "REPLACE"):
        raise errors.invalid_argument(
            f"Unknown {what} directive. Use COPY or REPLACE.", f"x-amz-{what}-directive", value,
        )
    return value


def _representation(params: Params, directive: str, source: ObjectVersion) -> tuple[Params, dict[str, str]]:
    """The copy's representation headers and metadata: the request's (REPLACE), or the source's
    (COPY: the request's are ignored)."""
    if directive == "REPLACE":
        return objects.content_headers(params), objects.check_metadata(params.get("Metadata"))
    headers = {
        "content_type": source.content_type,
        "content_encoding": source.content_encoding,
        "content_disposition": source.content_disposition,
        "content_language": source.content_language,
        "cache_control": source.cache_control,
        "expires": source.expires,
        # S3 never copies the website redirect: it is per object.
        "website_redirect_location": params.get("WebsiteRedirectLocation"),
    }
    return headers, dict(source.metadata)


def copied_version_id(out: Params, bucket: Bucket, source: ObjectVersion,
                      asked: str | None) -> Params:
    """x-amz-copy-source-version-id: the source's version, when its bucket has versioning or the
    request named one."""
    return versioning.add_version_id(out, bucket, source, asked is not None, "CopySourceVersionId")


def _unknown_source_version(version_id: str) -> S3Error:
    # S3 answers a bare "Invalid Request" here (UploadPartCopy: InvalidArgument, as elsewhere).
    return errors.invalid_request(
        f"Invalid Request. The versionId of x-amz-copy-source, {version_id!r}, is not a version ID "
        "S3 issued."
    )


def check_not_archived(source: ObjectVersion) -> None:
    """A copy source in an archive storage class must be restored first (CopyObject, UploadPartCopy)."""
    if source.storage_class in names.ARCHIVED:
        raise S3Error(
            "InvalidObjectState",
            "The operation is not valid for the source object's storage class. Restore the "
            "object before copying it.",
            403,
            fields={"StorageClass": source.storage_class},
        )


def _check_source(source: ObjectVersion) -> None:
    check_not_archived(source)
    if source.size > MAX_COPY_SOURCE:
        raise errors.invalid_request(
            "The specified copy source is larger than the maximum allowable size for a copy "
            f"source: {MAX_COPY_SOURCE}. Copy it with UploadPartCopy in a multipart upload."
        )


def _changes_something(params: Params, directive: str, source: ObjectVersion) -> bool:
    storage_class = params.get("StorageClass")
    return (
        directive == "REPLACE"
        or (storage_class is not None and storage_class != source.storage_class)
        or params.get("WebsiteRedirectLocation") is not None
        or not encryption.WRITE_PARAMS.isdisjoint(params)
    )


def _checksum(params: Params, source: ObjectVersion) -> tuple[str | None, str | None]:
    """The copy keeps the source's checksum, or computes the one ChecksumAlgorithm names."""
    wanted = params.get("ChecksumAlgorithm")
    if wanted is None:
        return source.checksum_algorithm, source.checksum_value
    wanted = str(wanted).upper()
    if wanted not in checksums.ALGORITHMS:
        raise errors.invalid_request(
            "Value for x-amz-checksum-algorithm header is invalid. Use one of "
            f"{', '.join(sorted(checksums.ALGORITHMS))}."
        )
    return wanted, source.blob.checksum(wanted)
