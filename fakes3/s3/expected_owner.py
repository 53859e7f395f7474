"""``x-amz-expected-bucket-owner`` and ``x-amz-source-expected-bucket-owner``: a request that names
the account it expects to own the bucket (or a copy's source bucket) is refused with 403
AccessDenied when another account owns it (S3 User Guide, "Verifying bucket ownership with bucket
owner condition"). Most S3 operations take them; this checks them once, for all of them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakes3.errors import S3Error
from fakes3.s3 import copy
from fakes3.s3.model import Store


def check(store: Store, params: Mapping[str, Any]) -> None:
    expected = params.get("ExpectedBucketOwner")
    if expected is not None and params.get("Bucket"):
        _check(store, params["Bucket"], expected, "x-amz-expected-bucket-owner")
    expected_source = params.get("ExpectedSourceBucketOwner")
    if expected_source is not None and params.get("CopySource"):
        source_bucket = copy.parse_copy_source(params["CopySource"])[0]
        _check(store, source_bucket, expected_source, "x-amz-source-expected-bucket-owner")


def _check(store: Store, name: str, expected: str, header: str) -> None:
    bucket = store.bucket(name)  # a missing bucket is NoSuchBucket, as without the header
    if bucket.account_id != expected:
        raise S3Error("AccessDenied", f"Access Denied: bucket {name} is not owned by account "
                      f"{expected} ({header}). Send the owner's account ID, or leave the header out.",
                      403)
