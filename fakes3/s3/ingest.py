"""Receiving a body: stream it into a blob in one pass, enforce the size limit, verify integrity.

Runs outside every model lock: a slow upload holds up nobody. PutObject (and so POST uploads)
and UploadPart use it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from fakes3 import checksums
from fakes3.context import RequestContext
from fakes3.errors import S3Error
from fakes3.s3 import errors
from fakes3.s3.blobs import CHUNK, Blob, BlobStore


class Received(NamedTuple):  # immutable, and cheaper to make than a frozen dataclass
    blob: Blob
    checksum_algorithm: str
    checksum_value: str


def declared_length(params: Mapping[str, Any]) -> int | None:
    """The size the client announced (Content-Length, or the decoded length of aws-chunked)."""
    if params.get("ContentLength") is not None:
        return int(params["ContentLength"])
    length = getattr(params.get("Body"), "length", None)
    return int(length) if length is not None else None


def receive(blobs: BlobStore, params: Mapping[str, Any], max_size: int) -> Received:
    """Store ``params["Body"]`` as a blob, verified against every digest the request carried."""
    want = checksums.requested(params)
    md5 = params.get("ContentMD5")
    sent_md5 = checksums.parse_content_md5(md5) if md5 is not None else None
    declared = declared_length(params)
    if declared is not None and declared > max_size:
        raise errors.entity_too_large(declared, max_size)  # refused before reading a byte
    body: Any = params.get("Body")
    # A request body streams itself (RequestBody, _Tee); anything else boto3 accepts, _chunks reads.
    chunks = body.iter_chunks(CHUNK) if hasattr(body, "iter_chunks") else _chunks(body)
    with blobs.writer([want.algorithm]) as writer:
        for chunk in chunks:
            writer.write(chunk)
            if writer.size > max_size:
                raise errors.entity_too_large(writer.size, max_size)
        if declared is not None and writer.size < declared:
            raise S3Error(
                "IncompleteBody",
                "You did not provide the number of bytes specified by the Content-Length HTTP "
                f"header: {declared} announced, {writer.size} received.",
                400,
            )
        blob = writer.finish()
    try:
        return _verify(blob, want, sent_md5, getattr(body, "trailers", None) or {})
    except S3Error:
        blobs.discard(blob)
        raise


def _verify(
    blob: Blob,
    want: checksums.ChecksumRequest,
    sent_md5: bytes | None,
    trailers: Mapping[str, str],
) -> Received:
    if sent_md5 is not None and sent_md5 != blob.md5:
        raise checksums.md5_mismatch(sent_md5, blob.md5)
    algorithm, expected = want.algorithm, want.expected
    trailer = checksums.trailer_value(trailers)
    if trailer is not None:
        if expected is not None:
            raise S3Error(
                "InvalidRequest",
                "Expecting a single x-amz-checksum- header. Multiple checksum Types are not "
                "allowed.",
            )
        if want.named and trailer[0] != algorithm:
            raise S3Error(
                "BadDigest",
                f"The x-amz-sdk-checksum-algorithm you specified ({algorithm}) does not match "
                f"the trailing checksum you sent ({checksums.header_name(trailer[0])}).",
            )
        algorithm, expected = trailer
    value = blob.checksum(algorithm)
    if expected is not None and expected != value:
        raise checksums.mismatch(algorithm)
    return Received(blob, algorithm, value)


def _chunks(body: Any) -> Iterator[bytes]:
    """Read any other body boto3 would accept: a file-like object, bytes, str or None."""
    if body is None:
        return
    if isinstance(body, bytes | bytearray | memoryview):
        if body:
            yield bytes(body)
        return
    if isinstance(body, str):
        yield body.encode("utf-8")
        return
    while chunk := body.read(CHUNK):
        yield chunk


def require_integrity(params: Mapping[str, Any], ctx: RequestContext) -> None:
    """S3 requires Content-MD5 or an x-amz-checksum-* header on DeleteObjects, PutObjectTagging,
    PutBucketTagging and PutBucketVersioning (botocore's model does not describe all of them; the
    protocol layer has verified the XML body against them)."""
    if params.get("ContentMD5") is not None:
        return
    names = {name.lower() for name in ctx.headers}
    if "content-md5" in names or "x-amz-sdk-checksum-algorithm" in names:
        return
    if any(checksums.header_name(alg) in names for alg in checksums.ALGORITHMS):
        return
    raise errors.invalid_request("Missing required header for this request: Content-MD5 OR x-amz-checksum-*")
