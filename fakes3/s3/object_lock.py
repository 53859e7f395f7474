"""S3 Object Lock: versions that cannot be deleted for good while a retention period or a legal
hold protects them (S3 User Guide, "Locking objects with Object Lock").

* A bucket has Object Lock when it is created with ``x-amz-bucket-object-lock-enabled: true``
  (which also enables versioning) or when PutObjectLockConfiguration is sent to a bucket whose
  versioning is Enabled. It cannot be turned off, and its versioning can no longer be suspended.
* A version is protected by its retention (mode GOVERNANCE or COMPLIANCE, until a date) and by its
  legal hold (ON or OFF), set by PutObject / CopyObject / CreateMultipartUpload headers, by the
  bucket's default retention, or later by PutObjectRetention and PutObjectLegalHold.
* A protected version is not removed by DeleteObject (or DeleteObjects) naming its version:
  403 AccessDenied "Access Denied because object protected by object lock.". A DELETE without a
  version ID only adds a delete marker, as always. GOVERNANCE yields to
  ``x-amz-bypass-governance-retention: true`` from the bucket owner; COMPLIANCE and legal holds
  yield to nothing.
* A COMPLIANCE retention cannot be shortened or changed to GOVERNANCE; a GOVERNANCE one only with
  the bypass header. A retention date must lie in the future.

Only the bucket owner may bypass GOVERNANCE here (S3 asks for s3:BypassGovernanceRetention, which
another account would need a policy for).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fakes3.context import RequestContext
from fakes3.errors import S3Error
from fakes3.s3 import errors, ingest, versioning
from fakes3.s3.model import ENABLED, Backend, Bucket, ObjectVersion

Params = dict[str, Any]

GOVERNANCE, COMPLIANCE = "GOVERNANCE", "COMPLIANCE"
MODES = (GOVERNANCE, COMPLIANCE)
ON, OFF = "ON", "OFF"
# The request members that ask a write for a lock.
WRITE_PARAMS = frozenset({"ObjectLockMode", "ObjectLockRetainUntilDate", "ObjectLockLegalHoldStatus"})


@dataclass(frozen=True, slots=True)
class Lock:
    """What protects a version (``ObjectVersion.object_lock``; None: nothing)."""

    mode: str | None = None  # GOVERNANCE or COMPLIANCE, with retain_until
    retain_until: dt.datetime | None = None
    legal_hold: str | None = None  # ON or OFF once set (GetObjectLegalHold is 404 until then)


@dataclass(frozen=True, slots=True)
class LockConfiguration:
    """A bucket's Object Lock (``Bucket.object_lock``): enabled, and its default retention."""

    default_mode: str | None = None
    default_days: int | None = None
    default_years: int | None = None

    def default_until(self, now: dt.datetime) -> dt.datetime | None:
        if self.default_days is not None:
            return now + dt.timedelta(days=self.default_days)
        if self.default_years is not None:
            try:
                return now.replace(year=now.year + self.default_years)
            except ValueError:  # 29 February, in a year that has none
                return now.replace(year=now.year + self.default_years, day=28)
        return None


# -- errors ---------------------------------------------------------------------------------------


def protected() -> S3Error:
    return S3Error("AccessDenied", "Access Denied because object protected by object lock.", 403)


def _missing_configuration() -> S3Error:
    return errors.invalid_request("Bucket is missing Object Lock Configuration. Create the bucket "
                                  "with ObjectLockEnabledForBucket=True, or put_object_lock_"
                                  "configuration on a versioned bucket first.")


def _no_lock_on_object() -> S3Error:
    return S3Error("NoSuchObjectLockConfiguration",
                   "The specified object does not have a ObjectLock configuration", 404)


# -- writes of objects ----------------------------------------------------------------------------


