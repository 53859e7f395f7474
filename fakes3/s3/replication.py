"""Replication configuration: Put/Get/DeleteBucketReplication, stored and checked as S3 checks it.

Only the configuration is kept: no object is ever replicated (no copy appears in a destination
bucket, no object shows a ReplicationStatus).

Where each answer comes from (API_PutBucketReplication, API_ReplicationRule, API_Destination,
the user guide's "Replication configuration file elements" and its backward-compatibility notes;
where AWS documents no wording, what S3 was recorded answering, in LocalStack's AWS-validated
tests, moto, OpenStack swift's s3api (OVH) and Terraform threads quoting S3):

* The source bucket's versioning must be Enabled: 400 InvalidRequest "Versioning must be
  'Enabled' on the bucket to apply a replication configuration".
* Role and at least one Rule are required; a Rule needs Status (Enabled or Disabled) and a
  Destination with a Bucket (MalformedXML). At most 1,000 rules (400 InvalidRequest).
* A rule with a Filter is of the current schema ("V2") and needs Priority and
  DeleteMarkerReplication (400 InvalidRequest "Priority must be specified for this version of
  Cross Region Replication configuration schema. Please refer to S3 Developer Guide for more
  information.", the same for DeleteMarkerReplication); a rule without one is of the first schema
  and gives a Prefix (neither: MalformedXML), and may not give those two ("... cannot be used for
  this version ..."). A Filter holds one of Prefix, Tag, And (MalformedXML otherwise); tag keys are
  unique (400 InvalidRequest "Duplicate Tag Keys are not allowed.").
* Rule IDs are at most 255 characters and unique (400 InvalidArgument); a rule sent without one
  gets one. Priorities are 0 or more and unique (400 InvalidRequest "Found duplicate priority N.").
  Delete marker replication does not work with tag filters (400 InvalidRequest "Delete marker
  replication is not supported if any Tag filter is specified. Please refer to S3 Developer Guide
  for more information.").
* Destination Bucket is an S3 bucket ARN (400 InvalidArgument "Invalid bucket ARN."), not the
  source (400 InvalidRequest "Destination bucket cannot be the same as the source bucket."), of a
  bucket with versioning Enabled (400 InvalidRequest "Destination bucket must have versioning
  enabled." — also when it does not exist, as LocalStack recorded S3 answering). SseKmsEncryptedObjects
  Enabled needs a ReplicaKmsKeyID (400 InvalidRequest "ReplicaKmsKeyID must be specified if
  SseKmsEncryptedObjects tag is present.").
* A bucket without one: 404 ReplicationConfigurationNotFoundError "The replication configuration
  was not found". DeleteBucketReplication of a bucket without one succeeds (204).

PutBucketReplication requires Content-MD5 or a checksum (botocore's model: requestChecksumRequired).
Not checked (no source gives S3's answer): the Role's ARN and iam:PassRole, Destination Account and
AccessControlTranslation, ReplicationTime and Metrics beyond their Status values, and the Object
Lock token (x-amz-bucket-object-lock-token).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakes3.context import RequestContext
from fakes3.errors import S3Error
from fakes3.s3 import errors, ingest
from fakes3.s3.bucket_settings import copied, generated_id
from fakes3.s3.model import ENABLED, Backend, Bucket

Params = dict[str, Any]

DISABLED = "Disabled"
STATES = (ENABLED, DISABLED)
MAX_RULES = 1000
MAX_ID = 255
MAX_PRIORITY = 2**31 - 1
BUCKET_ARN = "arn:aws:s3:::"
STORAGE_CLASSES = ("STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
                   "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "OUTPOSTS", "GLACIER_IR", "SNOW",
                   "EXPRESS_ONEZONE", "FSX_OPENZFS", "FSX_ONTAP")
_SCHEMA = " for this version of Cross Region Replication configuration schema. Please refer to S3 " \
          "Developer Guide for more information."


def not_found(bucket: str) -> S3Error:
    return S3Error("ReplicationConfigurationNotFoundError", "The replication configuration was not "
                   "found", 404, fields={"BucketName": bucket})


def _status(value: Any, where: str) -> str:
    if value not in STATES:
        raise errors.malformed_xml(f"{where} Status is Enabled or Disabled, not {value!r}.")
    return str(value)


# -- checking a configuration ---------------------------------------------------------------------


def check(store_buckets: Mapping[str, Bucket], source: Bucket, config: Mapping[str, Any] | None) -> Params:
    """A PutBucketReplication's ReplicationConfiguration, checked against the buckets it names;
    returns it as S3 keeps it (every rule with an ID)."""
    if config is None or config.get("Role") is None:
        raise errors.malformed_xml("A ReplicationConfiguration needs a Role (the IAM role S3 would "
                                   "assume) and one Rule or more.")
    rules = list(config.get("Rules") or [])
    if not rules:
        raise errors.malformed_xml("A ReplicationConfiguration needs one Rule or more.")
    if len(rules) > MAX_RULES:
        raise errors.invalid_request(f"The number of replication rules must not exceed the allowed "
                                     f"limit of {MAX_RULES} rules. This configuration has {len(rules)}.")
    kept = [_check_rule(rule) for rule in rules]
    ids: set[str] = set()
    priorities: set[int] = set()
    for rule in kept:
        rule_id = rule.get("ID")
        if rule_id:
            if rule_id in ids:
                raise errors.invalid_argument("Rule Id must be unique. Give each rule its own ID.", "ID",
                                              rule_id)
            ids.add(rule_id)
        priority = rule.get("Priority")
        if priority is not None:
            if priority in priorities:
                raise errors.invalid_request(f"Found duplicate priority {priority}. Give each rule its "
                                             "own Priority.")
            priorities.add(priority)
    for rule in kept:
        _check_destination_bucket(store_buckets, source, rule["Destination"]["Bucket"])
        if not rule.get("ID"):
            rule["ID"] = generated_id()
    return {"Role": config["Role"], "Rules": [_in_order(rule) for rule in kept]}


def _check_rule(rule: Mapping[str, Any]) -> Params:
    """One rule, checked on its own; returns the members S3 keeps."""
    kept: Params = {}
    rule_id = rule.get("ID")
    if rule_id:
        if len(rule_id) > MAX_ID:
            raise errors.invalid_argument(f"The maximum value is {MAX_ID} characters. Shorten the rule's "
                                          "ID.", "ID", rule_id)
        kept["ID"] = rule_id
    kept["Status"] = _status(rule.get("Status"), "A replication rule's")
    has_filter, has_prefix = rule.get("Filter") is not None, rule.get("Prefix") is not None
    if has_filter == has_prefix:
        raise errors.malformed_xml("A replication rule needs a Filter (an empty one applies to every "
                                   "object) or, in the first schema, a Prefix; not both.")
    priority, marker = rule.get("Priority"), rule.get("DeleteMarkerReplication")
    if has_filter:
        if priority is None:
            raise errors.invalid_request("Priority must be specified" + _SCHEMA)
        if marker is None:
            raise errors.invalid_request("DeleteMarkerReplication must be specified" + _SCHEMA)
        kept["Filter"], tagged = _check_filter(rule["Filter"])
    else:
        for name, value in (("Priority", priority), ("DeleteMarkerReplication", marker)):
            if value is not None:
                raise errors.invalid_request(f"{name} cannot be used" + _SCHEMA + " Use a Filter "
                                             "instead of the rule's Prefix.")
        kept["Prefix"], tagged = rule["Prefix"], False
    if priority is not None:
        if not 0 <= priority <= MAX_PRIORITY:
            raise errors.invalid_request(f"Priority must be between 0 and {MAX_PRIORITY}.")
        kept["Priority"] = priority
    if marker is not None:
        status = _status(marker.get("Status"), "DeleteMarkerReplication's")
        if status == ENABLED and tagged:
            raise errors.invalid_request("Delete marker replication is not supported if any Tag filter "
                                         "is specified. Please refer to S3 Developer Guide for more "
                                         "information.")
        kept["DeleteMarkerReplication"] = {"Status": status}
    kms_objects = False
    criteria = rule.get("SourceSelectionCriteria")
    if criteria is not None:
        kept_criteria: Params = {}
        for name in ("SseKmsEncryptedObjects", "ReplicaModifications"):
            if criteria.get(name) is not None:
                kept_criteria[name] = {"Status": _status(criteria[name].get("Status"), name + "'s")}
        kms_objects = kept_criteria.get("SseKmsEncryptedObjects", {}).get("Status") == ENABLED
        kept["SourceSelectionCriteria"] = kept_criteria
    existing = rule.get("ExistingObjectReplication")
    if existing is not None:
        kept["ExistingObjectReplication"] = {
            "Status": _status(existing.get("Status"), "ExistingObjectReplication's")}
    kept["Destination"] = _check_destination(rule.get("Destination"), kms_objects)
    return kept


def _check_filter(given: Mapping[str, Any]) -> tuple[Params, bool]:
    """A rule's Filter and whether it filters on tags."""
    present = [name for name in ("Prefix", "Tag", "And") if given.get(name) is not None]
    if len(present) > 1:
        raise errors.malformed_xml("A replication Filter holds one of Prefix, Tag or And: combine a "
                                   "prefix and tags in And.")
    if not present:
        return {}, False
    name = present[0]
    if name == "Prefix":
        return {"Prefix": given["Prefix"]}, False
    if name == "Tag":
        return {"Tag": _check_tags([given["Tag"]])[0]}, True
    conjunction = given["And"]
    kept: Params = {}
    if conjunction.get("Prefix") is not None:
        kept["Prefix"] = conjunction["Prefix"]
    tags = _check_tags(conjunction.get("Tags") or [])
    if tags:
        kept["Tags"] = tags
    return {"And": kept}, bool(tags)


