"""Small bucket settings: server access logging, Requester Pays and Transfer Acceleration.

Each is stored, checked and read back as S3 does; none is acted on (no log is delivered, requests
are not charged to the requester, there is no accelerate endpoint). Where each answer comes from:

* PutBucketLogging / GetBucketLogging (API reference; user guide "Troubleshoot server access
  logging"): a bucket that never had logging, or whose logging was turned off with an empty
  BucketLoggingStatus, answers an empty ``<BucketLoggingStatus/>``. The target bucket must exist
  (400 InvalidTargetBucketForLogging "The target bucket for logging does not exist"), belong to the
  same account (400 InvalidTargetBucketForLogging "The owner for the bucket to be logged and the
  target bucket must be the same.") and be in the same Region (403 CrossLocationLoggingProhibitted
  "Cross S3 location logging not allowed. ", with TargetBucketLocation) — the user guide's
  wordings, in this order in LocalStack, OpenStack swift3 and Scality's CloudServer.
  A LoggingEnabled without TargetPrefix is kept with an empty one (LocalStack, validated against S3).
* PutBucketRequestPayment: Payer is BucketOwner or Requester; a bucket never configured answers
  BucketOwner.
* PutBucketAccelerateConfiguration: Status is Enabled or Suspended (anything else MalformedXML); a
  bucket never configured answers no Status. Buckets whose names contain a period are refused,
  even to suspend (400 InvalidRequest "Amazon S3 Transfer Acceleration is not supported for
  buckets with periods (.) in their names.", S3's error table; terraform-provider-aws #25048).

PutBucketLogging and PutBucketRequestPayment require Content-MD5 or a checksum (botocore's model:
``requestChecksumRequired``); PutBucketAccelerateConfiguration does not.
"""

from __future__ import annotations

import base64
import copy
import uuid
from collections.abc import Mapping
from typing import Any

from fakes3.context import RequestContext
from fakes3.errors import S3Error
from fakes3.s3 import errors, ingest
from fakes3.s3.model import Backend, Bucket

Params = dict[str, Any]

ENABLED, DISABLED, SUSPENDED = "Enabled", "Disabled", "Suspended"
PAYERS = ("BucketOwner", "Requester")
ACCELERATE_STATES = (ENABLED, SUSPENDED)
GRANTEE_TYPES = ("CanonicalUser", "AmazonCustomerByEmail", "Group")
LOG_PERMISSIONS = ("FULL_CONTROL", "READ", "WRITE")
PARTITION_DATE_SOURCES = ("EventTime", "DeliveryTime")
# What identifies a grantee of each type (S3's Grantee: xsi:type and one of these).
_GRANTEE_KEY = {"CanonicalUser": "ID", "AmazonCustomerByEmail": "EmailAddress", "Group": "URI"}


def generated_id() -> str:
    """An ID for a rule or configuration sent without one: base64 of a UUID, as S3 makes them."""
    return base64.b64encode(str(uuid.uuid4()).encode()).decode()


def copied(document: Mapping[str, Any]) -> Params:
    """A stored document for a response (the stored one is never handed out)."""
    return copy.deepcopy(dict(document))


# -- PutBucketLogging / GetBucketLogging ----------------------------------------------------------


