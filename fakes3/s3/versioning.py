"""Versioning: Put/GetBucketVersioning, which version a request names, and deletes with versions.

Behaviour follows the S3 API reference and User Guide ("Working with objects in a
versioning-enabled bucket", "Deleting object versions", "Managing objects in a
versioning-suspended bucket", "Working with delete markers"); where they are silent, what S3 is
observed to answer:

* A request for a key whose current version is a delete marker is 404 NoSuchKey with
  ``x-amz-delete-marker: true`` and the marker's ``x-amz-version-id``. A GET or HEAD naming a delete
  marker by version ID is 405 MethodNotAllowed (Method, ResourceType DeleteMarker) with
  ``Allow: DELETE``, ``Last-Modified`` and the marker headers. A PUT or DELETE of a subresource
  (tagging) of a key whose current version is a delete marker is 405 with ``Allow: DELETE``.
  A copy source naming a delete marker by version ID is 400 InvalidRequest.
* A version ID fakes3 never issued is 400 InvalidArgument "Invalid version id specified" (CopyObject
  answers a bare 400 InvalidRequest); an empty one is "Version id cannot be the empty string".
  In a bucket that never had versioning configured, version IDs other than "null" are looked up
  as before (404 NoSuchVersion) and deleting one is a no-op.
* A DELETE naming a version that does not exist succeeds (204), as S3's idempotent deletes do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from email.utils import format_datetime
from typing import Any

from fakes3.context import RequestContext
from fakes3.errors import S3Error
from fakes3.s3 import errors, ingest, names, version_ids
from fakes3.s3.model import (
    ENABLED,
    NULL_VERSION,
    SUSPENDED,
    Backend,
    Bucket,
    Check,
    ObjectVersion,
    Owner,
    Pick,
    delete_marker,
)

Params = dict[str, Any]

# How a request meets a delete marker: reads of the object, reads and writes of a subresource of
# it (tagging), and copy sources.
READ, HEAD, SUB_GET, SUB_PUT, SUB_DELETE, COPY = "GET", "HEAD", "sub-GET", "PUT", "DELETE", "COPY"


# -- bucket configuration -------------------------------------------------------------------


def put_bucket_versioning(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    ingest.require_integrity(params, ctx)
    config = params.get("VersioningConfiguration") or {}
    status, mfa = config.get("Status"), config.get("MFADelete")
    if status is None:
        raise S3Error(
            "IllegalVersioningConfigurationException",
            "The Versioning element must be specified. Send Status Enabled or Suspended.",
            400,
        )
    if status not in (ENABLED, SUSPENDED):
        raise errors.malformed_xml(f"Status must be Enabled or Suspended, not {status!r}.")
    if mfa is not None and mfa not in ("Enabled", "Disabled"):
        raise errors.malformed_xml(f"MfaDelete must be Enabled or Disabled, not {mfa!r}.")
    if mfa == "Enabled":
        raise S3Error(
            "NotImplemented",
            "A header you provided implies functionality that is not implemented. fakes3 has no "
            "MFA devices: configure MfaDelete Disabled, or leave it out.",
            501,
            fields={"Header": "x-amz-mfa"},
        )
    with bucket.lock:
        if bucket.object_lock is not None and status != ENABLED:
            raise S3Error("InvalidBucketState", "An Object Lock configuration is present on this "
                          "bucket, so the versioning state cannot be changed.", 409)
        if bucket.replication is not None and status != ENABLED:
            raise S3Error("InvalidBucketState", "A replication configuration is present on this "
                          "bucket, so you cannot change the versioning state. To change the "
                          "versioning state, first delete the replication configuration.", 409)
        bucket.versioning = status  # once configured, a bucket never returns to unversioned
        if mfa is not None:
            bucket.mfa_delete = mfa
    return {}


def get_bucket_versioning(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    with bucket.lock:
        status, mfa = bucket.versioning, bucket.mfa_delete
    out: Params = {}
    if status is not None:  # never configured: S3 answers an empty VersioningConfiguration
        out["Status"] = status
    if mfa is not None:  # only once it has been configured
        out["MFADelete"] = mfa
    return out


# -- version IDs ----------------------------------------------------------------------------


def invalid_version_id(version_id: str, argument: str = "versionId") -> S3Error:
    message = ("Version id cannot be the empty string" if version_id == ""
               else "Invalid version id specified")
    return errors.invalid_argument(message, argument, version_id)


def check_version_id(bucket: Bucket, version_id: str | None, argument: str = "versionId",
                     malformed: Callable[[str], S3Error] | None = None) -> None:
    """Refuse a version ID this fake never issued (see the module docstring)."""
    if version_id is None or version_id == NULL_VERSION:
        return
    if version_id == "":
        raise invalid_version_id("", argument)
    if version_ids.decode(version_id) is not None:
        return  # one this fake issued (even if the bucket is no longer versioned)
    raise (malformed or (lambda v: invalid_version_id(v, argument)))(version_id)


def shown(bucket: Bucket, version: ObjectVersion, asked: bool = False) -> bool:
    """Whether a response carries the version's ID: always once the bucket has had versioning
    configured; in a bucket that never had, only when the request named a version."""
    return asked or bucket.versioning is not None or version.version_id != NULL_VERSION


def add_version_id(out: Params, bucket: Bucket, version: ObjectVersion, asked: bool = False,
                   name: str = "VersionId") -> Params:
    if asked or bucket.versioning is not None or version.version_id != NULL_VERSION:  # shown()
        out[name] = version.version_id
    return out


# -- which version a request names ----------------------------------------------------------


def marker_headers(marker: ObjectVersion) -> dict[str, str]:
    return {"x-amz-delete-marker": "true", "x-amz-version-id": marker.version_id}


def _not_allowed(method: str, headers: dict[str, str]) -> S3Error:
    return S3Error(
        "MethodNotAllowed",
        "The specified method is not allowed against this resource. The version is a delete "
        "marker: the only operation on it is DELETE.",
        405,
        fields={"Method": method, "ResourceType": "DeleteMarker"},
        headers={"Allow": "DELETE", **headers},
    )


def resolve(versions: list[ObjectVersion], key: str, version_id: str | None,
            method: str) -> ObjectVersion:
    """The version a request names among ``versions`` (oldest first), or S3's error for it."""
    if version_id is None:
        latest = versions[-1] if versions else None
        if latest is None:
            raise errors.no_such_key(key)
        if not latest.delete_marker:
            return latest
        if method in (SUB_PUT, SUB_DELETE):
            raise _not_allowed(method, {})
        err = errors.no_such_key(key)
        err.headers.update(marker_headers(latest))
        raise err
    found = next((v for v in reversed(versions) if v.version_id == version_id), None)
    if found is None:
        raise errors.no_such_version(key, version_id)
    if not found.delete_marker:
        return found
    if method == COPY:
        raise errors.invalid_request(
            "The source of a copy request may not specifically refer to a delete marker by "
            "version id."
        )
    headers = marker_headers(found)
    if method in (READ, HEAD):
        headers["Last-Modified"] = format_datetime(found.last_modified, usegmt=True)
    raise _not_allowed("GET" if method == SUB_GET else method, headers)