def _check_tags(tags: list[Any]) -> list[Params]:
    keys: set[str] = set()
    kept = []
    for tag in tags:
        key, value = tag.get("Key"), tag.get("Value")
        if key is None or value is None:
            raise errors.malformed_xml("Every Tag needs a Key and a Value.")
        if key in keys:
            raise errors.invalid_request("Duplicate Tag Keys are not allowed.")
        keys.add(key)
        kept.append({"Key": key, "Value": value})
    return kept


def _check_destination(given: Mapping[str, Any] | None, kms_objects: bool) -> Params:
    if given is None or not given.get("Bucket"):
        raise errors.malformed_xml("A replication rule needs a Destination with a Bucket (the "
                                   "destination bucket's ARN, arn:aws:s3:::name).")
    arn = given["Bucket"]
    if not arn.startswith(BUCKET_ARN) or not arn[len(BUCKET_ARN):] or "/" in arn[len(BUCKET_ARN):]:
        raise errors.invalid_argument(f"Invalid bucket ARN. Name the destination as "
                                      f"{BUCKET_ARN}<bucket>.", "Bucket", arn)
    kept: Params = {"Bucket": arn}
    if given.get("Account") is not None:
        kept["Account"] = given["Account"]
    storage_class = given.get("StorageClass")
    if storage_class is not None:
        if storage_class not in STORAGE_CLASSES:
            raise errors.malformed_xml(f"StorageClass {storage_class!r} is not one of "
                                       f"{', '.join(STORAGE_CLASSES)}.")
        kept["StorageClass"] = storage_class
    translation = given.get("AccessControlTranslation")
    if translation is not None:
        if translation.get("Owner") != "Destination":
            raise errors.malformed_xml("AccessControlTranslation's Owner is Destination.")
        kept["AccessControlTranslation"] = {"Owner": "Destination"}
    encryption = given.get("EncryptionConfiguration")
    key_id = encryption.get("ReplicaKmsKeyID") if encryption is not None else None
    if kms_objects and not key_id:
        raise errors.invalid_request("ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is "
                                     "present.")
    if encryption is not None:
        kept["EncryptionConfiguration"] = {} if key_id is None else {"ReplicaKmsKeyID": key_id}
    for name in ("ReplicationTime", "Metrics"):
        part = given.get(name)
        if part is not None:
            kept_part: Params = {"Status": _status(part.get("Status"), name + "'s")}
            for minutes in ("Time", "EventThreshold"):
                if part.get(minutes) is not None:
                    kept_part[minutes] = dict(part[minutes])
            kept[name] = kept_part
    return kept


