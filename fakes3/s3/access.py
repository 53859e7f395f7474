"""Who may do what: bucket owners, public access through ACLs and bucket policies, other accounts.

``AccessControl.may_proceed`` is the decision the protocol layer asks for every S3 request in
``strict`` mode (see ``fakes3.auth.anonymous``), before the operation runs:

* The bucket's owner (the account that created it) may do anything, unless the bucket policy has
  a Deny that names it (a Deny to ``"*"`` locks the owner out too, as on AWS; the owner can always
  read, replace and delete the policy itself).
* Anyone else, signed by another account or unsigned ("anonymous"), needs a grant: a bucket policy
  Allow for the operation's action on the bucket's or the object's ARN that no Deny overrides, or an
  ACL grant (AllUsers for anyone, AuthenticatedUsers for any signed account, a canonical user ID
  for one account). Bucket ACL READ lets them list; WRITE lets them put and delete objects; the
  object's own ACL READ lets them read it (a ``public-read`` bucket lists its keys but does not
  publish its objects, as on AWS: give the objects ``public-read`` or allow ``s3:GetObject``).
* A policy statement with a ``Condition`` applies only when its conditions hold for the request
  (policy_conditions.py: aws:SourceIp, aws:SecureTransport, s3:prefix, ...); the request's keys
  are built only when such a statement is reached, from ``ctx`` and ``query`` (the protocol layer
  passes them; without them a request has only the keys fakes3 knows without it).
* Object Ownership and Block Public Access (ownership.py) narrow both: with BucketOwnerEnforced
  ACLs grant nothing; IgnorePublicAcls drops the public grants of ACLs; RestrictPublicBuckets drops
  what a public policy allows. None of it touches the owner's fast path.
* A missing bucket is answered 404 NoSuchBucket to anyone, as S3 does. A missing key is 404 only
  to a caller who may list the bucket; to anyone else it is 403, so that keys do not leak.
* CreateBucket and ListBuckets need a signature; CopyObject and UploadPartCopy also need read
  access to their source.

``open`` mode checks nothing (FakeAWS builds no AccessControl then).

The operations here: Put/GetBucketAcl, Put/GetObjectAcl, Put/Get/DeleteBucketPolicy and
GetBucketPolicyStatus.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote

from fakes3.auth.anonymous import ANONYMOUS
from fakes3.context import RequestContext
from fakes3.errors import S3Error
from fakes3.s3 import acl, bucket_policy, ownership, policy_conditions, versioning
from fakes3.s3.acl import READ, READ_ACP, WRITE, WRITE_ACP
from fakes3.s3.bucket_policy import KeysFactory
from fakes3.s3.model import Backend, Bucket, ObjectVersion, Owner, Store

Params = dict[str, Any]


@dataclass(frozen=True)
class Need:
    """What an operation needs from a caller who does not own the bucket."""

    action: str
    on_object: bool  # the object's ARN (else the bucket's)
    acl: str | None = None  # the ACL permission that grants it too
    object_acl: bool = False  # held on the object's ACL (else the bucket's)
    versioned: str | None = None  # the action when the request names a version


_GET = Need("s3:GetObject", True, READ, True, "s3:GetObjectVersion")
_PUT = Need("s3:PutObject", True, WRITE)
_LIST = Need("s3:ListBucket", False, READ)
NEEDS: dict[str, Need] = {
    "GetObject": _GET,
    "HeadObject": _GET,
    "PutObject": _PUT,
    "PostObject": _PUT,
    "CopyObject": _PUT,
    "CreateMultipartUpload": _PUT,
    "UploadPart": _PUT,
    "UploadPartCopy": _PUT,
    "CompleteMultipartUpload": _PUT,
    "AbortMultipartUpload": Need("s3:AbortMultipartUpload", True, WRITE),
    "ListParts": Need("s3:ListMultipartUploadParts", True, READ),
    # S3 also wants s3:GetObject (s3:GetObjectVersion) for it; one action is checked here.
    "GetObjectAttributes": Need("s3:GetObjectAttributes", True, READ, True,
                                "s3:GetObjectVersionAttributes"),
    "PutObjectRetention": Need("s3:PutObjectRetention", True),
    "GetObjectRetention": Need("s3:GetObjectRetention", True),
    "PutObjectLegalHold": Need("s3:PutObjectLegalHold", True),
    "GetObjectLegalHold": Need("s3:GetObjectLegalHold", True),
    "DeleteObject": Need("s3:DeleteObject", True, WRITE, versioned="s3:DeleteObjectVersion"),
    "DeleteObjects": Need("s3:DeleteObject", True, WRITE),
    "GetObjectAcl": Need("s3:GetObjectAcl", True, READ_ACP, True, "s3:GetObjectVersionAcl"),
    "PutObjectAcl": Need("s3:PutObjectAcl", True, WRITE_ACP, True, "s3:PutObjectVersionAcl"),
    "GetObjectTagging": Need("s3:GetObjectTagging", True, versioned="s3:GetObjectVersionTagging"),
    "PutObjectTagging": Need("s3:PutObjectTagging", True, versioned="s3:PutObjectVersionTagging"),
    "DeleteObjectTagging": Need("s3:DeleteObjectTagging", True,
                                versioned="s3:DeleteObjectVersionTagging"),
    "ListObjects": _LIST,
    "ListObjectsV2": _LIST,
    "HeadBucket": _LIST,
    "ListObjectVersions": Need("s3:ListBucketVersions", False, READ),
    "ListMultipartUploads": Need("s3:ListBucketMultipartUploads", False, READ),
    "GetBucketLocation": Need("s3:GetBucketLocation", False),
    "GetBucketAcl": Need("s3:GetBucketAcl", False, READ_ACP),
    "PutBucketAcl": Need("s3:PutBucketAcl", False, WRITE_ACP),
    "GetBucketVersioning": Need("s3:GetBucketVersioning", False),
    "PutBucketVersioning": Need("s3:PutBucketVersioning", False),
    "GetBucketTagging": Need("s3:GetBucketTagging", False),
    "PutBucketTagging": Need("s3:PutBucketTagging", False),
    "DeleteBucketTagging": Need("s3:PutBucketTagging", False),
    "DeleteBucket": Need("s3:DeleteBucket", False),
    "PutObjectLockConfiguration": Need("s3:PutBucketObjectLockConfiguration", False),
    "GetObjectLockConfiguration": Need("s3:GetBucketObjectLockConfiguration", False),
}
# Only the owner, always (AWS lets the bucket owner's root user manage the policy even when it
# denies everything else).
OWNER_ONLY = frozenset({"PutBucketPolicy", "GetBucketPolicy", "DeleteBucketPolicy",
                        "GetBucketPolicyStatus"})
SIGNED_ONLY = frozenset({"CreateBucket", "ListBuckets", "ListDirectoryBuckets"})


class HasStore(Protocol):
    store: Store


class AccessControl:
    """The access decision for one S3 service (``fakes3.auth.anonymous.AccessPolicy``)."""

    def __init__(self, service: HasStore) -> None:
        self._service = service  # read .store on every call: the store may be replaced (persistence)

    def may_proceed(self, account_id: str, operation: str, bucket: str | None, key: str | None, *,
                    version_id: str | None = None, copy_source: str | None = None,
                    ctx: RequestContext | None = None, query: Mapping[str, str] | None = None) -> bool:
        """``ctx`` and ``query`` (the request's query parameters) give policy conditions their keys."""
        if bucket is None or operation in SIGNED_ONLY:
            return account_id != ANONYMOUS
        found = self._service.store.buckets.get(bucket)  # one atomic read (see Store.bucket)
        if found is None:
            return True  # the operation answers 404 NoSuchBucket, to anyone
        if not self._allowed(found, account_id, operation, key, version_id, ctx, query):
            return False
        if copy_source is not None:
            source = _parse_copy_source(copy_source)
            if source is not None:
                return self.may_proceed(account_id, "GetObject", source[0], source[1],
                                        version_id=source[2], ctx=ctx, query=query)
        return True

    def _allowed(self, bucket: Bucket, account_id: str, operation: str, key: str | None,
                 version_id: str | None, ctx: RequestContext | None = None,
                 query: Mapping[str, str] | None = None) -> bool:
        owner = account_id == bucket.account_id
        if owner and (bucket.policy is None or operation in OWNER_ONLY):
            # The owner, with no bucket policy to deny it anything: every need below would end in
            # True (an owner reading a missing key is never hidden from it).
            return True
        need = NEEDS.get(operation)
        policy = bucket_policy.compiled(bucket.policy, bucket.name) if bucket.policy else None
        caller = None if account_id == ANONYMOUS else account_id
        if need is None:
            return owner
        action = need.versioned if version_id is not None and need.versioned else need.action
        keys = None if policy is None else _condition_keys(bucket, caller, operation, key,
                                                           version_id, ctx, query)
        if policy is None:
            verdict = None
        elif need.on_object and key is None:  # DeleteObjects: every key at once
            verdict = policy.decide_every_key(caller, action, bucket.name, keys)
        else:
            verdict = policy.decide(caller, action, _arn(bucket.name, key if need.on_object else None),
                                    keys)
        if verdict == "Allow" and _restricted(bucket, policy):
            verdict = None
        if verdict == "Deny":
            return False
        if owner or verdict == "Allow":
            return not (need.acl == READ and need.object_acl and self._hidden_missing_key(
                bucket, policy, caller, key, version_id, keys))
        if need.acl is None:
            return False
        caller_id = None if caller is None else Owner.for_account(caller).id
        if not need.object_acl:
            return _acl_permits(bucket, bucket.acl, bucket.owner.id, caller_id, need.acl)
        version = _version(bucket, key, version_id)
        if version is None:  # no object to hold an ACL: 404 to those who may list, else 403
            return self._may_list(bucket, policy, caller, keys)
        return _acl_permits(bucket, version.acl, version.owner.id, caller_id, need.acl)

    def _hidden_missing_key(self, bucket: Bucket, policy: bucket_policy.Policy | None,
                            caller: str | None, key: str | None, version_id: str | None,
                            keys: KeysFactory = None) -> bool:
        """A read allowed by policy of a key that does not exist: S3 answers 403 unless the caller
        may also list the bucket (the owner always may)."""
        if caller == bucket.account_id or key is None:
            return False
        return (_version(bucket, key, version_id) is None
                and not self._may_list(bucket, policy, caller, keys))

    @staticmethod
    def _may_list(bucket: Bucket, policy: bucket_policy.Policy | None, caller: str | None,
                  keys: KeysFactory = None) -> bool:
        arn = _arn(bucket.name, None)
        verdict = policy.decide(caller, "s3:ListBucket", arn, keys) if policy else None
        if verdict == "Allow" and _restricted(bucket, policy):
            verdict = None
        if verdict is not None:
            return verdict == "Allow"
        caller_id = None if caller is None else Owner.for_account(caller).id
        return _acl_permits(bucket, bucket.acl, bucket.owner.id, caller_id, READ)


def _condition_keys(bucket: Bucket, caller: str | None, operation: str, key: str | None,
                    version_id: str | None, ctx: RequestContext | None,
                    query: Mapping[str, str] | None) -> KeysFactory:
    """The request's condition keys, built only if a statement with a Condition is reached."""

    def build() -> policy_conditions.RequestKeys:
        def existing_tags() -> Mapping[str, str] | None:
            version = _version(bucket, key, version_id)
            return None if version is None else version.tags

        def now() -> dt.datetime:
            return ctx.now if ctx is not None else dt.datetime.now(dt.UTC)

        return policy_conditions.RequestKeys(policy_conditions.Request(
            account_id=caller, operation=operation,
            headers={} if ctx is None else ctx.headers, query={} if query is None else query,
            connection="" if ctx is None else ctx.connection, now=now, existing_tags=existing_tags))

    return build


def _restricted(bucket: Bucket, policy: bucket_policy.Policy | None) -> bool:
    """RestrictPublicBuckets: a public policy allows nothing outside the owner's account."""
    block = bucket.public_access_block
    return block is not None and block.restrict_public_buckets and policy is not None and policy.is_public


def _acl_permits(bucket: Bucket, grants: acl.Acl, owner_id: str, caller_id: str | None,
                 permission: str) -> bool:
    """An ACL's grant, as the bucket's Object Ownership and Block Public Access let it count."""
    if bucket.object_ownership == ownership.ENFORCED:
        return False  # ACLs disabled: they grant nothing
    block = bucket.public_access_block
    ignore_public = block is not None and block.ignore_public_acls
    return acl.permits(grants, owner_id, caller_id, permission, ignore_public=ignore_public)


def _arn(bucket: str, key: str | None) -> str:
    return f"{bucket_policy.ARN_PREFIX}{bucket}" + ("" if key is None else f"/{key}")


def _version(bucket: Bucket, key: str | None, version_id: str | None) -> ObjectVersion | None:
    if key is None:
        return None
    if version_id is None:
        return bucket.get(key)
    return next((v for v in bucket.history(key) if v.version_id == version_id and not v.delete_marker),
                None)


def _parse_copy_source(header: str) -> tuple[str, str, str | None] | None:
    path, _, query = header.partition("?")
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    if not bucket or not key:
        return None  # the operation reports the malformed header
    version = query[len("versionId="):] if query.startswith("versionId=") else None
    return bucket, key, version


# -- object ACLs on writes ------------------------------------------------------------------------


def object_acl(bucket: Bucket, params: Params, ctx: RequestContext) -> acl.Acl:
    """The ACL a new object gets from its PutObject (x-amz-acl, x-amz-grant-*): () when none.
    Raises what Object Ownership and Block Public Access say about the ACL asked for."""
    if acl.ACL_PARAMS.isdisjoint(params):  # the common PUT: no ACL asked for
        return ()
    given = acl.from_request(params, Owner.for_account(ctx.account_id).id, for_bucket=False,
                             bucket_owner_id=bucket.owner.id)
    if given is None:
        return ()
    ownership.check_object_acl(bucket, params, given)
    return () if bucket.object_ownership == ownership.ENFORCED else given


def object_owner(bucket: Bucket, params: Params, ctx: RequestContext) -> Owner:
    """The owner of an object the request writes: the bucket owner's own writes stay cheap."""
    if ctx.account_id == bucket.account_id:
        return bucket.owner
    return ownership.object_owner(bucket, ctx.account_id, params)


# -- bucket ACLs ----------------------------------------------------------------------------------


def bucket_acl(params: Params, owner: Owner) -> acl.Acl:
    """The ACL a CreateBucket asks for: () (private) when none."""
    given = acl.from_request(params, owner.id, for_bucket=True)
    return given if given is not None else ()


def put_bucket_acl(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    grants = acl.required(params, bucket.owner.id, for_bucket=True)
    ownership.check_bucket_acl(bucket, acl.effective(grants, bucket.owner.id))
    with bucket.lock:
        bucket.acl = grants
    return {}


def get_bucket_acl(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    with bucket.lock:
        grants = () if bucket.object_ownership == ownership.ENFORCED else bucket.acl
    return acl.document(grants, bucket.owner)


def put_object_acl(b: Backend, params: Params, ctx: RequestContext) -> Params:
    def change(bucket: Bucket, version: ObjectVersion) -> ObjectVersion:
        grants = acl.required(params, version.owner.id, for_bucket=False, bucket_owner_id=bucket.owner.id)
        ownership.check_object_acl(bucket, params, acl.effective(grants, version.owner.id))
        enforced = bucket.object_ownership == ownership.ENFORCED  # ACLs disabled: none kept
        return dataclasses.replace(version, acl=() if enforced else grants)

    return versioning.update_subresource(b, params, versioning.SUB_PUT, change)


def get_object_acl(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket, version = versioning.subresource_version(b, params)
    if bucket.object_ownership == ownership.ENFORCED:  # the bucket owner owns it, whatever its ACL
        return acl.document((), bucket.owner)
    return acl.document(version.acl, version.owner)


# -- bucket policies ------------------------------------------------------------------------------


def _no_policy(bucket: str) -> S3Error:
    return S3Error("NoSuchBucketPolicy", "The bucket policy does not exist", 404,
                   fields={"BucketName": bucket})


def put_bucket_policy(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    text = params.get("Policy")
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not text:
        raise bucket_policy.malformed("Missing required field Statement")
    compiled = bucket_policy.compiled(text, bucket.name)  # validates; raises MalformedPolicy
    ownership.check_policy(bucket, compiled.is_public)
    with bucket.lock:
        bucket.policy = text
    return {}


def _policy_text(bucket: Bucket) -> str:
    """The bucket's policy as it was put, or 404 NoSuchBucketPolicy."""
    with bucket.lock:
        text = bucket.policy
    if text is None:
        raise _no_policy(bucket.name)
    return text


def get_bucket_policy(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    return {"Policy": _policy_text(bucket)}


def delete_bucket_policy(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    with bucket.lock:
        bucket.policy = None
    return {}


def get_bucket_policy_status(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    policy = bucket_policy.compiled(_policy_text(bucket), bucket.name)
    return {"PolicyStatus": {"IsPublic": policy.is_public}}

