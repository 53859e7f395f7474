"""S3Service: the S3 semantics behind one endpoint, dispatching by botocore operation name.

Handlers take the dict ``boto3.client("s3").<operation>(**params)`` takes and return the dict
boto3 would return; errors are ``fakes3.errors.S3Error``. Nothing here knows about HTTP.

With ``data_dir`` the state survives restarts (persistence.py): the model writes each change to
keys, uploads and the bucket registry itself; bucket settings are written here, after any
operation that may change them (one that neither reads nor works on objects or uploads), so a
setting added later (a new Put/DeleteBucket* or Put/Delete*Configuration) is kept with no change.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from typing import Any

from fakes3.context import RequestContext
from fakes3.errors import not_implemented
from fakes3.s3 import (
    access,
    attributes,
    bucket_settings,
    buckets,
    copy,
    cors,
    encryption,
    expected_owner,
    lifecycle,
    listing,
    multipart,
    multipart_listing,
    notifications,
    object_lock,
    objects,
    ownership,
    post_upload,
    replication,
    requester_pays,
    tagging,
    version_listing,
    versioning,
    website,
)
from fakes3.s3.blobs import BlobStore
from fakes3.s3.model import Backend, FaultHook, Store
from fakes3.s3.persistence import Persistence

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
    "PostObject": post_upload.post_object,
    "PutBucketAcl": access.put_bucket_acl,
    "GetBucketAcl": access.get_bucket_acl,
    "PutObjectAcl": access.put_object_acl,
    "GetObjectAcl": access.get_object_acl,
    "PutBucketPolicy": access.put_bucket_policy,
    "GetBucketPolicy": access.get_bucket_policy,
    "DeleteBucketPolicy": access.delete_bucket_policy,
    "GetBucketPolicyStatus": access.get_bucket_policy_status,
    "PutBucketOwnershipControls": ownership.put_bucket_ownership_controls,
    "GetBucketOwnershipControls": ownership.get_bucket_ownership_controls,
    "DeleteBucketOwnershipControls": ownership.delete_bucket_ownership_controls,
    "PutPublicAccessBlock": ownership.put_public_access_block,
    "GetPublicAccessBlock": ownership.get_public_access_block,
    "DeletePublicAccessBlock": ownership.delete_public_access_block,
    "PutBucketEncryption": encryption.put_bucket_encryption,
    "GetBucketEncryption": encryption.get_bucket_encryption,
    "DeleteBucketEncryption": encryption.delete_bucket_encryption,
    "PutBucketCors": cors.put_bucket_cors,
    "GetBucketCors": cors.get_bucket_cors,
    "DeleteBucketCors": cors.delete_bucket_cors,
    "OPTIONS": cors.preflight,  # a CORS preflight (no botocore operation: see s3_http.preflight)
    "GetObjectAttributes": attributes.get_object_attributes,
    "PutBucketLifecycleConfiguration": lifecycle.put_bucket_lifecycle_configuration,
    "GetBucketLifecycleConfiguration": lifecycle.get_bucket_lifecycle_configuration,
    "DeleteBucketLifecycle": lifecycle.delete_bucket_lifecycle,
    "PutObjectLockConfiguration": object_lock.put_object_lock_configuration,
    "GetObjectLockConfiguration": object_lock.get_object_lock_configuration,
    "PutObjectRetention": object_lock.put_object_retention,
    "GetObjectRetention": object_lock.get_object_retention,
    "PutObjectLegalHold": object_lock.put_object_legal_hold,
    "GetObjectLegalHold": object_lock.get_object_legal_hold,
    "PutBucketWebsite": website.put_bucket_website,
    "GetBucketWebsite": website.get_bucket_website,
    "DeleteBucketWebsite": website.delete_bucket_website,
    "PutBucketLogging": bucket_settings.put_bucket_logging,
    "GetBucketLogging": bucket_settings.get_bucket_logging,
    "PutBucketRequestPayment": bucket_settings.put_bucket_request_payment,
    "GetBucketRequestPayment": bucket_settings.get_bucket_request_payment,
    "PutBucketAccelerateConfiguration": bucket_settings.put_bucket_accelerate_configuration,
    "GetBucketAccelerateConfiguration": bucket_settings.get_bucket_accelerate_configuration,
    "PutBucketReplication": replication.put_bucket_replication,
    "GetBucketReplication": replication.get_bucket_replication,
    "DeleteBucketReplication": replication.delete_bucket_replication,
    "PutBucketNotificationConfiguration": notifications.put_bucket_notification_configuration,
    "GetBucketNotificationConfiguration": notifications.get_bucket_notification_configuration,
}


def _may_change_settings(operation: str) -> bool:
    if operation.startswith(("Get", "Head", "List")) or operation in ("DeleteBucket", "OPTIONS"):
        return False
    if operation == "PutObjectLockConfiguration":  # a bucket's setting, despite its name
        return True
    return not any(word in operation for word in ("Object", "Upload", "Part"))


# The operations after which a data dir writes the bucket's settings: decided once, not per request.
_SETTING_WRITERS = frozenset(op for op in _OPERATIONS if _may_change_settings(op))


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
        data_dir: str | os.PathLike[str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``data_dir``: keep everything there across restarts (and read it back now); without
        it, everything is in memory and bodies over ``spill_threshold`` in ``blob_dir`` (default:
        a private temporary directory), removed by ``close``. Raises persistence.DataDirError if
        the data dir cannot be used."""
        if data_dir is not None and blob_dir is not None:
            raise ValueError("give S3Service a data_dir or a blob_dir, not both")
        self.region = region
        self.clock = clock  # the server's time in epoch seconds (lifecycle rules act on it)
        self.persistence = Persistence(data_dir) if data_dir is not None else None
        durable = self.persistence is not None
        if self.persistence is not None:
            blob_dir = self.persistence.blob_dir
        self.blobs = BlobStore(spill_threshold=spill_threshold, blob_dir=blob_dir, durable=durable)
        self.store = Store()
        if self.persistence is not None:
            try:
                self.persistence.load(self.store, self.blobs)
            except BaseException:
                self.close()
                raise
            self.store.persistence = self.persistence  # from now on, every change is written
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
        if "ExpectedBucketOwner" in params or "ExpectedSourceBucketOwner" in params:
            expected_owner.check(self.store, params)
        charged = requester_pays.charged(self.store, params, ctx)
        result = handler(self._backend, params, ctx)
        if charged:
            result["RequestCharged"] = "requester"  # x-amz-request-charged, where S3 sends it
        if self.persistence is not None and operation in _SETTING_WRITERS:
            self.persistence.bucket_settings(self.store, params.get("Bucket"))
        return result

    def apply_lifecycle(self) -> dict[str, int]:
        """Act on every bucket's lifecycle rules now, on the server's clock (S3 does it once a day,
        in the background: see lifecycle.py); how many of each action were taken."""
        return lifecycle.apply(self._backend, dt.datetime.fromtimestamp(self.clock(), dt.UTC))

    def reset(self) -> None:
        """Forget every bucket, object and multipart upload and remove every blob file (with a
        data dir: empty it)."""
        with self.store.registry:  # no bucket is created or deleted meanwhile
            forgotten = self.store.all()  # their files outlive their records
            self.store.clear()
            if self.persistence is not None:
                self.persistence.reset()
        del forgotten
        self.blobs.reset()

    def close(self) -> None:
        """Without a data dir: reset, then remove the private blob directory. With one: keep
        everything in it for the next start, and let go of it."""
        if self.persistence is not None:
            self.blobs.close()  # first: no file goes as the model lets go of its blobs
            self.persistence.close()
        self.store.clear()
        self.blobs.close()