def _check_destination_bucket(buckets: Mapping[str, Bucket], source: Bucket, arn: str) -> None:
    name = arn[len(BUCKET_ARN):]
    if name == source.name:
        raise errors.invalid_request("Destination bucket cannot be the same as the source bucket.")
    destination = buckets.get(name)
    if destination is None or destination.versioning != ENABLED:
        raise errors.invalid_request("Destination bucket must have versioning enabled. Enable versioning "
                                     f"on {name} (it must exist) with put_bucket_versioning.")


_ORDER = ("ID", "Priority", "Prefix", "Filter", "Status", "SourceSelectionCriteria",
          "ExistingObjectReplication", "Destination", "DeleteMarkerReplication")


def _in_order(rule: Params) -> Params:
    """A rule's members in the model's order (the order S3's XML gives them)."""
    return {name: rule[name] for name in _ORDER if name in rule}


# -- PutBucketReplication / Get / Delete ----------------------------------------------------------


def put_bucket_replication(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    ingest.require_integrity(params, ctx)  # PutBucketReplication is requestChecksumRequired
    if bucket.versioning != ENABLED:
        raise errors.invalid_request("Versioning must be 'Enabled' on the bucket to apply a replication "
                                     "configuration. Call put_bucket_versioning with Status Enabled "
                                     "first.")
    replication = check(b.store.buckets, bucket, params.get("ReplicationConfiguration"))
    with bucket.lock:
        bucket.replication = replication
    return {}


def get_bucket_replication(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    replication = bucket.replication
    if replication is None:
        raise not_found(bucket.name)
    return {"ReplicationConfiguration": copied(replication)}


def delete_bucket_replication(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    with bucket.lock:
        bucket.replication = None
    return {}
