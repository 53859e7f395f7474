"""S3Service: the S3 semantics behind one endpoint, dispatching by botocore operation name.

Handlers take the dict ``boto3.client("s3").<operation>(**params)`` takes and return the dict
boto3 would return; errors are ``fakes3.errors.S3Error``. Nothing here knows about HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fakes3.context import RequestContext
from fakes3.errors import not_implemented
from fakes3.s3 import (
    buckets,
    copy,
    listing,
    multipart,
    multipart_listing,
    objects,
    tagging,
    version_listing,
    versioning,
)
from fakes3.s3.blobs import BlobStore
from fakes3.s3.model import Backend, FaultHook, Store

Operation = Callable[[Backend, dict[str, Any], RequestContext], dict[str, Any]]

_OPERATIONS: dict[str, Operation] = {
    "CreateBucket": buckets.create_bucket,
    "DeleteBucket": buckets.delete_bucket,
    "HeadBucket": buckets.head_bucket,
    "ListBuckets": buckets.list_buckets,
    "GetBucketLocation": buckets.get_bucket_location,
    "PutObject": objects.put_object,
    "GetObject": objects.get_object,
    "HeadObject": objects.head_object,
    "DeleteObject": objects.delete_object,
    "DeleteObjects": objects.delete_objects,
    "CopyObject": copy.copy_object,
    "ListObjects": listing.list_objects,
    "ListObjectsV2": listing.list_objects_v2,
    "CreateMultipartUpload": multipart.create_multipart_upload,
    "UploadPart": multipart.upload_part,
    "UploadPartCopy": multipart.upload_part_copy,
    "CompleteMultipartUpload": multipart.complete_multipart_upload,
    "AbortMultipartUpload": multipart.abort_multipart_upload,
    "ListParts": multipart_listing.list_parts,
    "ListMultipartUploads": multipart_listing.list_multipart_uploads,
    "PutBucketVersioning": versioning.put_bucket_versioning,
    "GetBucketVersioning": versioning.get_bucket_versioning,
    "ListObjectVersions": version_listing.list_object_versions,
    "PutObjectTagging": tagging.put_object_tagging,
    "GetObjectTagging": tagging.get_object_tagging,
    "DeleteObjectTagging": tagging.delete_object_tagging,
    "PutBucketTagging": tagging.put_bucket_tagging,
    "GetBucketTagging": tagging.get_bucket_tagging,
    "DeleteBucketTagging": tagging.delete_bucket_tagging,
}


class S3Service:
    """One S3 endpoint's state: buckets, objects and their blobs. Thread-safe."""

    operations: frozenset[str] = frozenset(_OPERATIONS)

    def __init__(
        self,
        *,
        region: str = "us-east-1",
        spill_threshold: int = 1 << 20,
        blob_dir: str | None = None,
        max_put_size: int = 5 * 1024**3,
        min_part_size: int = 5 * 1024**2,
    ) -> None:
        self.region = region
        self.blobs = BlobStore(spill_threshold=spill_threshold, blob_dir=blob_dir)
        self.store = Store()
        # min_part_size: every part of a multipart upload but the last (S3: 5 MiB); tests lower it.
        self._backend = Backend(self.store, self.blobs, max_put_size, min_part_size)

    @property
    def fault_hook(self) -> FaultHook | None:
        """Called as ``hook(operation, bucket, key)`` between a write's check and its act."""
        return self.store.fault_hook

    @fault_hook.setter
    def fault_hook(self, hook: FaultHook | None) -> None:
        self.store.fault_hook = hook

    def handle(self, operation: str, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        handler = _OPERATIONS.get(operation)
        if handler is None:
            raise not_implemented(operation)
        return handler(self._backend, params, ctx)

    def reset(self) -> None:
        """Forget every bucket, object and multipart upload and remove every blob file."""
        self.store.clear()
        self.blobs.reset()

    def close(self) -> None:
        """Reset, then remove the private blob directory."""
        self.store.clear()
        self.blobs.close()