def put_bucket_logging(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    ingest.require_integrity(params, ctx)  # PutBucketLogging is requestChecksumRequired
    status = params.get("BucketLoggingStatus")
    if status is None:
        raise errors.malformed_xml("Send a BucketLoggingStatus document: empty to turn logging off, "
                                   "or with LoggingEnabled.")
    given = status.get("LoggingEnabled")
    logging = None if given is None else _check_logging(b, bucket, given)
    with bucket.lock:
        bucket.logging = logging
    return {}


def get_bucket_logging(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    logging = bucket.logging
    return {} if logging is None else {"LoggingEnabled": copied(logging)}


def _check_logging(b: Backend, bucket: Bucket, given: Mapping[str, Any]) -> Params:
    target_name = given.get("TargetBucket")
    if not target_name:
        raise errors.malformed_xml("LoggingEnabled needs a TargetBucket: the bucket the logs go to.")
    kept: Params = {"TargetBucket": target_name}
    grants = given.get("TargetGrants")
    if grants is not None:
        kept["TargetGrants"] = [_check_grant(grant) for grant in grants]
    kept["TargetPrefix"] = given.get("TargetPrefix") or ""
    key_format = given.get("TargetObjectKeyFormat")
    if key_format is not None:
        kept["TargetObjectKeyFormat"] = _check_key_format(key_format)
    target = b.store.buckets.get(target_name)
    if target is None:
        raise S3Error("InvalidTargetBucketForLogging", "The target bucket for logging does not exist. "
                      "Create it first, or name an existing bucket.", 400,
                      fields={"TargetBucket": target_name})
    if target.account_id != bucket.account_id:
        raise S3Error("InvalidTargetBucketForLogging", "The owner for the bucket to be logged and the "
                      "target bucket must be the same. Name a bucket of this account.", 400,
                      fields={"TargetBucket": target_name})
    if target.region != bucket.region:
        raise S3Error("CrossLocationLoggingProhibitted", "Cross S3 location logging not allowed. "
                      f"The target bucket is in {target.region}; name one in {bucket.region}.", 403,
                      fields={"TargetBucketLocation": target.region})
    return kept


def _check_grant(grant: Mapping[str, Any]) -> Params:
    grantee = grant.get("Grantee") or {}
    # The type travels as an xsi:type attribute, which the request parser does not read: the member
    # that names the grantee says it, as in acl.py.
    kind = grantee.get("Type") or next((k for k, member in _GRANTEE_KEY.items()
                                        if grantee.get(member) is not None), None)
    permission = grant.get("Permission")
    if kind not in GRANTEE_TYPES:
        raise errors.malformed_xml(f"A TargetGrant's Grantee needs an xsi:type of "
                                   f"{', '.join(GRANTEE_TYPES)}, not {kind!r}.")
    if not grantee.get(_GRANTEE_KEY[kind]):
        raise errors.malformed_xml(f"A {kind} Grantee needs its {_GRANTEE_KEY[kind]}.")
    if permission not in LOG_PERMISSIONS:
        raise errors.malformed_xml(f"A TargetGrant's Permission is one of {', '.join(LOG_PERMISSIONS)}, "
                                   f"not {permission!r}.")
    kept = {"Type": kind, **{name: grantee[name] for name in ("ID", "DisplayName", "EmailAddress", "URI")
                             if grantee.get(name) is not None}}
    return {"Grantee": kept, "Permission": permission}


def _check_key_format(key_format: Mapping[str, Any]) -> Params:
    simple, partitioned = key_format.get("SimplePrefix"), key_format.get("PartitionedPrefix")
    if simple is not None and partitioned is not None:
        raise errors.malformed_xml("TargetObjectKeyFormat takes SimplePrefix or PartitionedPrefix, "
                                   "not both.")
    if partitioned is None:
        return {} if simple is None else {"SimplePrefix": {}}
    source = partitioned.get("PartitionDateSource")
    if source is None:
        return {"PartitionedPrefix": {}}
    if source not in PARTITION_DATE_SOURCES:
        raise errors.malformed_xml(f"PartitionDateSource is EventTime or DeliveryTime, not {source!r}.")
    return {"PartitionedPrefix": {"PartitionDateSource": source}}


# -- PutBucketRequestPayment / GetBucketRequestPayment --------------------------------------------


def put_bucket_request_payment(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    ingest.require_integrity(params, ctx)  # PutBucketRequestPayment is requestChecksumRequired
    payer = (params.get("RequestPaymentConfiguration") or {}).get("Payer")
    if payer not in PAYERS:
        raise errors.malformed_xml(f"RequestPaymentConfiguration's Payer is BucketOwner or Requester, "
                                   f"not {payer!r}.")
    with bucket.lock:
        bucket.request_payer = payer
    return {}


def get_bucket_request_payment(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    return {"Payer": bucket.request_payer or "BucketOwner"}


# -- PutBucketAccelerateConfiguration / GetBucketAccelerateConfiguration --------------------------


def put_bucket_accelerate_configuration(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    status = (params.get("AccelerateConfiguration") or {}).get("Status")
    if status not in ACCELERATE_STATES:
        raise errors.malformed_xml(f"AccelerateConfiguration's Status is Enabled or Suspended, not "
                                   f"{status!r}.")
    if "." in bucket.name:
        raise errors.invalid_request("Amazon S3 Transfer Acceleration is not supported for buckets "
                                     "with periods (.) in their names. Use a bucket whose name has "
                                     "no period.")
    with bucket.lock:
        bucket.accelerate = status
    return {}


def get_bucket_accelerate_configuration(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    status = bucket.accelerate
    return {} if status is None else {"Status": status}