def picker(key: str, version_id: str | None, method: str) -> Pick:
    return lambda versions: resolve(versions, key, version_id, method)


def lookup(bucket: Bucket, key: str, version_id: str | None, method: str,
           argument: str = "versionId",
           malformed: Callable[[str], S3Error] | None = None) -> ObjectVersion:
    """The version a read names (the current one, or ``version_id``), checked as S3 checks it."""
    if version_id is None:
        versions = bucket.history(key)
        if versions and not versions[-1].delete_marker:
            return versions[-1]  # the common read: the current version (as resolve() finds it)
        return resolve(versions, key, None, method)
    check_version_id(bucket, version_id, argument, malformed)
    return resolve(bucket.history(key), key, version_id, method)


# -- subresources of a version (tagging, ACL) -----------------------------------------------


def subresource_version(b: Backend, params: Params) -> tuple[Bucket, ObjectVersion]:
    """The bucket, and the version whose subresource a GET (GetObjectTagging, ...) reads."""
    key = params["Key"]
    names.check_key(key)
    bucket = b.store.bucket(params["Bucket"])
    return bucket, lookup(bucket, key, params.get("VersionId"), SUB_GET)


def update_subresource(b: Backend, params: Params, method: str,
                       change: Callable[[Bucket, ObjectVersion], ObjectVersion]) -> Params:
    """A subresource write (PutObjectTagging, PutObjectAcl, ...): the version the request names
    is swapped for ``change(bucket, version)`` under the key's lock (model.Bucket.update_version),
    with no new version ID, ETag or Last-Modified. Answers the version ID where S3 shows it."""
    key = params["Key"]
    names.check_key(key)
    bucket = b.store.bucket(params["Bucket"])
    version_id = params.get("VersionId")
    check_version_id(bucket, version_id)
    updated = bucket.update_version(key, picker(key, version_id, method),
                                    lambda version: change(bucket, version))
    return add_version_id({}, bucket, updated)


# -- deletes --------------------------------------------------------------------------------


def delete(bucket: Bucket, key: str, version_id: str | None, check: Check | None,
           ctx: RequestContext, protect: Callable[[ObjectVersion], None] | None = None) -> Params:
    """A DeleteObject (or one key of DeleteObjects): what S3 answers, as DeleteObject's output.
    ``protect`` may refuse the permanent delete of a version (Object Lock: object_lock.guard)."""
    if version_id is None:
        # The marker is made only if the bucket is versioned when the delete is published.
        done = bucket.delete(key, check, lambda: delete_marker(key, Owner.for_account(ctx.account_id),
                                                              ctx.now))
        if done.marker is None:
            return {}
        return {"DeleteMarker": True, "VersionId": done.marker.version_id}
    check_version_id(bucket, version_id)
    removed = bucket.delete_version(key, version_id, check, protect)
    out: Params = {"VersionId": version_id}
    if removed is not None and removed.delete_marker:
        out["DeleteMarker"] = True
    return out


def deleted_entry(key: str, version_id: str | None, result: Mapping[str, Any]) -> Params:
    """One <Deleted> element of DeleteObjects from what ``delete`` answered."""
    entry: Params = {"Key": key}
    if version_id is not None:
        entry["VersionId"] = version_id
    if result.get("DeleteMarker"):
        entry["DeleteMarker"] = True
        entry["DeleteMarkerVersionId"] = result["VersionId"]
    return entry