def for_write(bucket: Bucket, params: Mapping[str, Any], ctx: RequestContext) -> Lock | None:
    """The lock a PutObject, CopyObject or CreateMultipartUpload gives the new version: its headers',
    else the bucket's default retention (None: nothing protects it)."""
    config: LockConfiguration | None = bucket.object_lock
    if config is None:
        if not WRITE_PARAMS.isdisjoint(params):
            raise _missing_configuration()
        return None
    mode, until = params.get("ObjectLockMode"), params.get("ObjectLockRetainUntilDate")
    hold = params.get("ObjectLockLegalHoldStatus")
    if (mode is None) != (until is None):
        raise errors.invalid_argument("x-amz-object-lock-retain-until-date and "
                                      "x-amz-object-lock-mode must both be supplied",
                                      "x-amz-object-lock-mode", mode)
    if mode is not None:
        check_mode(mode, "x-amz-object-lock-mode")
        check_future(until, ctx.now)
    elif config.default_mode is not None:
        mode, until = config.default_mode, config.default_until(ctx.now)
    if hold is not None and hold not in (ON, OFF):
        raise errors.invalid_argument("Legal Hold must be either of 'ON' or 'OFF'",
                                      "x-amz-object-lock-legal-hold", hold)
    if mode is None and hold is None:
        return None
    return Lock(mode, until, hold)


def check_mode(mode: Any, argument: str) -> None:
    if mode not in MODES:
        raise errors.invalid_argument("Unknown wormMode directive.", argument, mode)


def check_future(until: Any, now: dt.datetime) -> None:
    if not isinstance(until, dt.datetime) or _aware(until) <= now:
        raise errors.invalid_argument("The retain until date must be in the future!",
                                      "x-amz-object-lock-retain-until-date", str(until))


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def headers(lock: Lock | None) -> Params:
    """GetObject's and HeadObject's members that describe a version's lock."""
    if lock is None:
        return {}
    out: Params = {}
    if lock.mode is not None:
        out["ObjectLockMode"] = lock.mode
        out["ObjectLockRetainUntilDate"] = lock.retain_until
    if lock.legal_hold is not None:
        out["ObjectLockLegalHoldStatus"] = lock.legal_hold
    return out


# -- deletes --------------------------------------------------------------------------------------


def guard(bucket: Bucket, params: Mapping[str, Any],
          ctx: RequestContext) -> Callable[[ObjectVersion], None] | None:
    """What refuses the permanent delete of a protected version (None: the bucket has no lock)."""
    if bucket.object_lock is None:
        return None
    bypass = bool(params.get("BypassGovernanceRetention")) and ctx.account_id == bucket.account_id
    now = ctx.now

    def refuse_if_protected(version: ObjectVersion) -> None:
        lock = version.object_lock
        if lock is None:
            return
        if lock.legal_hold == ON:
            raise protected()
        if retained(lock, now) and (lock.mode == COMPLIANCE or not bypass):
            raise protected()
    return refuse_if_protected


# -- PutObjectLockConfiguration / Get -------------------------------------------------------------


def enable_on_new_bucket(bucket: Bucket) -> None:
    """CreateBucket with ObjectLockEnabledForBucket: Object Lock on, and versioning with it."""
    bucket.versioning = ENABLED
    bucket.object_lock = LockConfiguration()


