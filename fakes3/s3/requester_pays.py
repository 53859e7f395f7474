"""Requester Pays (S3 User Guide, "Using Requester Pays buckets"): once a bucket's Payer is
Requester (PutBucketRequestPayment), a request from anyone but the bucket owner must say it
accepts the charges with ``x-amz-request-payer: requester``; without it, or unsigned, S3 answers
403 AccessDenied. An accepted request's answer says ``x-amz-request-charged: requester``. Whether
the caller may do what it asks is decided as always (ACLs, bucket policies): this only adds the
condition. Nothing is billed, of course."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakes3.auth.verifier import ANONYMOUS
from fakes3.context import RequestContext
from fakes3.errors import S3Error
from fakes3.s3.model import Store

REQUESTER = "Requester"


def charged(store: Store, params: Mapping[str, Any], ctx: RequestContext) -> bool:
    """Whether the request is charged to its requester; refuses one that did not agree to it."""
    name = params.get("Bucket")
    bucket = store.buckets.get(name) if name else None  # one atomic read
    if bucket is None or bucket.request_payer != REQUESTER or ctx.account_id == bucket.account_id:
        return False
    if ctx.account_id == ANONYMOUS:
        raise S3Error("AccessDenied", f"Access Denied: bucket {name} is a Requester Pays bucket, "
                      "which takes no anonymous requests. Sign the request and send "
                      "x-amz-request-payer: requester.", 403)
    if params.get("RequestPayer") != "requester":
        raise S3Error("AccessDenied", f"Access Denied: bucket {name} is a Requester Pays bucket. "
                      "Send x-amz-request-payer: requester (RequestPayer='requester') to accept "
                      "the charges.", 403)
    return True
