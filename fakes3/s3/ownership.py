"""S3 Object Ownership and bucket-level Block Public Access, as the S3 User Guide gives them.

Object Ownership ("Controlling ownership of objects and disabling ACLs for your bucket"):

* ``BucketOwnerEnforced`` (the default for new buckets since April 2023): ACLs are disabled. They
  no longer grant anything; the bucket owner owns every object; reading an ACL shows the bucket
  owner's FULL_CONTROL. A request that sets an ACL is 400 AccessControlListNotSupported "The bucket
  does not allow ACLs", unless it gives only bucket owner full control (the canned
  ``bucket-owner-full-control``, or grants of FULL_CONTROL to the bucket owner alone; for a bucket,
  ``private`` too). CreateBucket (and PutBucketOwnershipControls) with a bucket ACL that grants
  anyone else is 400 InvalidBucketAclWithObjectOwnership.
* ``BucketOwnerPreferred``: ACLs work; an object written with the canned ``bucket-owner-full-control``
  belongs to the bucket owner.
* ``ObjectWriter`` (and no ownership controls at all): ACLs work; the writer owns what it writes.

Block Public Access (PublicAccessBlockConfiguration, "Blocking public access to your Amazon S3
storage"); all four are on for new buckets since April 2023:

* ``BlockPublicAcls``: a request that sets a public ACL (a grant to AllUsers or
  AuthenticatedUsers) is 403 AccessDenied: PutBucketAcl, PutObjectAcl, PutObject (and CopyObject,
  CreateMultipartUpload, POST uploads), CreateBucket.
* ``IgnorePublicAcls``: public grants of existing ACLs give nothing.
* ``BlockPublicPolicy``: PutBucketPolicy with a public policy (an Allow to ``"*"``) is 403.
* ``RestrictPublicBuckets``: while the bucket policy is public, it allows nothing to anyone outside
  the bucket owner's account.

A bucket whose settings say None for either (one read back from a data dir written before fakes3
had them) behaves as buckets did before: ACLs enabled, nothing blocked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakes3.context import RequestContext
from fakes3.errors import S3Error
from fakes3.s3 import acl, errors
from fakes3.s3.model import Backend, Bucket, Owner, PublicAccessBlock

Params = dict[str, Any]

ENFORCED, PREFERRED, WRITER = "BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"
OWNERSHIPS = (ENFORCED, PREFERRED, WRITER)
ALL_BLOCKED = PublicAccessBlock(True, True, True, True)
OWNER_FULL_CONTROL = "bucket-owner-full-control"

# PublicAccessBlockConfiguration member -> PublicAccessBlock field
_BPA_FIELDS = {
    "BlockPublicAcls": "block_public_acls",
    "IgnorePublicAcls": "ignore_public_acls",
    "BlockPublicPolicy": "block_public_policy",
    "RestrictPublicBuckets": "restrict_public_buckets",
}


# -- errors ---------------------------------------------------------------------------------------


def acls_not_supported() -> S3Error:
    return S3Error("AccessControlListNotSupported", "The bucket does not allow ACLs: its Object "
                   "Ownership is BucketOwnerEnforced. Send no ACL (or bucket-owner-full-control), or "
                   "put_bucket_ownership_controls with ObjectWriter or BucketOwnerPreferred first.", 400)


def acl_with_enforced_ownership() -> S3Error:
    return S3Error("InvalidBucketAclWithObjectOwnership", "Bucket cannot have ACLs set with "
                   "ObjectOwnership's BucketOwnerEnforced setting. Send no bucket ACL (or private), "
                   "or ask for ObjectOwnership ObjectWriter or BucketOwnerPreferred.", 400)


def blocked(setting: str, what: str) -> S3Error:
    return S3Error("AccessDenied", f"Access Denied: {what} are blocked by this bucket's {setting} "
                   f"Block Public Access setting. Call put_public_access_block with {setting}=False "
                   "(or delete_public_access_block) first.", 403)


# -- checks on requests that set ACLs -------------------------------------------------------------


def _owner_full_control_only(grants: acl.Acl, bucket_owner_id: str) -> bool:
    return all(grant == ("id", bucket_owner_id, acl.FULL_CONTROL) for grant in grants)


def check_object_acl(bucket: Bucket, params: Mapping[str, Any], grants: acl.Acl) -> None:
    """An ACL a write asks for (PutObject, CopyObject, CreateMultipartUpload, PutObjectAcl)."""
    if bucket.object_ownership == ENFORCED:
        name = params.get("ACL")
        if name != OWNER_FULL_CONTROL and (
                name is not None or not _owner_full_control_only(grants, bucket.owner.id)):
            raise acls_not_supported()
    _check_public(bucket, grants)


def check_bucket_acl(bucket: Bucket, grants: acl.Acl) -> None:
    """A PutBucketAcl's ACL."""
    if bucket.object_ownership == ENFORCED and not _owner_full_control_only(grants, bucket.owner.id):
        raise acls_not_supported()
    _check_public(bucket, grants)