def put_object_lock_configuration(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    ingest.require_integrity(params, ctx)
    config = params.get("ObjectLockConfiguration") or {}
    if config.get("ObjectLockEnabled") != "Enabled":
        raise errors.malformed_xml("ObjectLockConfiguration needs ObjectLockEnabled Enabled.")
    default = ((config.get("Rule") or {}).get("DefaultRetention")) if config.get("Rule") else None
    if config.get("Rule") is not None and default is None:
        raise errors.malformed_xml("An Object Lock Rule needs a DefaultRetention.")
    lock = LockConfiguration()
    if default is not None:
        days, years, mode = default.get("Days"), default.get("Years"), default.get("Mode")
        if (days is None) == (years is None) or mode is None:
            raise errors.malformed_xml("DefaultRetention needs a Mode and exactly one of Days or Years.")
        check_mode(mode, "Mode")
        if (days if days is not None else years) <= 0:
            raise errors.invalid_argument("Default retention period must be a positive integer value.",
                                          "Days" if days is not None else "Years",
                                          days if days is not None else years)
        lock = LockConfiguration(mode, days, years)
    with bucket.lock:
        if bucket.versioning != ENABLED:
            raise S3Error("InvalidBucketState", "Versioning must be 'Enabled' on the bucket to apply "
                          "a Object Lock configuration. Call put_bucket_versioning first.", 409)
        bucket.object_lock = lock
    return {}


def get_object_lock_configuration(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    config: LockConfiguration | None = bucket.object_lock
    if config is None:
        raise S3Error("ObjectLockConfigurationNotFoundError",
                      "Object Lock configuration does not exist for this bucket", 404,
                      fields={"BucketName": bucket.name})
    out: Params = {"ObjectLockEnabled": "Enabled"}
    if config.default_mode is not None:
        period = ({"Days": config.default_days} if config.default_days is not None
                  else {"Years": config.default_years})
        out["Rule"] = {"DefaultRetention": {"Mode": config.default_mode, **period}}
    return {"ObjectLockConfiguration": out}


# -- PutObjectRetention / PutObjectLegalHold / Get ------------------------------------------------


def _locked_bucket(b: Backend, params: Params) -> Bucket:
    bucket = b.store.bucket(params["Bucket"])
    if bucket.object_lock is None:
        raise _missing_configuration()
    return bucket


def put_object_retention(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = _locked_bucket(b, params)
    ingest.require_integrity(params, ctx)
    retention = params.get("Retention") or {}
    mode, until = retention.get("Mode"), retention.get("RetainUntilDate")
    if (mode is None) != (until is None):
        raise errors.malformed_xml("A Retention needs both Mode and RetainUntilDate, or neither.")
    if mode is not None:
        check_mode(mode, "Mode")
        check_future(until, ctx.now)
    bypass = bool(params.get("BypassGovernanceRetention")) and ctx.account_id == bucket.account_id

    def retain(_: Bucket, version: ObjectVersion) -> ObjectVersion:
        old = version.object_lock or Lock()
        if _weakens(old, mode, until, ctx.now) and not (old.mode == GOVERNANCE and bypass):
            raise protected()
        return _relocked(version, dataclasses.replace(old, mode=mode, retain_until=until))
    return versioning.update_subresource(b, params, versioning.SUB_PUT, retain)


def retained(lock: Lock, now: dt.datetime) -> bool:
    """Whether ``lock``'s retention still holds at ``now``."""
    return lock.mode is not None and lock.retain_until is not None and _aware(lock.retain_until) > now


def _weakens(old: Lock, mode: str | None, until: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether a new retention shortens, removes or loosens one that still holds."""
    if not retained(old, now) or old.retain_until is None:
        return False
    if mode is None or until is None:
        return True
    return _aware(until) < _aware(old.retain_until) or (old.mode == COMPLIANCE and mode != COMPLIANCE)


def _lock_of(b: Backend, params: Params) -> Lock:
    """The lock of the version a GetObjectRetention or GetObjectLegalHold names."""
    _locked_bucket(b, params)
    _, version = versioning.subresource_version(b, params)
    return version.object_lock or Lock()


def _relocked(version: ObjectVersion, lock: Lock) -> ObjectVersion:
    return dataclasses.replace(version, object_lock=None if lock == Lock() else lock)


def get_object_retention(b: Backend, params: Params, ctx: RequestContext) -> Params:
    lock = _lock_of(b, params)
    if lock.mode is None:
        raise _no_lock_on_object()
    return {"Retention": {"Mode": lock.mode, "RetainUntilDate": lock.retain_until}}


def put_object_legal_hold(b: Backend, params: Params, ctx: RequestContext) -> Params:
    _locked_bucket(b, params)
    ingest.require_integrity(params, ctx)
    status = (params.get("LegalHold") or {}).get("Status")
    if status not in (ON, OFF):
        raise errors.malformed_xml("LegalHold Status must be ON or OFF.")

    def hold(_: Bucket, version: ObjectVersion) -> ObjectVersion:
        return _relocked(version, dataclasses.replace(version.object_lock or Lock(), legal_hold=status))
    return versioning.update_subresource(b, params, versioning.SUB_PUT, hold)


def get_object_legal_hold(b: Backend, params: Params, ctx: RequestContext) -> Params:
    lock = _lock_of(b, params)
    if lock.legal_hold is None:
        raise _no_lock_on_object()
    return {"LegalHold": {"Status": lock.legal_hold}}
