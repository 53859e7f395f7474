"""Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload and
AbortMultipartUpload (ListParts and ListMultipartUploads are in multipart_listing.py).

A part is received like a PutObject body (ingest.py: one pass, outside every lock, Content-MD5 and
checksums verified) into its own blob. Completing builds no new body: the object's blob is a
``CompositeBlob`` of the part blobs, so a 1 GiB object costs no extra memory or disk, and parts
left out of the list are released with the upload. The object is published with ``Bucket.put``:
its conditions (If-Match / If-None-Match) are checked under the key's lock, exactly like
PutObject's, and the upload is marked complete in the same step, so a concurrent abort, a second
complete or a delete of the key cannot slip in between.

Behaviour follows the S3 API reference; where it is silent, what S3 is observed to do:

* The object's Last-Modified is the upload's initiation time (S3 User Guide, object metadata).
* The ACL CreateMultipartUpload gives (x-amz-acl, x-amz-grant-*; checked as PutObject checks it)
  is the completed object's; without one the object is private.
* Completing again with the same part list answers the first completion's result (S3 treats a
  retried complete as a success); aborting an upload that was just completed answers 204.
* A delete of the key that removed an object after the upload began makes a complete with
  If-None-Match fail with 409 ConditionalRequestConflict ("Concurrent deletes during multipart
  uploads", S3 User Guide, conditional writes); with If-Match the object is simply gone: 404.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any, cast
from urllib.parse import quote

from fakes3 import checksums
from fakes3.context import RequestContext
from fakes3.errors import S3Error
from fakes3.s3 import (
    access,
    conditions,
    copy,
    encryption,
    errors,
    ingest,
    lifecycle,
    names,
    object_lock,
    objects,
    tagging,
    versioning,
)
from fakes3.s3 import multipart_checksums as mpc
from fakes3.s3.blobs import Blob, BlobStore, BlobWriter, CompositeBlob
from fakes3.s3.model import Backend, Check, ObjectVersion
from fakes3.s3.multipart_state import (
    ACTIVE,
    COMPLETED,
    MAX_PARTS,
    Completion,
    Part,
    Upload,
    new_upload_id,
    no_such_upload,
    uploads_of,
)

Params = dict[str, Any]

MAX_PART_COPY = 5 * 1024**3  # a copied range, like an uploaded part, is at most 5 GiB
_COPY_RANGE = re.compile(r"bytes=(\d+)-(\d+)")


def create_multipart_upload(b: Backend, params: Params, ctx: RequestContext) -> Params:
    key = params["Key"]
    names.check_key(key)
    bucket = b.store.bucket(params["Bucket"])
    storage_class = names.check_storage_class(params.get("StorageClass"))
    metadata = objects.check_metadata(params.get("Metadata"))
    tags = tagging.from_header(params.get("Tagging"))
    grants = access.object_acl(bucket, params, ctx)  # checked now, applied by the complete
    encrypted = encryption.for_write(bucket, params)
    lock = object_lock.for_write(bucket, params, ctx)  # the completed object's
    mode = mpc.mode_for_create(params)
    upload = Upload(
        upload_id=new_upload_id(),
        key=key,
        initiated=ctx.now,
        owner=access.object_owner(bucket, params, ctx),
        mode=mode,
        storage_class=storage_class,
        headers=objects.content_headers(params),
        metadata=metadata,
        tags=tags,
        acl=grants,
        encryption=encrypted,
        object_lock=lock,
    )
    uploads_of(bucket).add(upload)
    out: Params = {"Bucket": bucket.name, "Key": key, "UploadId": upload.upload_id,
                   **encryption.headers(encrypted), **lifecycle.abort_date(bucket, key, upload.initiated)}
    if mode.named:
        out["ChecksumAlgorithm"] = mode.algorithm
        out["ChecksumType"] = mode.type
    return out


def part_number(params: Mapping[str, Any]) -> int:
    value = params.get("PartNumber")
    try:
        number = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = 0
    if not 1 <= number <= MAX_PARTS:
        raise _invalid_part_number(value)
    return number


def _invalid_part_number(value: Any) -> S3Error:
    return errors.invalid_argument(
        f"Part number must be an integer between 1 and {MAX_PARTS}, inclusive", "partNumber", value
    )


class _AlsoHashing:
    """The blob store, with writers that also compute ``extra`` checksums in the same pass: a part
    needs its upload's algorithm (S3's default CRC64NVME included) besides the one the request
    names, and the algorithm of a trailer that is only read at the end of the body."""

    def __init__(self, store: BlobStore, extra: Iterable[str]) -> None:
        self._store = store
        self._extra = tuple(extra)

    def writer(self, algorithms: Iterable[str] = ()) -> BlobWriter:
        return self._store.writer([*algorithms, *self._extra])

    def discard(self, blob: Blob) -> None:
        self._store.discard(blob)


def upload_part(b: Backend, params: Params, ctx: RequestContext) -> Params:
    key = params["Key"]
    names.check_key(key)
    bucket = b.store.bucket(params["Bucket"])
    number = part_number(params)
    upload = uploads_of(bucket).get(params["UploadId"], key)  # before reading a byte
    encryption.check_part_key(upload.encryption, params)
    mode = upload.mode
    announced = mpc.announced(params, ctx.headers)
    mpc.check_part_request(mode, announced)
    if mode.named and announced is None:  # FULL_OBJECT: S3 computes the part's checksum itself
        params = {**params, "ChecksumAlgorithm": mode.algorithm}
    # Hashed while the body streams in: the upload's algorithm, and one a trailer will carry.
    extra = [alg for alg in (mode.algorithm, announced) if alg in checksums.ALGORITHMS]
    got = ingest.receive(cast(BlobStore, _AlsoHashing(b.blobs, extra)), params, b.max_put_size)
    try:
        if mode.named and got.checksum_algorithm != mode.algorithm:  # a trailer not announced
            raise mpc.type_mismatch(mode.algorithm, got.checksum_algorithm)
        sums = {mode.algorithm: got.blob.checksum(mode.algorithm),
                got.checksum_algorithm: got.checksum_value}
        part = Part(number, got.blob, ctx.now, sums, encrypted=upload.encryption is not None)
        upload.add_part(part)
    except S3Error:
        b.blobs.discard(got.blob)
        raise
    return {"ETag": part.etag, checksums.param_name(got.checksum_algorithm): got.checksum_value,
            **encryption.headers(upload.encryption)}


def upload_part_copy(b: Backend, params: Params, ctx: RequestContext) -> Params:
    key = params["Key"]
    names.check_key(key)
    bucket = b.store.bucket(params["Bucket"])
    number = part_number(params)
    upload = uploads_of(bucket).get(params["UploadId"], key)
    encryption.check_part_key(upload.encryption, params)
    src_bucket_name, src_key, src_version = copy.parse_copy_source(params["CopySource"])
    names.check_key(src_key)
    src_bucket = b.store.bucket(src_bucket_name)
    source = versioning.lookup(src_bucket, src_key, src_version, versioning.COPY,
                               "x-amz-copy-source")
    encryption.check_key(source.encryption, params, encryption.COPY_SOURCE_CUSTOMER)
    conditions.check_read(params, source, copy=True)
    copy.check_not_archived(source)
    first, last = _copy_range(params.get("CopySourceRange"), source.size)
    if last - first + 1 > MAX_PART_COPY:
        raise errors.invalid_request(
            "The specified copy source is larger than the maximum allowable size for a copy "
            f"source: {MAX_PART_COPY}. Copy it in several parts with x-amz-copy-source-range."
        )
    algorithm = upload.mode.algorithm
    blob = _copied(source.blob, first, last, algorithm)
    sums = {algorithm: blob.checksum(algorithm)}
    part = Part(number, blob, ctx.now, sums, encrypted=upload.encryption is not None)
    upload.add_part(part)
    result: Params = {"ETag": part.etag, "LastModified": ctx.now.replace(microsecond=0),
                      checksums.param_name(algorithm): sums[algorithm]}
    out = {"CopyPartResult": result, **encryption.headers(upload.encryption)}
    return copy.copied_version_id(out, src_bucket, source, src_version)


def _copy_range(header: str | None, size: int) -> tuple[int, int]:
    if header is None:
        return 0, size - 1
    match = _COPY_RANGE.fullmatch(header.strip())
    if match is None or int(match.group(1)) > int(match.group(2)):
        raise errors.invalid_argument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first "
            "and last are the zero-based offsets of the first and last bytes to copy",
            "x-amz-copy-source-range",
            header,
        )
    first, last = int(match.group(1)), int(match.group(2))
    if last >= size:
        raise errors.invalid_argument(
            f"Range specified is not valid for source object of size: {size}",
            "x-amz-copy-source-range",
            header,
        )
    return first, last


def _copied(source: Blob, first: int, last: int, algorithm: str) -> Blob:
    """The copied bytes, as a view of the source's blob (no byte is copied); its MD5 and
    checksum take one pass over the range, unless the whole of a one-piece blob is copied."""
    if first == 0 and last == source.size - 1 and not isinstance(source, CompositeBlob):
        source.checksum(algorithm)  # computed on write in the common case
        return source
    md5 = hashlib.md5()
    hasher = checksums.new_hasher(algorithm)
    for chunk in source.iter_range(first, last):
        md5.update(chunk)
        hasher.update(chunk)
    sums = {algorithm: checksums.encode(hasher.digest())}
    return CompositeBlob([(source, first, last - first + 1)], md5=md5.digest(), checksums=sums)


class _AlreadyCompleted(Exception):
    def __init__(self, completion: Completion) -> None:
        super().__init__("completed")
        self.completion = completion


def complete_multipart_upload(b: Backend, params: Params, ctx: RequestContext) -> Params:
    key = params["Key"]
    names.check_key(key)
    bucket = b.store.bucket(params["Bucket"])
    upload_id = params["UploadId"]
    uploads = uploads_of(bucket)
    requested = (params.get("MultipartUpload") or {}).get("Parts") or []
    if not requested:
        raise errors.malformed_xml("CompleteMultipartUpload must list at least one Part.")
    listed = tuple((_listed_number(p), str(p.get("ETag") or "").strip('"')) for p in requested)
    condition = conditions.write_check(params, key)
    done = uploads.completed(upload_id, key)
    if done is not None:
        return _replay(done, listed, upload_id)
    upload = uploads.get(upload_id, key)
    mode = upload.mode
    sent = mpc.check_complete_request(mode, params)
    parts = _select(upload, requested, listed, b.min_part_size)
    size = sum(p.size for p in parts)
    _check_object_size(params.get("MpuObjectSize"), size)
    value = mpc.object_checksum(mode, [(p.checksums, p.size) for p in parts])
    mpc.verify_object_checksum(mode, sent, value)
    version = _assembled(upload, parts, value)
    result: Params = {
        "Location": _location(ctx, bucket.name, key),
        "Bucket": bucket.name,
        "Key": key,
        "ETag": version.etag,
        checksums.param_name(mode.algorithm): value,
        "ChecksumType": mode.type,
        **encryption.headers(upload.encryption, customer=False),
    }
    completion = Completion(key, listed, result)

    def published(stored: ObjectVersion) -> None:
        # Under the key's lock: a retried complete replays the result with its version ID.
        versioning.add_version_id(result, bucket, stored)

    try:
        bucket.put(version, _completing(upload, condition, params.get("IfNoneMatch"), completion),
                   published)
    except _AlreadyCompleted as already:
        return _replay(already.completion, listed, upload_id)
    uploads.finish(upload)
    return dict(result)


def _assembled(upload: Upload, parts: list[Part], value: str) -> ObjectVersion:
    """The object the upload completes into: a ``CompositeBlob`` of its parts (no byte is copied),
    with the upload's metadata and ``value``, the object's checksum."""
    mode = upload.mode
    md5 = hashlib.md5(b"".join(p.blob.md5 for p in parts)).digest()
    full = {mode.algorithm: value} if mode.type == mpc.FULL_OBJECT else {}
    blob = CompositeBlob([(p.blob, 0, p.size) for p in parts], md5=md5, checksums=full,
                         multipart=True)
    return ObjectVersion(
        key=upload.key,
        blob=blob,
        last_modified=upload.initiated.replace(microsecond=0),
        owner=upload.owner,
        metadata=upload.metadata,
        checksum_algorithm=mode.algorithm if mode.named else None,
        checksum_value=value if mode.named else None,
        checksum_type=mode.type,
        storage_class=upload.storage_class,
        tags=upload.tags,
        acl=upload.acl,
        encryption=upload.encryption,
        object_lock=upload.object_lock,
        **upload.headers,
    )


def _listed_number(part: Mapping[str, Any]) -> int:
    try:
        return int(part["PartNumber"])
    except (KeyError, TypeError, ValueError):
        raise errors.malformed_xml("Every Part must have a PartNumber.") from None


def _replay(done: Completion, listed: tuple[tuple[int, str], ...], upload_id: str) -> Params:
    if done.parts != listed:
        raise no_such_upload(upload_id)
    return dict(done.result)


def _select(
    upload: Upload, requested: list[Mapping[str, Any]], listed: tuple[tuple[int, str], ...],
    min_part_size: int,
) -> list[Part]:
    """The listed parts, in order, checked as S3 checks them."""
    previous = 0
    for number, _ in listed:
        if not 1 <= number <= MAX_PARTS:
            raise _invalid_part_number(number)
        if number <= previous:
            raise S3Error(
                "InvalidPartOrder",
                "The list of parts was not in ascending order. The parts list must be specified "
                "in order by part number.",
                400,
                fields={"UploadId": upload.upload_id},
            )
        previous = number
    with upload.lock:
        stored = dict(upload.parts)
    chosen: list[Part] = []
    for (number, etag), wanted in zip(listed, requested, strict=True):
        part = stored.get(number)
        if part is None or part.etag.strip('"') != etag:
            raise mpc.invalid_part(upload.upload_id, number, wanted.get("ETag"))
        mpc.check_complete_part(upload.mode, upload.upload_id, wanted, part.checksums)
        chosen.append(part)
    for part in chosen[:-1]:
        if part.size < min_part_size:
            raise S3Error(
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed object size. Every part "
                f"but the last must be at least {min_part_size} bytes.",
                400,
                fields={"ProposedSize": part.size, "MinSizeAllowed": min_part_size,
                        "PartNumber": part.number, "ETag": part.etag},
            )
    return chosen


def _check_object_size(declared: Any, size: int) -> None:
    if declared is None:
        return
    if int(declared) < 0:
        raise errors.invalid_request(
            f"Value for x-amz-mp-object-size header is less than zero: '{declared}'"
        )
    if int(declared) != size:
        raise errors.invalid_request(
            f"The provided 'x-amz-mp-object-size' header value {declared} does not match what "
            f"was computed: {size}"
        )


def _completing(upload: Upload, condition: Check | None, if_none_match: str | None,
                completion: Completion) -> Check:
    """The check ``Bucket.put`` runs under the key's lock: the upload is still in progress, the
    write's conditions hold, and no delete won the race; then the upload is marked complete."""

    def check(current: ObjectVersion | None) -> None:
        with upload.lock:
            if upload.state == COMPLETED and upload.completion is not None:
                raise _AlreadyCompleted(upload.completion)
            if upload.state != ACTIVE:
                raise no_such_upload(upload.upload_id)
            if condition is not None:
                condition(current)
                if if_none_match is not None and upload.conflicted:
                    raise S3Error(
                        "ConditionalRequestConflict",
                        "A conflicting operation occurred. If using PutObject you can retry the "
                        "request. If using multipart upload you should initiate another "
                        "CreateMultipartUpload request and re-upload each part.",
                        409,
                        fields={"Key": upload.key},
                    )
            upload.state = COMPLETED
            upload.completion = completion

    return check


def _location(ctx: RequestContext, bucket: str, key: str) -> str:
    path = quote(key, safe="/~")
    host = next((v for k, v in ctx.headers.items() if k.lower() == "host"), None)
    if not host:
        return f"https://{bucket}.s3.{ctx.region}.amazonaws.com/{path}"
    if host.lower().startswith(bucket.lower() + "."):  # virtual-hosted style
        return f"http://{host}/{path}"
    return f"http://{host}/{bucket}/{path}"


def abort_multipart_upload(b: Backend, params: Params, ctx: RequestContext) -> Params:
    key = params["Key"]
    names.check_key(key)
    bucket = b.store.bucket(params["Bucket"])
    uploads_of(bucket).abort(params["UploadId"], key, params.get("IfMatchInitiatedTime"))
    return {}
