"""GetObjectAttributes: an object's ETag, checksum, parts, storage class and size, without its body.

What S3 answers (API reference GetObjectAttributes, GetObjectAttributesParts and ObjectPart; where
they are silent, what S3 was observed to answer, as peers recorded it against AWS):

* ``x-amz-object-attributes`` names the members to return, and only those come back. A name S3 does
  not know is 400 InvalidArgument "Invalid attribute name specified." (ArgumentName
  ``x-amz-object-attributes``, ArgumentValue the name); none is 400 InvalidRequest. Both are
  checked once the bucket is found, before the key is looked up. Empty entries (``ETag,``) are
  skipped.
* ``Last-Modified`` is always sent, ``x-amz-version-id`` whenever GetObject sends it. The ETag is
  sent without its quotes.
* The version is the one GetObject reads, refused as GetObject refuses it: 404 NoSuchKey (with
  ``x-amz-delete-marker`` when the current version is a delete marker), 404 NoSuchVersion, 405
  MethodNotAllowed for a version ID naming a delete marker; an SSE-C object needs its key.
* Checksum: the object's stored checksum and its ChecksumType, when it has one. A COMPOSITE
  checksum is sent without the ``-N`` part count that HeadObject and GetObject append.
* ObjectParts: only for a multipart object (an object stored in one piece has none). With a
  COMPOSITE checksum it is a page of parts, as ListParts gives them: each part's number, size and
  checksum, after ``x-amz-part-number-marker``, at most ``x-amz-max-parts`` (1000 by default).
  With a FULL_OBJECT checksum, or none, it is TotalPartsCount alone.
* StorageClass is sent for every object, STANDARD included (HeadObject leaves STANDARD out).
* An invalid ``x-amz-max-parts`` is ignored, as S3 ignores it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fakes3 import checksums
from fakes3.context import RequestContext
from fakes3.s3 import encryption, errors, names, objects, versioning
from fakes3.s3.blobs import CompositeBlob
from fakes3.s3.model import Backend, ObjectVersion
from fakes3.s3.multipart_checksums import COMPOSITE

Params = dict[str, Any]

ATTRIBUTES = ("ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize")
MAX_PAGE = 1000


def get_object_attributes(b: Backend, params: Params, ctx: RequestContext) -> Params:
    key = params["Key"]
    names.check_key(key)
    bucket = b.store.bucket(params["Bucket"])
    wanted = asked_attributes(params.get("ObjectAttributes"))
    asked_version = params.get("VersionId")
    version = objects.read_version(b, bucket, key, asked_version, versioning.READ)
    encryption.check_key(version.encryption, params)  # SSE-C: only with the object's key
    out: Params = {"LastModified": version.last_modified}
    versioning.add_version_id(out, bucket, version, asked=asked_version is not None)
    if "ETag" in wanted:
        out["ETag"] = version.etag.strip('"')  # SSE-KMS / SSE-C objects: the version's, not the MD5
    if "Checksum" in wanted and version.checksum_algorithm and version.checksum_value:
        out["Checksum"] = object_checksum(version)
    if "ObjectParts" in wanted:
        parts = object_parts(version, params)
        if parts is not None:
            out["ObjectParts"] = parts
    if "StorageClass" in wanted:
        out["StorageClass"] = version.storage_class
    if "ObjectSize" in wanted:
        out["ObjectSize"] = version.size
    return out


def asked_attributes(given: Iterable[str] | str | None) -> frozenset[str]:
    """The attribute names a request asks for, or S3's refusal of the header."""
    if isinstance(given, str):
        given = given.split(",")
    asked = [name.strip() for name in given or () if name and name.strip()]
    if not asked:
        raise errors.invalid_request(
            "The x-amz-object-attributes header specifying the attributes to be retrieved is "
            f"either missing or empty. Name at least one of {', '.join(ATTRIBUTES)}."
        )
    for name in asked:
        if name not in ATTRIBUTES:
            raise errors.invalid_argument(
                f"Invalid attribute name specified. Ask for {', '.join(ATTRIBUTES)}.",
                "x-amz-object-attributes",
                name,
            )
    return frozenset(asked)


def object_checksum(version: ObjectVersion) -> Params:
    assert version.checksum_algorithm is not None and version.checksum_value is not None
    value = version.checksum_value
    if version.checksum_type == COMPOSITE:
        value = value.rsplit("-", 1)[0]  # S3 drops the "-N" here, unlike HeadObject
    return {checksums.param_name(version.checksum_algorithm): value,
            "ChecksumType": version.checksum_type}


def object_parts(version: ObjectVersion, params: Mapping[str, Any]) -> Params | None:
    """ObjectParts for ``version``: None for an object stored in one piece."""
    blob = version.blob
    count = blob.part_count
    if count is None or not isinstance(blob, CompositeBlob):
        return None
    algorithm = version.checksum_algorithm
    if algorithm is None or version.checksum_type != COMPOSITE:
        return {"TotalPartsCount": count}  # S3 lists the parts of COMPOSITE objects only
    echoed, limit = _max_parts(params.get("MaxParts"))
    marker = _part_number_marker(params.get("PartNumberMarker"))
    # The model keeps a completed object's parts in order, numbered 1..N (as GetObject's
    # partNumber reads them), not under the numbers they were uploaded with.
    first = min(marker, count)
    page = blob.segments[first:first + limit]
    name = checksums.param_name(algorithm)
    parts = [{"PartNumber": first + i, "Size": length, name: part.checksum(algorithm)}
             for i, (part, _, length) in enumerate(page, 1)]
    out: Params = {
        "TotalPartsCount": count,
        "PartNumberMarker": marker,
        "NextPartNumberMarker": parts[-1]["PartNumber"] if parts else 0,
        "MaxParts": echoed,
        "IsTruncated": first + len(page) < count,
    }
    if parts:
        out["Parts"] = parts
    return out


def _max_parts(value: Any) -> tuple[int, int]:
    """(the MaxParts to echo, the number of parts to list at most): S3 ignores an invalid value."""
    number = _natural(value)
    if number is None:
        return MAX_PAGE, MAX_PAGE
    return number, min(number, MAX_PAGE)


def _part_number_marker(value: Any) -> int:
    number = _natural(value)
    return 0 if number is None else number


def _natural(value: Any) -> int | None:
    """``value`` as an integer of at least 0, or None when it is absent or is not one."""
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None
