"""Bucket operations: CreateBucket, DeleteBucket, HeadBucket, ListBuckets, GetBucketLocation."""

from __future__ import annotations

from typing import Any

from fakes3.context import RequestContext
from fakes3.errors import S3Error
from fakes3.s3 import access, encryption, errors, names, object_lock, ownership, tokens
from fakes3.s3.model import Backend, Bucket, Owner

Params = dict[str, Any]


def create_bucket(b: Backend, params: Params, ctx: RequestContext) -> Params:
    name = params["Bucket"]
    names.check_bucket_name(name)
    config = params.get("CreateBucketConfiguration") or {}
    constraint = config.get("LocationConstraint") or None
    _check_location(constraint, ctx.region)
    # No constraint: the bucket lives in the endpoint's region (ctx.region). AWS's regional
    # endpoints refuse that outright; fakes3 serves every region from one endpoint, so it takes
    # the request's region as the default location instead.
    region = names.region_of(constraint) if constraint else ctx.region
    if constraint is None and region != "us-east-1":
        constraint = region
    owner = Owner.for_account(ctx.account_id)
    grants = access.bucket_acl(params, owner)  # x-amz-acl / x-amz-grant-*: checked before creating
    # AWS's defaults since April 2023: ACLs disabled and every Block Public Access setting on.
    object_ownership = _object_ownership(params)
    ownership.check_new_bucket_acl(grants, object_ownership, ownership.ALL_BLOCKED, owner)
    bucket = Bucket(
        b.store,
        name,
        owner=owner,
        account_id=ctx.account_id,
        location_constraint=constraint,
        region=region,
        created=ctx.now.replace(microsecond=0),
    )
    bucket.acl = grants
    bucket.object_ownership = object_ownership
    bucket.public_access_block = ownership.ALL_BLOCKED
    bucket.encryption = encryption.NEW_BUCKET
    if params.get("ObjectLockEnabledForBucket"):
        object_lock.enable_on_new_bucket(bucket)
    existing = b.store.add(bucket)
    if existing is not None:
        if existing.account_id != ctx.account_id:
            raise S3Error(
                "BucketAlreadyExists",
                "The requested bucket name is not available. The bucket namespace is shared by "
                "all users of the system. Please select a different name and try again.",
                409,
                fields={"BucketName": name},
            )
        # S3 answers 200 to an owner re-creating a us-east-1 bucket (legacy compatibility).
        if existing.region != "us-east-1":
            raise S3Error(
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already "
                "own it.",
                409,
                fields={"BucketName": name},
            )
        with existing.lock:  # ... and resets the bucket's ACL (CreateBucket, API reference)
            existing.acl = grants
    return {"Location": f"/{name}"}


def _object_ownership(params: Params) -> str:
    given = params.get("ObjectOwnership")
    if given is None:
        return ownership.ENFORCED
    return ownership.parse_ownership(given, "x-amz-object-ownership")


def _check_location(constraint: str | None, endpoint_region: str) -> None:
    if constraint is not None and (constraint == "us-east-1" or not names.is_location(constraint)):
        # S3 refuses an explicit us-east-1: that region is expressed by sending no constraint.
        hint = (" Send no LocationConstraint to create a bucket in us-east-1."
                if constraint == "us-east-1" else "")
        raise S3Error(
            "InvalidLocationConstraint",
            f"The specified location-constraint is not valid.{hint}",
            400,
            fields={"LocationConstraint": constraint},
        )
    # A regional endpoint only creates buckets in its own region; us-east-1 creates anywhere.
    if (constraint is not None and endpoint_region != "us-east-1"
            and names.region_of(constraint) != endpoint_region):
        raise S3Error(
            "IllegalLocationConstraintException",
            f"The {constraint} location constraint is incompatible for the region specific "
            f"endpoint this request was sent to. Send CreateBucketConfiguration."
            f"LocationConstraint={endpoint_region}, or send the request to {constraint}.",
            400,
        )


def delete_bucket(b: Backend, params: Params, ctx: RequestContext) -> Params:
    name = params["Bucket"]

    def refuse_if_not_empty(bucket: Bucket) -> None:
        if bucket.holds_versions():
            raise S3Error(
                "BucketNotEmpty",
                "The bucket you tried to delete is not empty. Delete every object (and object "
                "version) first.",
                409,
                fields={"BucketName": name},
            )

    b.store.remove(name, refuse_if_not_empty)
    return {}


def head_bucket(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    return {"BucketRegion": bucket.region, "AccessPointAlias": False}


def get_bucket_location(b: Backend, params: Params, ctx: RequestContext) -> Params:
    bucket = b.store.bucket(params["Bucket"])
    # us-east-1 buckets have no constraint; "EU" stays "EU", as S3 reports it.
    return {"LocationConstraint": bucket.location_constraint}


def list_buckets(b: Backend, params: Params, ctx: RequestContext) -> Params:
    prefix = params.get("Prefix") or ""
    region = params.get("BucketRegion")
    max_buckets = params.get("MaxBuckets")
    if max_buckets is not None and not 1 <= int(max_buckets) <= 10000:
        raise errors.invalid_argument(
            "MaxBuckets must be an integer between 1 and 10000.", "max-buckets", max_buckets
        )
    scope = f"ListBuckets/{ctx.account_id}"
    after = None
    if params.get("ContinuationToken"):
        after = tokens.decode(scope, params["ContinuationToken"])
    # The account's own buckets only, as S3 does; sorted by name.
    mine = sorted(
        (bk for bk in b.store.all()
         if bk.account_id == ctx.account_id and bk.name.startswith(prefix)
         and (region is None or bk.region == region) and (after is None or bk.name > after)),
        key=lambda bk: bk.name,
    )
    page = mine if max_buckets is None else mine[: int(max_buckets)]
    out: Params = {
        "Buckets": [
            {"Name": bk.name, "CreationDate": bk.created, "BucketRegion": bk.region} for bk in page
        ],
        "Owner": Owner.for_account(ctx.account_id).to_dict(),
    }
    if len(page) < len(mine):
        out["ContinuationToken"] = tokens.encode(scope, page[-1].name)
    if params.get("Prefix") is not None:
        out["Prefix"] = prefix
    return out