def check_new_bucket_acl(grants: acl.Acl, ownership: str, block: PublicAccessBlock, owner: Owner) -> None:
    """A CreateBucket's ACL, against the settings the new bucket gets."""
    if ownership == ENFORCED and not _owner_full_control_only(grants, owner.id):
        raise acl_with_enforced_ownership()
    if block.block_public_acls and acl.is_public(grants, owner.id):
        raise S3Error("AccessDenied", "Access Denied: a new bucket has every Block Public Access "
                      "setting on, BlockPublicAcls among them, so it cannot be created with a public "
                      "ACL. Create it without one, call delete_public_access_block, then put_bucket_acl.",
                      403)


def _check_public(bucket: Bucket, grants: acl.Acl) -> None:
    block = bucket.public_access_block
    if block is not None and block.block_public_acls and acl.is_public(grants, bucket.owner.id):
        raise blocked("BlockPublicAcls", "public ACLs")


def check_policy(bucket: Bucket, public: bool) -> None:
    """A PutBucketPolicy's policy (``public``: it allows something to everyone)."""
    block = bucket.public_access_block
    if public and block is not None and block.block_public_policy:
        raise blocked("BlockPublicPolicy", "public bucket policies")


def object_owner(bucket: Bucket, account_id: str, params: Mapping[str, Any]) -> Owner:
    """Who owns an object ``account_id`` writes to ``bucket`` (not its owner's account)."""
    ownership = bucket.object_ownership
    if ownership == ENFORCED or (ownership == PREFERRED and params.get("ACL") == OWNER_FULL_CONTROL):
        return bucket.owner
    return Owner.for_account(account_id)


def parse_ownership(value: Any, where: str) -> str:
    if value not in OWNERSHIPS:
        raise errors.invalid_argument(f"Invalid ObjectOwnership {value!r}: use one of "
                                      f"{', '.join(OWNERSHIPS)}.", where, value)
    return str(value)


# -- PutBucketOwnershipControls / Get / Delete ----------------------------------------------------


def put_bucket_ownership_controls(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    rules = (params.get("OwnershipControls") or {}).get("Rules") or []
    if len(rules) != 1:
        raise errors.malformed_xml("OwnershipControls needs exactly one Rule with an ObjectOwnership.")
    ownership = parse_ownership(rules[0].get("ObjectOwnership"), "ObjectOwnership")
    with bucket.lock:
        if ownership == ENFORCED and not _owner_full_control_only(
                acl.effective(bucket.acl, bucket.owner.id), bucket.owner.id):
            raise acl_with_enforced_ownership()
        bucket.object_ownership = ownership
    return {}


def get_bucket_ownership_controls(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    ownership = bucket.object_ownership
    if ownership is None:
        raise S3Error("OwnershipControlsNotFoundError", "The bucket ownership controls were not found",
                      404, fields={"BucketName": bucket.name})
    return {"OwnershipControls": {"Rules": [{"ObjectOwnership": ownership}]}}


def delete_bucket_ownership_controls(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    with bucket.lock:
        bucket.object_ownership = None  # as ObjectWriter: ACLs enabled, the writer owns
    return {}


# -- PutPublicAccessBlock / Get / Delete ----------------------------------------------------------


def put_public_access_block(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    given = params.get("PublicAccessBlockConfiguration") or {}
    block = PublicAccessBlock(**{field: bool(given.get(member, False))
                                 for member, field in _BPA_FIELDS.items()})
    with bucket.lock:
        bucket.public_access_block = block
    return {}


def get_public_access_block(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    block = bucket.public_access_block
    if block is None:
        raise S3Error("NoSuchPublicAccessBlockConfiguration",
                      "The public access block configuration was not found", 404,
                      fields={"BucketName": bucket.name})
    return {"PublicAccessBlockConfiguration": {member: getattr(block, field)
                                               for member, field in _BPA_FIELDS.items()}}


def delete_public_access_block(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    with bucket.lock:
        bucket.public_access_block = None
    return {}
